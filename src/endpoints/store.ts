/** Prisma access for endpoints: rows ↔ records. */
import { type Db, type EndpointRow, isUniqueViolation } from '../db/prisma.ts';
import { isOneOf } from '../guards.ts';
import { CAPTURE_MODES, type Endpoint } from './types.ts';

/**
 * A deleted endpoint's row stays (renamed, `deletedAt` set) until the retention sweeper has deleted its
 * data; reads leave it out with this condition.
 */
export const LIVE_ENDPOINT = { deletedAt: null } as const;

/** the name a deleted endpoint's row takes: not a valid endpoint name, so it never meets one */
export function tombstoneName(id: string): string {
  return `deleted:${id}`;
}

/** what other domains' rows carry of their endpoint (an `include` for Prisma), and the row it makes */
export const ENDPOINT_NAME_AND_MODEL = { endpoint: { select: { name: true, model: true } } } as const;
export type WithEndpoint<Row> = Row & { endpoint: { name: string; model: string } };

export function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    dataCapture: {
      enabled: row.captureEnabled,
      samplingPercentage: row.samplingPercentage,
      captureMode: isOneOf(CAPTURE_MODES, row.captureMode) ? row.captureMode : 'BOTH',
      retentionDays: row.captureRetentionDays,
    },
    debugHook: {
      enabled: row.hookEnabled,
      includeRegex: row.hookIncludeRegex,
      saveInterval: row.hookSaveInterval,
      collections: JSON.parse(row.hookCollections) as string[],
      retentionDays: row.hookRetentionDays,
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toRow(e: Omit<Endpoint, 'createdAt' | 'updatedAt'>) {
  return {
    id: e.id,
    name: e.name,
    model: e.model,
    captureEnabled: e.dataCapture.enabled,
    samplingPercentage: e.dataCapture.samplingPercentage,
    captureMode: e.dataCapture.captureMode,
    hookEnabled: e.debugHook.enabled,
    hookIncludeRegex: e.debugHook.includeRegex,
    hookSaveInterval: e.debugHook.saveInterval,
    hookCollections: JSON.stringify(e.debugHook.collections),
    captureRetentionDays: e.dataCapture.retentionDays,
    hookRetentionDays: e.debugHook.retentionDays,
  };
}

export class EndpointStore {
  constructor(private readonly prisma: Db) {}

  async findByName(name: string): Promise<Endpoint | null> {
    const row = await this.prisma.endpoint.findUnique({ where: { name, ...LIVE_ENDPOINT } });
    return row && toEndpoint(row);
  }

  async list(): Promise<Endpoint[]> {
    const rows = await this.prisma.endpoint.findMany({ where: LIVE_ENDPOINT, orderBy: { name: 'asc' } });
    return rows.map(toEndpoint);
  }

  /** null when the name is taken */
  async insert(e: Omit<Endpoint, 'createdAt' | 'updatedAt'>): Promise<Endpoint | null> {
    try {
      return toEndpoint(await this.prisma.endpoint.create({ data: toRow(e) }));
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async replace(e: Omit<Endpoint, 'createdAt' | 'updatedAt'>): Promise<Endpoint | null> {
    const { id, name: _name, ...data } = toRow(e);
    const result = await this.prisma.endpoint.updateMany({ where: { id, ...LIVE_ENDPOINT }, data });
    if (result.count === 0) return null;
    return this.findByName(e.name);
  }

  /**
   * Deletes the endpoint as far as every reader is concerned, in one UPDATE: it is renamed (the name is
   * free at once) and marked deleted; its captures, steps, baselines and schedules stay until the
   * retention sweeper deletes them in batches. Capture and hook are turned off, so that requests still
   * in flight on a cached snapshot add as little as possible. Null when there is no such endpoint.
   */
  async deleteByName(name: string, now: Date): Promise<Endpoint | null> {
    const existing = await this.findByName(name);
    if (!existing) return null;
    const result = await this.prisma.endpoint.updateMany({
      where: { id: existing.id, ...LIVE_ENDPOINT },
      data: { name: tombstoneName(existing.id), deletedAt: now, captureEnabled: false, hookEnabled: false },
    });
    return result.count ? existing : null;
  }
}
