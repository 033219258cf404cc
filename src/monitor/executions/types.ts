/** An execution's record, independent of Prisma and GraphQL. */
import type { ExternalCheckRun } from '../checks/external/runner.ts';
import type { ModelQualityReport } from '../quality/report.ts';

export const EXECUTION_STATUSES = ['Pending', 'InProgress', 'Completed', 'CompletedWithViolations', 'Failed'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** AD_HOC: runMonitoringJob over a window given by the caller, outside any schedule */
export const EXECUTION_TRIGGERS = ['SCHEDULED', 'MANUAL', 'AD_HOC'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

export interface ExecutionRecord {
  id: string;
  /** null for an ad-hoc execution */
  scheduleId: string | null;
  scheduleName: string | null;
  endpointId: string;
  endpointName: string;
  model: string;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  /** inclusive */
  windowStart: Date;
  /** exclusive */
  windowEnd: Date;
  recordCount: number;
  classCounts: Record<string, number> | null;
  message: string | null;
  /** fewer captures than the minimum sample size: nothing was judged */
  insufficientData: boolean;
  /** the model-quality check's report; null when the check is off (or the run did not finish) */
  modelQuality: ModelQualityReport | null;
  /** the external checks' runs, in the schedule's order (empty when none ran) */
  externalChecks: ExternalCheckRun[];
  startedAt: Date;
  finishedAt: Date | null;
}
