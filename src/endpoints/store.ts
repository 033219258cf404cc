/** Prisma access for endpoints: rows ↔ records. */
import { type Db, type EndpointRow, isUniqueViolation } from '../db/prisma.ts';
import type { CaptureMode, Endpoint } from './types.ts';

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
      captureMode: row.captureMode as CaptureMode,
    },
    debugHook: {
      enabled: row.hookEnabled,
      includeRegex: row.hookIncludeRegex,
      saveInterval: row.hookSaveInterval,
      collections: JSON.parse(row.hookCollections) as string[],
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
  };
}

export class EndpointStore {
  constructor(private readonly prisma: Db) {}

  async findByName(name: string): Promise<Endpoint | null> {
    const row = await this.prisma.endpoint.findUnique({ where: { name } });
    return row && toEndpoint(row);
  }

  async list(): Promise<Endpoint[]> {
    const rows = await this.prisma.endpoint.findMany({ orderBy: { name: 'asc' } });
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
    const result = await this.prisma.endpoint.updateMany({ where: { id }, data });
    if (result.count === 0) return null;
    return this.findByName(e.name);
  }

  async deleteByName(name: string): Promise<Endpoint | null> {
    const existing = await this.findByName(name);
    if (!existing) return null;
    const result = await this.prisma.endpoint.deleteMany({ where: { id: existing.id } });
    return result.count ? existing : null;
  }
}
