/**
 * What a failed database call says about the database, read from the driver adapter's error (Prisma
 * puts it in `meta.driverAdapterError.cause`: a `kind`, and the driver's own code). Three answers:
 * - `unreachable`: the database as a whole takes no writes now (the server restarting or down, the
 *   connection lost, a lock held by another writer beyond the lock timeout, too many connections).
 *   Every other request would meet the same fault, so nothing is retried: the requests fail with
 *   UNAVAILABLE and the client sends them again later.
 * - `full`: the storage is full (SQLite's SQLITE_FULL, also `max_page_count`; PostgreSQL's disk_full).
 *   Not the client's fault either: UNAVAILABLE, with a longer Retry-After (an operator must act); a
 *   smaller write may still fit, so a group commit retries its requests one by one.
 * - `rows`: the rows themselves were refused (a constraint: an endpoint deleted while its request was
 *   in flight), a deadlock, or a cause unknown; a group commit retries its requests one by one, so that
 *   only the request at fault fails.
 */
import { UnavailableError } from '../errors.ts';

export type WriteFault = 'unreachable' | 'full' | 'rows';

/** seconds a client waits before sending a request again */
const RETRY_AFTER_SECONDS: Record<Exclude<WriteFault, 'rows'>, number> = { unreachable: 5, full: 60 };

/** the driver adapter's mapped error, as Prisma attaches it */
interface AdapterCause {
  kind?: string;
  /** the driver's code: a PostgreSQL SQLSTATE, or SQLite's `SQLITE_…` name */
  originalCode?: string;
  originalMessage?: string;
  code?: string;
}

/** Prisma's codes of connection-level failures (P1001 unreachable, P1008 timed out, P1017 closed, …) */
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2037']);
/** driver-adapter kinds of the same */
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout', // SQLite's SQLITE_BUSY maps here too
  'TooManyConnections',
  'TransactionAlreadyClosed',
]);
/** PostgreSQL SQLSTATEs that mean "not now" (classes 08 and 57P0x are matched by prefix below) */
const UNREACHABLE_SQLSTATES = new Set([
  '53300', // too_many_connections
  '55P03', // lock_not_available: a lock held beyond lock_timeout
  '57014', // query_canceled (statement timeout)
]);
const FULL_SQLSTATES = new Set(['53100', '53200']); // disk_full, out_of_memory

/** messages of failures that carry no code: node-postgres's own, when a socket dies under a query */
const UNREACHABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Transaction already closed',
];

function adapterCause(error: unknown): AdapterCause | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const meta = (error as { meta?: { driverAdapterError?: { cause?: unknown } } }).meta;
  const cause = meta?.driverAdapterError?.cause ?? (error as { cause?: unknown }).cause;
  return typeof cause === 'object' && cause !== null ? (cause as AdapterCause) : undefined;
}

function prismaCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** how a failed write is handled (see the module's comment) */
export function writeFault(error: unknown): WriteFault {
  if (error instanceof UnavailableError) return 'unreachable';
  const cause = adapterCause(error);
  const driverCode = cause?.originalCode ?? cause?.code ?? '';
  if (driverCode === 'SQLITE_FULL' || FULL_SQLSTATES.has(driverCode)) return 'full';
  if (cause?.kind && UNREACHABLE_KINDS.has(cause.kind)) return 'unreachable';
  if (driverCode.startsWith('SQLITE_BUSY') || driverCode.startsWith('SQLITE_LOCKED')) return 'unreachable';
  if (driverCode.startsWith('08') || driverCode.startsWith('57P0') || UNREACHABLE_SQLSTATES.has(driverCode))
    return 'unreachable';
  const code = prismaCode(error);
  if (code && UNREACHABLE_PRISMA_CODES.has(code)) return 'unreachable';
  const message = error instanceof Error ? error.message : '';
  if (UNREACHABLE_MESSAGES.some((m) => message.includes(m))) return 'unreachable';
  return 'rows';
}

/** the client's view of a database fault: UnavailableError, or undefined when the fault is the rows' own */
export function asUnavailable(error: unknown): UnavailableError | undefined {
  if (error instanceof UnavailableError) return error;
  const fault = writeFault(error);
  if (fault === 'unreachable') {
    return new UnavailableError(
      'The database is unreachable or locked by another writer: nothing of this request was stored; send it again shortly',
      RETRY_AFTER_SECONDS.unreachable,
    );
  }
  if (fault === 'full') {
    return new UnavailableError(
      "The database's storage is full: nothing of this request was stored until an operator frees space",
      RETRY_AFTER_SECONDS.full,
    );
  }
  return undefined;
}

/** a caught error as the client should see it: UnavailableError for a database fault, else unchanged */
export function unavailableOr(error: unknown): unknown {
  return asUnavailable(error) ?? error;
}

/** a failure in one line for the log: the driver's code and message, without Prisma's invocation text and stack */
export function describeFault(error: unknown): string {
  const cause = adapterCause(error);
  const code = cause?.originalCode ?? cause?.kind ?? prismaCode(error);
  // Prisma's message opens with the invocation; its last line is the database's answer
  const text = error instanceof Error ? error.message : String(error);
  const message = cause?.originalMessage ?? text.split('\n').findLast((line) => line.trim() !== '') ?? text;
  return code ? `${code}: ${message}` : message;
}

/** an INSERT named a row that does not exist (an endpoint deleted while its request was in flight) */
export function isForeignKeyViolation(error: unknown): boolean {
  const cause = adapterCause(error);
  return (
    prismaCode(error) === 'P2003' ||
    cause?.kind === 'ForeignKeyConstraintViolation' ||
    cause?.originalCode === '23503' ||
    cause?.originalCode === 'SQLITE_CONSTRAINT_FOREIGNKEY'
  );
}

/** an UPDATE or DELETE found no row to change (Prisma's P2025) */
export function isMissingRecord(error: unknown): boolean {
  return prismaCode(error) === 'P2025';
}
