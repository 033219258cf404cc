/** The retention domain's records: what a sweep deleted, and what an endpoint holds. */

/** the tables the sweeper deletes from */
export const SWEPT_TABLES = [
  'Capture',
  'DebugStep',
  'Tensor',
  'MonitoringExecution',
  'Violation',
  'Metric',
  'MonitoringSchedule',
  'Baseline',
  'Endpoint',
] as const;
export type SweptTable = (typeof SWEPT_TABLES)[number];

/** one sweep: rows deleted per table, and how many DELETE statements it took, each of at most batchSize rows */
export interface SweepReport {
  deleted: Record<SweptTable, number>;
  /** DELETE statements run */
  statements: number;
  /** the most rows one DELETE statement removed: at most the batch size */
  largestStatement: number;
  /** set when the sweep stopped early (shutdown) */
  interrupted: boolean;
}

/** the rows and bytes one endpoint holds */
export interface StorageUsage {
  captures: { count: number; bytes: number };
  debugSteps: number;
  tensors: { count: number; bytes: number };
  executions: number;
}

export const EMPTY_USAGE: StorageUsage = {
  captures: { count: 0, bytes: 0 },
  debugSteps: 0,
  tensors: { count: 0, bytes: 0 },
  executions: 0,
};
