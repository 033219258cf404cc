/** Prisma access for baselines: rows ↔ records, statistics.json and constraints.json stored as text. */
import { type BaselineRow, type Db, isUniqueViolation } from '../../db/prisma.ts';
import { ENDPOINT_NAME_AND_MODEL, type WithEndpoint } from '../../endpoints/store.ts';
import { isOneOf } from '../../guards.ts';
import { parseStoredChecks } from '../checks/config.ts';
import { enforcedConstraints } from './constraints-json.ts';
import type { InputProfile } from './input-profile.ts';
import {
  BASELINE_SOURCES,
  type BaselineRecord,
  type BaselineSource,
  type Constraints,
  type Statistics,
} from './types.ts';

export function toBaseline(row: WithEndpoint<BaselineRow>): BaselineRecord {
  const { source } = row;
  if (!isOneOf(BASELINE_SOURCES, source)) throw new Error(`baseline ${row.id} has an unknown source '${source}'`);
  return {
    id: row.id,
    endpointId: row.endpointId,
    endpointName: row.endpoint.name,
    model: row.endpoint.model,
    name: row.name,
    source,
    itemCount: row.itemCount,
    statistics: JSON.parse(row.statistics) as Statistics,
    constraints: enforcedConstraints(JSON.parse(row.constraints) as Constraints),
    inputProfile: row.inputProfile ? (JSON.parse(row.inputProfile) as InputProfile) : null,
    createdAt: row.createdAt,
  };
}

export interface NewBaseline {
  id: string;
  endpointId: string;
  name: string;
  source: BaselineSource;
  itemCount: number;
  statistics: Statistics;
  constraints: Constraints;
  inputProfile: InputProfile | null;
}

export class BaselineStore {
  constructor(private readonly prisma: Db) {}

  /** null when the endpoint already has a baseline of that name */
  async insert(b: NewBaseline): Promise<BaselineRecord | null> {
    try {
      const row = await this.prisma.baseline.create({
        data: {
          ...b,
          statistics: JSON.stringify(b.statistics),
          constraints: JSON.stringify(b.constraints),
          inputProfile: b.inputProfile && JSON.stringify(b.inputProfile),
        },
        include: ENDPOINT_NAME_AND_MODEL,
      });
      return toBaseline(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async get(id: string): Promise<BaselineRecord | null> {
    const row = await this.prisma.baseline.findUnique({ where: { id }, include: ENDPOINT_NAME_AND_MODEL });
    return row && toBaseline(row);
  }

  /** several baselines by id, in one query (for DataLoaders) */
  async getMany(ids: readonly string[]): Promise<Map<string, BaselineRecord>> {
    const rows = await this.prisma.baseline.findMany({
      where: { id: { in: [...ids] } },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return new Map(rows.map((row) => [row.id, toBaseline(row)]));
  }

  async getByName(endpointId: string, name: string): Promise<BaselineRecord | null> {
    const row = await this.prisma.baseline.findUnique({
      where: { endpointId_name: { endpointId, name } },
      include: ENDPOINT_NAME_AND_MODEL,
    });
    return row && toBaseline(row);
  }

  async list(endpointId?: string): Promise<BaselineRecord[]> {
    const rows = await this.prisma.baseline.findMany({
      where: endpointId ? { endpointId } : {},
      include: ENDPOINT_NAME_AND_MODEL,
      orderBy: [{ createdAt: 'asc' }, { name: 'asc' }],
    });
    return rows.map(toBaseline);
  }

  /** the id of the endpoint's newest baseline with an input profile, or null */
  async newestWithProfile(endpointId: string): Promise<string | null> {
    const row = await this.prisma.baseline.findFirst({
      where: { endpointId, inputProfile: { not: null } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { id: true },
    });
    return row?.id ?? null;
  }

  /** a baseline's input profile alone (null for none, or an unknown baseline) */
  async inputProfile(id: string): Promise<InputProfile | null> {
    const row = await this.prisma.baseline.findUnique({ where: { id }, select: { inputProfile: true } });
    return row?.inputProfile ? (JSON.parse(row.inputProfile) as InputProfile) : null;
  }

  async replaceConstraints(id: string, constraints: Constraints): Promise<BaselineRecord | null> {
    const updated = await this.prisma.baseline.updateMany({
      where: { id },
      data: { constraints: JSON.stringify(constraints) },
    });
    return updated.count ? this.get(id) : null;
  }

  /**
   * Deletes the baseline unless a schedule compares with it: then, with `detach`, those schedules lose
   * it (and their drift check) in the same transaction; without, nothing changes. Returns whether it
   * was deleted and the schedules that use (or used) it, by name.
   */
  async delete(id: string, detach: boolean): Promise<{ deleted: boolean; schedules: string[] }> {
    return this.prisma.$transaction(async (tx) => {
      const users = await tx.monitoringSchedule.findMany({
        where: { baselineId: id },
        select: { id: true, name: true, checks: true },
        orderBy: { name: 'asc' },
      });
      const schedules = users.map((s) => s.name);
      if (users.length && !detach) return { deleted: false, schedules };
      for (const schedule of users) {
        const checks = parseStoredChecks(schedule.checks, true);
        checks.drift.enabled = false;
        checks.inputDrift.enabled = false;
        await tx.monitoringSchedule.update({
          where: { id: schedule.id },
          data: { baselineId: null, checks: JSON.stringify(checks) },
        });
      }
      const deleted = (await tx.baseline.deleteMany({ where: { id } })).count === 1;
      return { deleted, schedules };
    });
  }
}
