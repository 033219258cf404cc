/**
 * The rows of every table, for tests that assert a request wrote nothing (the hostile-input corpus, the
 * role matrix). The return type names every Prisma model: a new model is a compile error here until it
 * is counted, so no test's "nothing written" can miss a table.
 */
import type { Db, Prisma } from '../../src/db/prisma.ts';

export type RowCounts = Record<Prisma.ModelName, number>;

export async function rowCounts(prisma: Db): Promise<RowCounts> {
  const [
    Endpoint,
    Capture,
    GroundTruth,
    DebugStep,
    Tensor,
    Baseline,
    MonitoringSchedule,
    MonitoringExecution,
    Violation,
    Metric,
    ApiKey,
    AlertChannel,
    AlertDelivery,
    AlertDeliveryAttempt,
    Adversarial,
  ] = await Promise.all([
    prisma.endpoint.count(),
    prisma.capture.count(),
    prisma.groundTruth.count(),
    prisma.debugStep.count(),
    prisma.tensor.count(),
    prisma.baseline.count(),
    prisma.monitoringSchedule.count(),
    prisma.monitoringExecution.count(),
    prisma.violation.count(),
    prisma.metric.count(),
    prisma.apiKey.count(),
    prisma.alertChannel.count(),
    prisma.alertDelivery.count(),
    prisma.alertDeliveryAttempt.count(),
    prisma.adversarial.count(),
  ]);
  return {
    Endpoint,
    Capture,
    GroundTruth,
    DebugStep,
    Tensor,
    Baseline,
    MonitoringSchedule,
    MonitoringExecution,
    Violation,
    Metric,
    ApiKey,
    AlertChannel,
    AlertDelivery,
    AlertDeliveryAttempt,
    Adversarial,
  };
}
