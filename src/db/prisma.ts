/**
 * What the domains know of Prisma: the client type (`Db`), the `Prisma` namespace (tagged SQL,
 * `Prisma.join`, where-input types), the table rows their stores map, and the unique-key check. Only
 * this module, db/client.ts and the db tooling import the generated clients: both clients have the
 * same model API, so the SQLite one's types serve PostgreSQL too.
 */
import type { PrismaClient } from '../generated/sqlite/client.ts';

export type {
  Adversarial as AdversarialRow,
  ApiKey as ApiKeyRow,
  Baseline as BaselineRow,
  Capture as CaptureRow,
  Endpoint as EndpointRow,
  MonitoringExecution as ExecutionRow,
  MonitoringSchedule as ScheduleRow,
} from '../generated/sqlite/client.ts';
export { Prisma } from '../generated/sqlite/client.ts';

export type Db = PrismaClient;

/** Prisma's P2002: an INSERT or UPDATE met a row with the same unique key */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
