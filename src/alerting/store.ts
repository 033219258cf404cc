/**
 * Prisma access for alert channels and the delivery outbox. Deliveries of an alert are inserted by
 * `enqueue` inside the transaction that finishes the execution (so they exist exactly when the
 * execution's result does); workers claim due ones with a conditional UPDATE each (a lease, as
 * schedules have), so that with several replicas each delivery has one sender at a time.
 */
import { randomUUID } from 'node:crypto';
import { type Db, isUniqueViolation, type Prisma } from '../db/prisma.ts';
import { isOneOf } from '../guards.ts';
import type { MonitorAlert } from '../monitor/alerts/types.ts';
import { alertBody } from './payload.ts';
import {
  CHANNEL_KINDS,
  type ChannelKind,
  type ChannelWithSecret,
  DELIVERY_KINDS,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type DeliveryView,
} from './types.ts';

type ChannelRow = Awaited<ReturnType<Db['alertChannel']['findUniqueOrThrow']>>;
type DeliveryRow = Awaited<ReturnType<Db['alertDelivery']['findUniqueOrThrow']>>;
type AttemptRow = Awaited<ReturnType<Db['alertDeliveryAttempt']['findUniqueOrThrow']>>;

function toChannel(row: ChannelRow): ChannelWithSecret {
  return {
    id: row.id,
    name: row.name,
    kind: isOneOf(CHANNEL_KINDS, row.kind) ? row.kind : 'WEBHOOK',
    url: row.url,
    secret: row.secret,
    secretHint: `…${row.secret.slice(-4)}`,
    endpoints: JSON.parse(row.endpoints) as string[],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toDelivery(row: DeliveryRow & { attempts: AttemptRow[] }): DeliveryView {
  return {
    id: row.id,
    channelId: row.channelId,
    kind: isOneOf(DELIVERY_KINDS, row.kind) ? row.kind : 'ALERT',
    status: isOneOf(DELIVERY_STATUSES, row.status) ? row.status : 'FAILED',
    executionId: row.executionId,
    endpoint: row.endpoint,
    attemptCount: row.attemptCount,
    nextAttemptAt: row.status === 'PENDING' ? row.nextAttemptAt : null,
    lastError: row.lastError,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    attempts: row.attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at,
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      error: a.error,
    })),
  };
}

const WITH_ATTEMPTS = { attempts: { orderBy: { attempt: 'asc' } } } as const;

/** a delivery a worker holds: what it sends, and to whom */
export interface ClaimedDelivery {
  id: string;
  channelId: string;
  body: string;
  attemptCount: number;
  createdAt: Date;
  /** ALERT deliveries are retried; TEST ones are tried once */
  retry: boolean;
}

/** how an attempt ended, for the delivery row */
export interface AttemptResult {
  at: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** PENDING: try again at nextAttemptAt */
  status: DeliveryStatus;
  nextAttemptAt: Date;
}

export class AlertStore {
  constructor(private readonly prisma: Db) {}

  // ── channels ──

  /** null when the name is taken */
  async insertChannel(c: {
    name: string;
    kind: ChannelKind;
    url: string;
    secret: string;
    endpoints: string[];
  }): Promise<ChannelWithSecret | null> {
    try {
      const row = await this.prisma.alertChannel.create({
        data: { id: randomUUID(), ...c, endpoints: JSON.stringify(c.endpoints) },
      });
      return toChannel(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async updateChannel(
    id: string,
    c: { kind: ChannelKind; url: string; secret: string; endpoints: string[] },
  ): Promise<ChannelWithSecret | null> {
    const result = await this.prisma.alertChannel.updateMany({
      where: { id },
      data: { ...c, endpoints: JSON.stringify(c.endpoints) },
    });
    return result.count ? this.channel(id) : null;
  }

  /** deletes the channel with its deliveries */
  async deleteChannel(id: string): Promise<boolean> {
    return (await this.prisma.alertChannel.deleteMany({ where: { id } })).count === 1;
  }

  async channel(id: string): Promise<ChannelWithSecret | null> {
    const row = await this.prisma.alertChannel.findUnique({ where: { id } });
    return row && toChannel(row);
  }

  async channelByName(name: string): Promise<ChannelWithSecret | null> {
    const row = await this.prisma.alertChannel.findUnique({ where: { name } });
    return row && toChannel(row);
  }

  async channels(): Promise<ChannelWithSecret[]> {
    return (await this.prisma.alertChannel.findMany({ orderBy: { name: 'asc' } })).map(toChannel);
  }

  // ── the outbox ──

  /**
   * Queues the alert for every channel that takes its endpoint, on `tx`: the transaction that stores
   * the execution's result, so the deliveries commit (or roll back) with it.
   */
  async enqueue(tx: Prisma.TransactionClient, alert: MonitorAlert, now: Date): Promise<number> {
    const channels = await tx.alertChannel.findMany({ select: { id: true, kind: true, endpoints: true } });
    const rows = channels
      .filter((c) => {
        const endpoints = JSON.parse(c.endpoints) as string[];
        return endpoints.length === 0 || endpoints.includes(alert.endpoint);
      })
      .map((c) => {
        const id = randomUUID();
        const kind = isOneOf(CHANNEL_KINDS, c.kind) ? c.kind : 'WEBHOOK';
        return {
          id,
          channelId: c.id,
          kind: 'ALERT',
          executionId: alert.executionId,
          endpoint: alert.endpoint,
          body: alertBody(kind, id, alert),
          status: 'PENDING',
          nextAttemptAt: now,
          createdAt: now,
        };
      });
    if (rows.length) await tx.alertDelivery.createMany({ data: rows });
    return rows.length;
  }

  /** a TEST delivery, held by `owner` (the caller sends it at once) */
  async insertTest(
    d: { id: string; channelId: string; body: string },
    owner: string,
    now: Date,
    leaseMs: number,
  ): Promise<ClaimedDelivery> {
    await this.prisma.alertDelivery.create({
      data: {
        ...d,
        kind: 'TEST',
        status: 'PENDING',
        nextAttemptAt: now,
        createdAt: now,
        leaseOwner: owner,
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
      },
    });
    return { ...d, attemptCount: 0, createdAt: now, retry: false };
  }

  /**
   * Claims up to `limit` due deliveries for `owner` until now + leaseMs: candidates first, then one
   * conditional UPDATE each, which only one replica can win (it re-checks that the row is still due
   * and its lease free).
   */
  async claimDue(owner: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const due = {
      status: 'PENDING',
      nextAttemptAt: { lte: now },
      OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }],
    };
    const candidates = await this.prisma.alertDelivery.findMany({
      where: due,
      select: { id: true },
      orderBy: { nextAttemptAt: 'asc' },
      take: limit,
    });
    const claimed: ClaimedDelivery[] = [];
    for (const { id } of candidates) {
      const won = await this.prisma.alertDelivery.updateMany({
        where: { id, ...due },
        data: { leaseOwner: owner, leaseExpiresAt: new Date(now.getTime() + leaseMs) },
      });
      if (!won.count) continue;
      const row = await this.prisma.alertDelivery.findUnique({ where: { id } });
      if (row)
        claimed.push({
          id: row.id,
          channelId: row.channelId,
          body: row.body,
          attemptCount: row.attemptCount,
          createdAt: row.createdAt,
          retry: row.kind === 'ALERT',
        });
    }
    return claimed;
  }

  /**
   * Records an attempt and the delivery's new state, and gives the lease back; false (nothing written)
   * when `owner` no longer holds the lease.
   */
  async recordAttempt(delivery: ClaimedDelivery, owner: string, result: AttemptResult): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const attempt = delivery.attemptCount + 1;
      const updated = await tx.alertDelivery.updateMany({
        where: { id: delivery.id, leaseOwner: owner, attemptCount: delivery.attemptCount },
        data: {
          attemptCount: attempt,
          status: result.status,
          nextAttemptAt: result.nextAttemptAt,
          lastError: result.error,
          finishedAt: result.status === 'PENDING' ? null : result.at,
          leaseOwner: null,
          leaseExpiresAt: null,
        },
      });
      if (!updated.count) return false;
      await tx.alertDeliveryAttempt.create({
        data: {
          id: randomUUID(),
          deliveryId: delivery.id,
          attempt,
          at: result.at,
          durationMs: result.durationMs,
          statusCode: result.statusCode,
          error: result.error,
        },
      });
      return true;
    });
  }

  /** gives a lease back without an attempt (the send was stopped by shutdown) */
  async release(deliveryId: string, owner: string): Promise<void> {
    await this.prisma.alertDelivery.updateMany({
      where: { id: deliveryId, leaseOwner: owner },
      data: { leaseOwner: null, leaseExpiresAt: null },
    });
  }

  /**
   * Per channel: deliveries waiting (and the oldest one's creation) and deliveries given up. Pending
   * ones are few and indexed by status; failed ones are the history an operator alerts on.
   */
  async backlog(): Promise<{ channel: string; pending: number; failed: number; oldestPending: Date | null }[]> {
    const [channels, groups] = await Promise.all([
      this.prisma.alertChannel.findMany({ select: { id: true, name: true } }),
      this.prisma.alertDelivery.groupBy({
        by: ['channelId', 'status'],
        where: { status: { in: ['PENDING', 'FAILED'] } },
        _count: { _all: true },
        _min: { createdAt: true },
      }),
    ]);
    return channels.map((c) => {
      const of = (status: DeliveryStatus) => groups.find((g) => g.channelId === c.id && g.status === status);
      return {
        channel: c.name,
        pending: of('PENDING')?._count._all ?? 0,
        failed: of('FAILED')?._count._all ?? 0,
        oldestPending: of('PENDING')?._min.createdAt ?? null,
      };
    });
  }

  async delivery(id: string): Promise<DeliveryView | null> {
    const row = await this.prisma.alertDelivery.findUnique({ where: { id }, include: WITH_ATTEMPTS });
    return row && toDelivery(row);
  }

  /** a channel's deliveries, newest first, each with its attempts */
  async deliveries(
    channelId: string,
    options: { status?: DeliveryStatus | null; take: number },
  ): Promise<DeliveryView[]> {
    const rows = await this.prisma.alertDelivery.findMany({
      where: { channelId, ...(options.status ? { status: options.status } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: options.take,
      include: WITH_ATTEMPTS,
    });
    return rows.map(toDelivery);
  }
}
