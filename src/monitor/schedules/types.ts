/** A schedule's record, independent of Prisma and GraphQL. */
import type { ChecksConfig } from '../checks/types.ts';

export interface ScheduleRecord {
  id: string;
  name: string;
  endpointId: string;
  endpointName: string;
  model: string;
  cron: string;
  checks: ChecksConfig;
  baselineId: string | null;
  /** null while paused */
  nextRunAt: Date | null;
  /** set while paused: the scheduler does not run it */
  pausedAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** days executions (with violations and metrics) are kept; null: for ever */
  executionRetentionDays: number | null;
  createdAt: Date;
  updatedAt: Date;
}
