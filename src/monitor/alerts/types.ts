/** The alert an execution with violations publishes. */
import type { Prisma } from '../../db/prisma.ts';
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

/**
 * Where an alert is queued for delivery (src/alerting): called inside the transaction that stores the
 * execution's result, so the alert's deliveries commit with it or not at all.
 */
export interface AlertOutbox {
  enqueue(tx: Prisma.TransactionClient, alert: MonitorAlert): Promise<unknown>;
}
