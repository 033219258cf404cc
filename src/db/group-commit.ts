/**
 * Group commit: the rows of concurrent requests (a capture, a debug step and its tensors, each handed
 * over by the domain that owns the table) are written together, one multi-row INSERT per table, in
 * one transaction. Each request awaits its own commit before answering, so an acknowledged capture
 * survives a crash; while one transaction runs, the next group gathers.
 */

import type { Logger } from '../logger.ts';
import { insertStatementCount, insertValues, type TableRows } from './insert.ts';
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
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
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
      this.#pending.push({ unit, bytes: unit.reduce((sum, rows) => sum + rows.bytes, 0), resolve, reject });
      this.#flushing ??= this.#drain();
    });
  }

  /** resolves when everything written so far is committed */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
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
        try {
          await this.#commit(group.map((p) => p.unit));
          this.groupSizes.push(group.length);
          if (this.groupSizes.length > 10_000) this.groupSizes.splice(0, 5_000);
          group.forEach((p) => p.resolve());
        } catch (error) {
          this.logger.error('group commit failed', { size: group.length, error });
          group.forEach((p) => p.reject(error));
        }
      }
    } finally {
      this.#flushing = undefined;
    }
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
    }));
    for (const unit of units) {
      for (const rows of unit) {
        const into = merged.find((m) => m.table === rows.table)!;
        if (!into.values.length) into.columns = rows.columns;
        else if (into.columns !== rows.columns && into.columns.join() !== rows.columns.join()) {
          throw new Error(`rows of table ${rows.table} with different columns in one group`);
        }
        for (const values of rows.values) into.values.push(values);
      }
    }
    const tables = merged.filter((m) => m.values.length);
    const write = async (db: Pick<Db, '$executeRaw'>) => {
      for (const statement of tables.flatMap((m) => insertValues(db, m.table, m.columns, m.values))) await statement;
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
