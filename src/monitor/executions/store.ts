/** Prisma access for executions, their violations and the metrics they emitted. */
import { randomUUID } from 'node:crypto';
import { insertStatements } from '../../db/insert.ts';
import { type Db, type ExecutionRow, isUniqueViolation } from '../../db/prisma.ts';
import { isOneOf } from '../../guards.ts';
import { alertOf } from '../alerts/publish.ts';
import type { AlertOutbox } from '../alerts/types.ts';
import type { Statistics } from '../baselines/types.ts';
import type { ExternalCheckRun } from '../checks/external/runner.ts';
import { CHECK_NAMES, type Violation } from '../checks/types.ts';
import type { MetricPoint } from '../metrics/types.ts';
import type { ModelQualityReport } from '../quality/report.ts';
import {
  EXECUTION_STATUSES,
  EXECUTION_TRIGGERS,
  type ExecutionRecord,
  type ExecutionStatus,
  type ExecutionTrigger,
} from './types.ts';

/** every column but the statistics (read only when asked for), with the schedule's and endpoint's names */
const SELECT = {
  id: true,
  scheduleId: true,
  endpointId: true,
  trigger: true,
  status: true,
  windowStart: true,
  windowEnd: true,
  recordCount: true,
  classCounts: true,
  message: true,
  insufficientData: true,
  modelQuality: true,
  externalChecks: true,
  startedAt: true,
  finishedAt: true,
  schedule: { select: { name: true } },
  endpoint: { select: { name: true, model: true } },
} as const;
type Row = Omit<ExecutionRow, 'statistics'> & {
  schedule: { name: string } | null;
  endpoint: { name: string; model: string };
};

export function toExecution(row: Row): ExecutionRecord {
  return {
    id: row.id,
    scheduleId: row.scheduleId,
    scheduleName: row.schedule?.name ?? null,
    endpointId: row.endpointId,
    endpointName: row.endpoint.name,
    model: row.endpoint.model,
    // the columns hold only what vigil wrote; a value it does not know reads as the safest one
    trigger: isOneOf(EXECUTION_TRIGGERS, row.trigger) ? row.trigger : 'MANUAL',
    status: isOneOf(EXECUTION_STATUSES, row.status) ? row.status : 'Failed',
    windowStart: row.windowStart,
    windowEnd: row.windowEnd,
    recordCount: row.recordCount,
    classCounts: row.classCounts === null ? null : (JSON.parse(row.classCounts) as Record<string, number>),
    message: row.message,
    insufficientData: row.insufficientData,
    modelQuality: row.modelQuality === null ? null : (JSON.parse(row.modelQuality) as ModelQualityReport),
    externalChecks: row.externalChecks === null ? [] : (JSON.parse(row.externalChecks) as ExternalCheckRun[]),
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

const VIOLATION_COLUMNS = ['id', 'executionId', 'check', 'featureName', 'constraintCheckType', 'description'] as const;
const METRIC_COLUMNS = ['id', 'scheduleId', 'executionId', 'name', 'value', 'timestamp'] as const;

/** statuses of an execution whose run has not ended */
const UNFINISHED: ExecutionStatus[] = ['Pending', 'InProgress'];

/** the message of an execution whose run stopped without finishing it */
export const ABANDONED =
  'Failed: abandoned: the replica running it stopped before it finished (its lease expired); the next execution covers its window';

export interface ExecutionResult {
  status: ExecutionStatus;
  recordCount: number;
  classCounts: Record<string, number>;
  message: string;
  insufficientData: boolean;
  statistics: Statistics;
  violations: Violation[];
  metrics: Record<string, number>;
  modelQuality: ModelQualityReport | null;
  /** empty when the job has no external check */
  externalChecks: ExternalCheckRun[];
}

export class ExecutionStore {
  constructor(
    private readonly prisma: Db,
    /** where an execution with violations queues its alert's deliveries, in the transaction that finishes it */
    private readonly outbox?: AlertOutbox,
  ) {}

  /**
   * Where the schedule's next window starts: the end of its latest execution that did not fail (a
   * failed execution counted nothing, so its window is covered again).
   */
  async previousWindowEnd(scheduleId: string): Promise<Date | null> {
    const last = await this.prisma.monitoringExecution.findFirst({
      where: { scheduleId, status: { not: 'Failed' } },
      orderBy: { windowEnd: 'desc' },
      select: { windowEnd: true },
    });
    return last?.windowEnd ?? null;
  }

  /** Executions left unfinished by a process that stopped: the caller holds the lease, so none is running. */
  async failAbandoned(scheduleId: string, now: Date): Promise<number> {
    const result = await this.prisma.monitoringExecution.updateMany({
      where: { scheduleId, status: { in: UNFINISHED } },
      data: { status: 'Failed', message: ABANDONED, finishedAt: now },
    });
    return result.count;
  }

  /**
   * Executions whose run has stopped, on any schedule: unfinished while their schedule's lease has
   * expired. A run holds its lease from before its execution starts until after it finishes, and renews
   * it while it works, so such an execution has no live run (one that merely stalled past its lease
   * finds it failed and writes nothing). They are marked failed — the next execution covers their
   * window — and the expired leases cleared, so that later ticks do not look at them again. Read from
   * the schedules (a small table) first; the executions of those schedules through their index.
   */
  async failOrphaned(now: Date): Promise<{ id: string; scheduleName: string }[]> {
    const expired = { leaseExpiresAt: { lt: now } };
    const schedules = await this.prisma.monitoringSchedule.findMany({
      where: expired,
      select: { id: true, name: true },
    });
    if (!schedules.length) return [];
    const ids = schedules.map((s) => s.id);
    const found = await this.prisma.monitoringExecution.findMany({
      where: { scheduleId: { in: ids }, status: { in: UNFINISHED } },
      select: { id: true, scheduleId: true },
    });
    if (found.length)
      await this.prisma.monitoringExecution.updateMany({
        // the lease is checked again in the UPDATE: a replica that has claimed it since runs a new execution
        where: { id: { in: found.map((e) => e.id) }, status: { in: UNFINISHED }, schedule: expired },
        data: { status: 'Failed', message: ABANDONED, finishedAt: now },
      });
    await this.prisma.monitoringSchedule.updateMany({
      where: { id: { in: ids }, ...expired },
      data: { leaseOwner: null, leaseExpiresAt: null },
    });
    const names = new Map(schedules.map((s) => [s.id, s.name]));
    // every one found belongs to one of these schedules
    return found.map((e) => ({ id: e.id, scheduleName: (e.scheduleId && names.get(e.scheduleId)) ?? e.id }));
  }

  /**
   * Ad-hoc executions left unfinished by a process that stopped: one runs within its request, so one
   * still InProgress `staleMs` after it started has no live run (the run would write nothing now).
   */
  async failStaleAdHoc(now: Date, staleMs: number): Promise<number> {
    const result = await this.prisma.monitoringExecution.updateMany({
      where: { scheduleId: null, status: { in: UNFINISHED }, startedAt: { lt: new Date(now.getTime() - staleMs) } },
      data: { status: 'Failed', message: ABANDONED, finishedAt: now },
    });
    return result.count;
  }

  /**
   * The InProgress execution of a run: null when the schedule already has an execution ending at
   * `windowEnd` (windows tile: one per end). The record is built from what was written (one INSERT,
   * nothing read back): the caller names the schedule, endpoint and model.
   */
  async start(e: {
    scheduleId: string | null;
    scheduleName: string | null;
    endpointId: string;
    endpointName: string;
    model: string;
    trigger: ExecutionTrigger;
    windowStart: Date;
    windowEnd: Date;
    startedAt: Date;
  }): Promise<ExecutionRecord | null> {
    const { scheduleName, endpointName, model, ...columns } = e;
    const data = { id: randomUUID(), ...columns, status: 'InProgress' as const };
    try {
      await this.prisma.monitoringExecution.create({ data, select: { id: true } });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    return {
      ...data,
      scheduleName,
      endpointName,
      model,
      recordCount: 0,
      classCounts: null,
      message: null,
      insufficientData: false,
      modelQuality: null,
      externalChecks: [],
      finishedAt: null,
    };
  }

  /**
   * Violations, metrics (stamped with the window's end), the final status and, with violations, the
   * alert's deliveries (the outbox), in one transaction; only
   * while the execution is still unfinished (null otherwise: its run lost its lease, and the execution
   * was marked failed meanwhile — the next execution covers its window, so this result is dropped).
   */
  async finish(execution: ExecutionRecord, result: ExecutionResult, finishedAt: Date): Promise<ExecutionRecord | null> {
    const { id, scheduleId, windowEnd } = execution;
    const modelQuality = result.modelQuality && JSON.stringify(result.modelQuality);
    return this.prisma.$transaction(async (tx) => {
      const updated = await tx.monitoringExecution.updateMany({
        where: { id, status: { in: UNFINISHED } },
        data: {
          status: result.status,
          recordCount: result.recordCount,
          classCounts: JSON.stringify(result.classCounts),
          message: result.message,
          insufficientData: result.insufficientData,
          statistics: JSON.stringify(result.statistics),
          modelQuality,
          externalChecks: result.externalChecks.length ? JSON.stringify(result.externalChecks) : null,
          finishedAt,
        },
      });
      if (!updated.count) return null;
      // multi-row INSERTs, not createMany: ~50 metrics cost 10–20 ms of Prisma's CPU through createMany
      const violations = result.violations.map((v, i) => ({
        id: `${id}:${String(i).padStart(4, '0')}`,
        executionId: id,
        ...v,
      }));
      for (const statement of insertStatements(tx, 'Violation', VIOLATION_COLUMNS, violations)) await statement;
      const metrics = Object.entries(result.metrics).map(([name, value]) => ({
        id: randomUUID(),
        scheduleId,
        executionId: id,
        name,
        value: Number.isFinite(value) ? value : 0,
        timestamp: windowEnd,
      }));
      for (const statement of insertStatements(tx, 'Metric', METRIC_COLUMNS, metrics)) await statement;
      // what the UPDATE wrote, without reading it back (the report as a read would parse it)
      const finished: ExecutionRecord = {
        ...execution,
        status: result.status,
        recordCount: result.recordCount,
        classCounts: { ...result.classCounts },
        message: result.message,
        insufficientData: result.insufficientData,
        modelQuality: modelQuality === null ? null : (JSON.parse(modelQuality) as ModelQualityReport),
        externalChecks: result.externalChecks,
        finishedAt,
      };
      // an ad-hoc execution alerts nobody: alertOf gives it no alert, so it queues no delivery
      const alert = alertOf(finished, result.violations);
      if (alert && this.outbox) await this.outbox.enqueue(tx, alert);
      return finished;
    });
  }

  /** marks an unfinished execution failed; null when it is already finished (or gone) */
  async fail(id: string, message: string, finishedAt: Date): Promise<ExecutionRecord | null> {
    const updated = await this.prisma.monitoringExecution.updateMany({
      where: { id, status: { in: UNFINISHED } },
      data: { status: 'Failed', message, finishedAt },
    });
    return updated.count ? this.get(id) : null;
  }

  async get(id: string): Promise<ExecutionRecord | null> {
    const row = await this.prisma.monitoringExecution.findUnique({ where: { id }, select: SELECT });
    return row && toExecution(row);
  }

  /** the execution's statistics.json; undefined for an unknown execution, null while it has none (unfinished, failed) */
  async statistics(id: string): Promise<Statistics | null | undefined> {
    const row = await this.prisma.monitoringExecution.findUnique({ where: { id }, select: { statistics: true } });
    if (!row) return undefined;
    return row.statistics === null ? null : (JSON.parse(row.statistics) as Statistics);
  }

  /**
   * A schedule's executions, or an endpoint's (scheduled and ad hoc), newest first: by window end for
   * a schedule (its windows tile), by start for an endpoint (ad-hoc windows may lie anywhere).
   */
  async list(
    owner: { scheduleId: string } | { endpointId: string },
    options: { status?: ExecutionStatus | null; trigger?: ExecutionTrigger | null; take: number },
  ): Promise<ExecutionRecord[]> {
    const rows = await this.prisma.monitoringExecution.findMany({
      where: {
        ...owner,
        ...(options.status ? { status: options.status } : {}),
        ...(options.trigger ? { trigger: options.trigger } : {}),
      },
      orderBy:
        'scheduleId' in owner ? [{ windowEnd: 'desc' }, { startedAt: 'desc' }] : [{ startedAt: 'desc' }, { id: 'asc' }],
      take: options.take,
      select: SELECT,
    });
    return rows.map(toExecution);
  }

  /** several executions by id, in one query (for DataLoaders) */
  async getMany(ids: readonly string[]): Promise<Map<string, ExecutionRecord>> {
    const rows = await this.prisma.monitoringExecution.findMany({ where: { id: { in: [...ids] } }, select: SELECT });
    return new Map(rows.map((row) => [row.id, toExecution(row)]));
  }

  async violations(executionId: string): Promise<Violation[]> {
    return (await this.violationsOf([executionId])).get(executionId) ?? [];
  }

  /** several executions' violations, by execution id, in one query */
  async violationsOf(executionIds: readonly string[]): Promise<Map<string, Violation[]>> {
    const rows = await this.prisma.violation.findMany({
      where: { executionId: { in: [...executionIds] } },
      orderBy: { id: 'asc' },
    });
    return groupBy(
      executionIds,
      rows,
      (row) => row.executionId,
      ({ check, featureName, constraintCheckType, description }) => ({
        check: isOneOf(CHECK_NAMES, check) ? check : 'EXTERNAL',
        featureName,
        // Model Monitor's types, or an external check's own
        constraintCheckType,
        description,
      }),
    );
  }

  /** several executions' metrics, by execution id, in one query */
  async metricsOf(executionIds: readonly string[]): Promise<Map<string, MetricPoint[]>> {
    const rows = await this.prisma.metric.findMany({
      where: { executionId: { in: [...executionIds] } },
      orderBy: { name: 'asc' },
    });
    return groupBy(
      executionIds,
      rows,
      (row) => row.executionId,
      ({ name, value, timestamp, executionId }) => ({ name, value, timestamp, executionId }),
    );
  }
}

/** rows grouped under each key (every key present, in the rows' order) */
function groupBy<Row, Item>(
  keys: readonly string[],
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  map: (row: Row) => Item,
): Map<string, Item[]> {
  const groups = new Map<string, Item[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(map(row));
  return groups;
}
