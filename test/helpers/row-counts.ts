/**
 * The rows of every table, for tests that assert a request wrote nothing (the hostile-input corpus, the
 * role matrix). The return type names every Prisma model: a new model is a compile error here until it
 * is counted, so no test's "nothing written" can miss a table.
 */
import type { Db, Prisma } from '../../src/db/prisma.ts';

export type RowCounts = Record<Prisma.ModelName, number>;

export async function rowCounts(prisma: Db): Promise<RowCounts> {
  // one after the other: SQLite answers them on one connection anyway
  return {
    Endpoint: await prisma.endpoint.count(),
    Capture: await prisma.capture.count(),
    GroundTruth: await prisma.groundTruth.count(),
    DebugStep: await prisma.debugStep.count(),
    Tensor: await prisma.tensor.count(),
    Baseline: await prisma.baseline.count(),
    MonitoringSchedule: await prisma.monitoringSchedule.count(),
    MonitoringExecution: await prisma.monitoringExecution.count(),
    Violation: await prisma.violation.count(),
    Metric: await prisma.metric.count(),
    ApiKey: await prisma.apiKey.count(),
    AlertChannel: await prisma.alertChannel.count(),
    AlertDelivery: await prisma.alertDelivery.count(),
    AlertDeliveryAttempt: await prisma.alertDeliveryAttempt.count(),
    Adversarial: await prisma.adversarial.count(),
  };
}
