/** Prisma access for adversarial images: the newest `maxStored` are kept. */
import type { AdversarialRow, Db } from '../db/prisma.ts';
import { isOneOf } from '../guards.ts';
import type { AttackResult } from './attack-image.ts';
import { ATTACK_METHODS, type AttackMethod } from './methods.ts';

/** an attack's outcome (its PNG aside) and what was attacked */
export interface AdversarialRecord extends Omit<AttackResult, 'png' | 'original'> {
  id: string;
  createdAt: Date;
  model: string;
  /** the endpoint named by the request, when one was */
  endpoint: string | null;
  method: AttackMethod;
  target: number;
}

function toRecord(row: Omit<AdversarialRow, 'png' | 'original'>): AdversarialRecord {
  const { method, ...rest } = row;
  return { ...rest, method: isOneOf(ATTACK_METHODS, method) ? method : 'DEEPFOOL' };
}

export class AdversarialStore {
  constructor(
    private readonly prisma: Db,
    private readonly maxStored: number,
  ) {}

  /** stores one image, then deletes what is beyond the newest `maxStored` */
  async insert(record: AdversarialRecord & { png: Uint8Array; original: Uint8Array }): Promise<AdversarialRecord> {
    const { png, original, ...rest } = record;
    // Prisma takes bytes over a plain ArrayBuffer
    await this.prisma.adversarial.create({
      data: { ...rest, png: Uint8Array.from(png), original: Uint8Array.from(original) },
    });
    // by id, not by time: rows made in the same millisecond are told apart (a few at a time: one per insert)
    const beyond = await this.prisma.adversarial.findMany({
      select: { id: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      skip: this.maxStored,
      take: 100,
    });
    if (beyond.length) await this.prisma.adversarial.deleteMany({ where: { id: { in: beyond.map((r) => r.id) } } });
    return rest;
  }

  async png(id: string): Promise<Uint8Array | null> {
    const row = await this.prisma.adversarial.findUnique({ where: { id }, select: { png: true } });
    return row?.png ?? null;
  }

  /** the adversarial PNG and the original (null for a row stored before originals were kept) */
  async images(id: string): Promise<{ png: Uint8Array; original: Uint8Array | null } | null> {
    return this.prisma.adversarial.findUnique({ where: { id }, select: { png: true, original: true } });
  }

  async get(id: string): Promise<AdversarialRecord | null> {
    const row = await this.prisma.adversarial.findUnique({ where: { id }, omit: { png: true, original: true } });
    return row && toRecord(row);
  }
}
