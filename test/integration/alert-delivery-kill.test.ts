/**
 * Alerts survive SIGKILL: deliveries are queued in the database in the transaction that finishes the
 * execution, so a server killed before it sends (or while a request is in flight) loses none. Three
 * server processes in turn on one database, and a local receiver:
 *  A raises an alert and is killed before its worker polls (the delivery is in the outbox, unsent);
 *  B claims it and is killed while the receiver holds the request (no attempt recorded, lease held);
 *  C claims it once that lease expires, gets a 500, retries with backoff, and delivers once the
 *  receiver is up. Every request carries the same X-Vigil-Delivery id, body and a valid signature.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDeploy } from '../../src/db/migrate/index.ts';
import type { Db } from '../../src/db/prisma.ts';
import { alertingSchedule, createChannel, deliveries, raiseAlert } from '../helpers/alerts.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { GraphQLClient } from '../helpers/graphql.ts';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { type Receiver, signatureValid, startReceiver } from '../helpers/receiver.ts';
import { until } from '../helpers/wait.ts';

const SECRET = 'kill-test-secret-0123456789';
const TIMEOUT_MS = 1000;

describe('alert delivery across SIGKILL and restart', () => {
  let database: TestDatabase | undefined;
  let receiver: Receiver | undefined;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.kill('SIGKILL')));
    await receiver?.close();
    await database?.drop();
  });

  it('delivers an alert whose servers were killed before and during its delivery, under one delivery id', async () => {
    database = await createTestDatabase();
    await migrateDeploy(database.url);
    receiver = await startReceiver({ hang: true });
    const env = (instance: string, pollMs: number) => ({
      DATABASE_URL: database!.url,
      INSTANCE_ID: instance,
      ALERT_URL_ALLOWLIST: '127.0.0.1',
      ALERT_POLL_INTERVAL_MS: String(pollMs),
      ALERT_RETRY_BASE_MS: '200',
      ALERT_RETRY_MAX_MS: '400',
      ALERT_MAX_ATTEMPTS: '50',
      ALERT_TIMEOUT_MS: String(TIMEOUT_MS),
      SCHEDULER_INTERVAL_MS: '3600000',
    });
    // a connection per look: the next server's migration step wants the SQLite file to itself
    const withDb = async <T>(use: (prisma: Db) => Promise<T>): Promise<T> => {
      const db = openDatabase(database!.url);
      try {
        return await use(db.prisma);
      } finally {
        await db.close();
      }
    };
    {
      // A: the alert is queued with its execution; A dies before its worker's first poll
      const a = await spawnServer(env('server-a', 60_000));
      servers.push(a);
      const onA = new GraphQLClient(`${a.url}/graphql`);
      await alertingSchedule(onA, 'killed');
      await createChannel(onA, { name: 'pager', url: `${receiver.url}/hook`, secret: SECRET });
      const executionId = await withDb((prisma) => raiseAlert(onA, prisma, 'killed'));
      await a.kill('SIGKILL');
      const queued = await withDb((prisma) => prisma.alertDelivery.findFirstOrThrow({ where: { executionId } }));
      expect(queued).toMatchObject({ status: 'PENDING', attemptCount: 0, leaseOwner: null });
      expect(receiver.received).toEqual([]);

      // B: claims it, sends, and dies while the receiver holds the request
      const b = await spawnServer(env('server-b', 50));
      servers.push(b);
      await until('the request from B', async () => (receiver!.received.length === 1 ? true : null), 20_000);
      await b.kill('SIGKILL');
      const held = await withDb((prisma) => prisma.alertDelivery.findUniqueOrThrow({ where: { id: queued.id } }));
      expect(held).toMatchObject({ status: 'PENDING', attemptCount: 0, leaseOwner: 'server-b' });

      // C: once B's lease expires, C sends it again; the receiver fails it first, then comes up
      receiver.behave({ status: 500, body: 'receiver restarting' });
      const c = await spawnServer(env('server-c', 50));
      servers.push(c);
      const onC = new GraphQLClient(`${c.url}/graphql`);
      await until(
        'a failed attempt from C',
        async () =>
          (await withDb((prisma) => prisma.alertDeliveryAttempt.count({ where: { deliveryId: queued.id } })))
            ? true
            : null,
        30_000,
      );
      receiver.behave({ status: 200 });
      const [delivered] = await until(
        'the delivery delivered',
        async () => {
          const list = await deliveries(onC, 'pager');
          return list[0]?.status === 'DELIVERED' ? list : null;
        },
        20_000,
      );
      expect(delivered!.id).toBe(queued.id);
      expect(delivered!.executionId).toBe(executionId);
      const codes = delivered!.attempts.map((attempt) => attempt.statusCode);
      expect(codes.at(-1)).toBe(200);
      expect(codes.slice(0, -1).length).toBeGreaterThanOrEqual(1);
      expect(codes.slice(0, -1).every((code) => code === 500)).toBe(true);
      // B's lease was waited out: C's first attempt came after it expired
      expect(new Date(delivered!.attempts[0]!.at).getTime()).toBeGreaterThanOrEqual(held.leaseExpiresAt!.getTime());

      // every request: the same delivery id and bytes, validly signed (B's unrecorded one included)
      const received = receiver.received;
      expect(received.length).toBe(codes.length + 1);
      expect(new Set(received.map((r) => r.headers['x-vigil-delivery']))).toEqual(new Set([queued.id]));
      expect(new Set(received.map((r) => r.body))).toEqual(new Set([queued.body]));
      for (const request of received)
        expect(signatureValid(SECRET, request.body, request.headers['x-vigil-signature'])).toBe(true);
      expect(JSON.parse(queued.body)).toMatchObject({
        type: 'monitor.alert',
        alert: { executionId, endpoint: 'killed' },
      });
      expect(await withDb((prisma) => prisma.alertDelivery.count())).toBe(1);
    }
  }, 240_000);
});
