/**
 * How a failed database call is classified (db/faults.ts), on the errors Prisma's driver adapters
 * throw, as captured from real failures: PostgreSQL stopped and restarted, SQLite locked and full, a
 * foreign key naming a deleted endpoint.
 */
import { describe, expect, it } from 'vitest';
import { asUnavailable, describeFault, isForeignKeyViolation, writeFault } from '../../src/db/faults.ts';
import { UnavailableError } from '../../src/errors.ts';

/** a Prisma error carrying the driver adapter's mapped cause, as Prisma 7 throws them */
function prismaError(code: string, cause: Record<string, unknown>): Error {
  return Object.assign(new Error('Invalid invocation'), { code, meta: { driverAdapterError: { cause } } });
}

describe('database faults', () => {
  it.each([
    ['PostgreSQL down', prismaError('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1' }), 'unreachable'],
    ['PostgreSQL down, raw query', prismaError('P2010', { kind: 'DatabaseNotReachable' }), 'unreachable'],
    [
      'PostgreSQL shutting down under a query',
      prismaError('P2010', { kind: 'postgres', originalCode: '57P01', code: '57P01' }),
      'unreachable',
    ],
    ['PostgreSQL lock_timeout', prismaError('P2010', { kind: 'postgres', originalCode: '55P03' }), 'unreachable'],
    ['SQLite busy', prismaError('P2010', { kind: 'SocketTimeout', originalCode: 'SQLITE_BUSY' }), 'unreachable'],
    ['a socket dropped under a query', new Error('Connection terminated unexpectedly'), 'unreachable'],
    ['SQLite full', prismaError('P2010', { kind: 'sqlite', originalCode: 'SQLITE_FULL' }), 'full'],
    ['PostgreSQL disk full', prismaError('P2010', { kind: 'postgres', originalCode: '53100' }), 'full'],
    [
      'a foreign key',
      prismaError('P2010', { kind: 'ForeignKeyConstraintViolation', originalCode: 'SQLITE_CONSTRAINT_FOREIGNKEY' }),
      'rows',
    ],
    ['a unique key', prismaError('P2002', { kind: 'UniqueConstraintViolation' }), 'rows'],
    ['anything else', new Error('boom'), 'rows'],
  ] as const)('%s: %s', (_name, error, fault) => {
    expect(writeFault(error)).toBe(fault);
    const unavailable = asUnavailable(error);
    if (fault === 'rows') expect(unavailable).toBeUndefined();
    else {
      expect(unavailable).toBeInstanceOf(UnavailableError);
      expect(unavailable?.retryAfterSeconds).toBe(fault === 'full' ? 60 : 5);
    }
  });

  it('recognises a foreign-key violation on both databases', () => {
    expect(isForeignKeyViolation(prismaError('P2010', { kind: 'ForeignKeyConstraintViolation' }))).toBe(true);
    expect(isForeignKeyViolation(prismaError('P2010', { kind: 'postgres', originalCode: '23503' }))).toBe(true);
    expect(isForeignKeyViolation(prismaError('P2003', {}))).toBe(true);
    expect(isForeignKeyViolation(prismaError('P2002', { kind: 'UniqueConstraintViolation' }))).toBe(false);
  });

  it('describes a fault in one line: the driver code and the database answer, not the invocation text of Prisma', () => {
    const full = prismaError('P2010', {
      kind: 'sqlite',
      originalCode: 'SQLITE_FULL',
      originalMessage: 'database or disk is full',
    });
    expect(describeFault(full)).toBe('SQLITE_FULL: database or disk is full');
    const down = Object.assign(
      new Error("\nInvalid `prisma.$executeRaw()` invocation:\n\n\nCan't reach database server"),
      {
        code: 'P2010',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
      },
    );
    expect(describeFault(down)).toBe("DatabaseNotReachable: Can't reach database server");
  });
});
