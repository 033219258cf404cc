/**
 * Group commit: the rows of concurrent requests (a capture and its rollup counters, a debug step and
 * its tensors, each handed over by the domain that owns the table) are written together, one multi-row
 * INSERT per table — for a counter table (db/insert.ts CounterTable) one UPSERT adding the group's
 * rows, merged by key — in one transaction. Each request awaits its own commit before answering, so an acknowledged capture
 * survives a crash; while one transaction runs, the next group gathers.
 *
 * A failing row fails only its own request: when a group's transaction fails for its rows (a
 * constraint, a full disk), nothing of it is stored and its requests are committed again one by one,
 * each in its own transaction, so each is stored whole or not at all. When the database as a whole
 * takes no writes (unreachable, locked beyond the lock timeout), every retry would meet the same
 * fault: the group's requests fail at once with UnavailableError (db/faults.ts).
 */

import type { Logger } from '../logger.ts';
import { describeFault, unavailableOr, type WriteFault, writeFault } from './faults.ts';
import { Histogram, type HistogramSnapshot } from './histogram.ts';
import { type Counters, insertStatementCount, type TableRows, writeValues } from './insert.ts';
import type { Db } from './prisma.ts';

export interface GroupCommitOptions {
  /** the tables written, in the order their INSERTs run: a row's foreign keys point to earlier tables */
  tables: readonly string[];
  /** requests in one group */
  maxGroup?: number;
  /** binary bytes (TableRows.bytes) in one group, so that a commit stays well inside its time limit */
  maxGroupBytes?: number;
}

/** one request's rows */
type Unit = readonly TableRows[];

interface Pending {
  unit: Unit;
  bytes: number;
  /** when the request handed its rows over (performance.now()), for the lag */
  queuedAt: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** the commit queue's state and history, for /metrics */
export interface GroupCommitStats {
  /** requests waiting for the next group */
  queued: number;
  /** requests in the commit running now */
  committing: number;
  /** seconds since the oldest request not yet committed (queued or committing) handed its rows over; 0 when none */
  lagSeconds: number;
  /** duration of each commit: a group's transaction, or one request's when a failed group is retried one by one */
  commitSeconds: HistogramSnapshot;
  /** requests committed since start */
  committed: number;
  /** requests whose rows were not stored, since start */
  failed: number;
  /** groups whose transaction failed for their rows and whose requests were retried one by one */
  isolatedGroups: number;
}

/** upper bounds of the commit-duration buckets, seconds */
const COMMIT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GroupCommit {
  #pending: Pending[] = [];
  /** the group whose commit runs now */
  #committing: readonly Pending[] = [];
  #flushing: Promise<void> | undefined;
  readonly #commitSeconds = new Histogram(COMMIT_SECONDS_BUCKETS);
  #committed = 0;
  #failed = 0;
  #isolatedGroups = 0;
  readonly #tables: readonly string[];
  readonly #maxGroup: number;
  readonly #maxGroupBytes: number;
  /** sizes of the committed groups, for stats and tests */
  readonly groupSizes: number[] = [];

  constructor(
    private readonly prisma: Db,
    private readonly logger: Logger,
    options: GroupCommitOptions,
  ) {
    this.#tables = options.tables;
    this.#maxGroup = options.maxGroup ?? 256;
    this.#maxGroupBytes = options.maxGroupBytes ?? MAX_GROUP_BYTES;
  }

  /** resolves once one request's rows are committed */
  write(unit: Unit): Promise<void> {
    const unknown = unit.find((rows) => !this.#tables.includes(rows.table));
    if (unknown) return Promise.reject(new Error(`the group commit does not write table ${unknown.table}`));
    return new Promise((resolve, reject) => {
      const bytes = unit.reduce((sum, rows) => sum + rows.bytes, 0);
      this.#pending.push({ unit, bytes, queuedAt: performance.now(), resolve, reject });
      this.#flushing ??= this.#drain();
    });
  }

  /** resolves when everything written so far is committed */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  stats(): GroupCommitStats {
    const oldest = this.#committing[0] ?? this.#pending[0];
    return {
      queued: this.#pending.length,
      committing: this.#committing.length,
      lagSeconds: oldest ? (performance.now() - oldest.queuedAt) / 1000 : 0,
      commitSeconds: this.#commitSeconds.snapshot(),
      committed: this.#committed,
      failed: this.#failed,
      isolatedGroups: this.#isolatedGroups,
    };
  }

  /** How many pending requests the next group takes: up to maxGroup and maxGroupBytes (at least one). */
  #groupLength(): number {
    let bytes = 0;
    let n = 0;
    for (const { bytes: unitBytes } of this.#pending) {
      if (n >= this.#maxGroup) break;
      if (n > 0 && bytes + unitBytes > this.#maxGroupBytes) break;
      bytes += unitBytes;
      n++;
    }
    return n;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length) {
        const group = this.#pending.splice(0, this.#groupLength());
        this.#committing = group;
        try {
          await this.#commitGroup(group);
        } finally {
          this.#committing = [];
        }
        this.groupSizes.push(group.length);
        if (this.groupSizes.length > 10_000) this.groupSizes.splice(0, 5_000);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /** commits a group, or failing that each of its requests on its own; settles every request */
  async #commitGroup(group: readonly Pending[]): Promise<void> {
    let failure: unknown;
    try {
      await this.#timedCommit(group.map((p) => p.unit));
      for (const p of group) this.#succeed(p);
      return;
    } catch (error) {
      failure = error;
    }
    let fault = writeFault(failure);
    this.logger.warn(
      fault === 'unreachable' || group.length === 1
        ? 'group commit failed'
        : 'group commit failed: committing its requests one by one',
      { size: group.length, fault, cause: describeFault(failure) },
    );
    if (fault === 'unreachable' || group.length === 1) {
      for (const p of group) this.#fail(p, failure);
      return;
    }
    this.#isolatedGroups++;
    for (const p of group) {
      // once the database takes no writes, the rest would meet the same fault
      if (fault === 'unreachable') {
        this.#fail(p, failure);
        continue;
      }
      try {
        await this.#timedCommit([p.unit]);
        this.#succeed(p);
      } catch (error) {
        failure = error;
        fault = writeFault(error);
        this.#fail(p, error, fault);
      }
    }
  }

  async #timedCommit(units: Unit[]): Promise<void> {
    const started = performance.now();
    await this.#commit(units);
    this.#commitSeconds.observe((performance.now() - started) / 1000);
  }

  #succeed(p: Pending): void {
    this.#committed++;
    p.resolve();
  }

  /** rejects with UnavailableError for a fault of the database, else with the error itself */
  #fail(p: Pending, error: unknown, fault?: WriteFault): void {
    this.#failed++;
    if (fault === 'rows') this.logger.warn("a request's rows were refused", { cause: describeFault(error) });
    p.reject(unavailableOr(error));
  }

  /**
   * One INSERT per table (multi-row, db/insert.ts), tables in their given order. A single statement
   * is atomic by itself; more go in an interactive transaction (not a batch one: a batch goes through
   * Prisma's query compiler as one document, tensor bytes included, which made it the slowest part of
   * a commit).
   */
  async #commit(units: Unit[]): Promise<void> {
    const merged = this.#tables.map((table) => ({
      table,
      columns: [] as readonly string[],
      values: [] as (readonly unknown[])[],
      counters: undefined as Counters | undefined,
    }));
    for (const unit of units) {
      for (const rows of unit) {
        const into = merged.find((m) => m.table === rows.table)!;
        if (!into.values.length) [into.columns, into.counters] = [rows.columns, rows.counters];
        else if (into.columns !== rows.columns && into.columns.join() !== rows.columns.join()) {
          throw new Error(`rows of table ${rows.table} with different columns in one group`);
        }
        for (const values of rows.values) into.values.push(values);
      }
    }
    const tables = merged.filter((m) => m.values.length);
    const write = async (db: Pick<Db, '$executeRaw'>) => {
      for (const statement of tables.flatMap((m) => writeValues(db, m))) await statement;
    };
    const statements = tables.reduce((n, m) => n + insertStatementCount(m.columns.length, m.values.length), 0);
    if (statements > 1) await this.prisma.$transaction((tx) => write(tx), TRANSACTION_LIMITS);
    else if (statements === 1) await write(this.prisma);
  }
}

/** binary bytes in one group commit by default (a debug step is ~0.7 MB) */
const MAX_GROUP_BYTES = 32 * 1024 * 1024;
/** Prisma's interactive defaults (2 s to start, 5 s to run) are for requests, not for 32 MB commits */
const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 60_000 };
