/** The alert an execution with violations publishes. */
import type { Violation } from '../checks/types.ts';
import type { ExecutionStatus } from '../executions/types.ts';

/** the `monitorAlert` event: JSON-safe (it crosses Redis between replicas) */
export interface MonitorAlert {
  endpoint: string;
  schedule: string;
  executionId: string;
  status: ExecutionStatus;
  message: string | null;
  windowStart: string;
  windowEnd: string;
  recordCount: number;
  violations: Violation[];
  at: string;
}
