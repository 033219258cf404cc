/**
 * Nothing internal leaks: an unexpected failure reaches the client as a stable code, a message written
 * for it and an error id, and the log line with the exception carries the same id. Faults are made in
 * the real server: a service method that throws, a readiness check that throws, a table that is gone
 * while a monitoring schedule runs, a subscription source that fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WsSubscription } from '../helpers/graphql.ts';
import { type LogLine, recordingLogger, useTestServer } from '../helpers/server.ts';

const SECRET = 'postgres://vigil:hunter2@db.internal/vigil at /srv/vigil/src/db/client.ts';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('unexpected failures reach clients as a code and an error id, the exception only the log', () => {
  const lines: LogLine[] = [];
  const server = useTestServer({ logger: recordingLogger(lines) });
  const restore: (() => void)[] = [];
  afterEach(() => restore.splice(0).forEach((undo) => undo()));

  /** replaces a method of a live service for one test */
  function breakMethod<T extends object, K extends keyof T>(target: T, key: K, replacement: T[K]): void {
    const original = target[key];
    target[key] = replacement;
    restore.push(() => {
      target[key] = original;
    });
  }

  const loggedWith = (errorId: unknown) => lines.filter((l) => l.fields.errorId === errorId);

  it('a resolver: INTERNAL_SERVER_ERROR with an errorId that names the logged exception', async () => {
    const endpoints = server.app.services.endpoints;
    breakMethod(endpoints, 'list', async () => {
      throw new Error(SECRET);
    });
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ endpoints { name } }' }),
    });
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('/srv/vigil');
    const body = JSON.parse(text) as {
      errors: { message: string; path: string[]; extensions: { code: string; errorId: string } }[];
    };
    const [error] = body.errors;
    expect(error!.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error!.extensions.errorId).toMatch(UUID);
    expect(error!.path).toEqual(['endpoints']);
    const logged = loggedWith(error!.extensions.errorId);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0]!.fields.error, (_k, v: unknown) => (v instanceof Error ? v.message : v))).toContain(
      'hunter2',
    );
  });

  it('a plain route: 500 with code and errorId, the exception in the log line of that id', async () => {
    breakMethod(server.app.services.monitor.metrics, 'collect', async () => {
      throw new Error(SECRET);
    });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    const body = JSON.parse(text) as { code: string; errorId: string };
    expect(body.code).toBe('INTERNAL_SERVER_ERROR');
    expect(loggedWith(body.errorId)).toHaveLength(1);
  });

  it('/readyz: a check that throws is reported failed with an errorId, not its exception', async () => {
    breakMethod(server.app.services.runtimes, 'loaded', async () => {
      throw new Error(SECRET);
    });
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    const models = (JSON.parse(text) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find(
      (c) => c.name === 'models',
    )!;
    expect(models.ok).toBe(false);
    const errorId = /errorId ([0-9a-f-]{36})/.exec(models.detail)?.[1];
    expect(errorId).toMatch(UUID);
    expect(loggedWith(errorId)).toHaveLength(1);
  });

  it('a failed monitoring execution: its message gives an errorId, not the SQL error', async () => {
    await server.client.data('mutation { createEndpoint(input: { name: "watched" }) { __typename } }');
    const create = await server.client.data(
      'mutation { createMonitoringSchedule(input: { name: "hourly", endpoint: "watched", cron: "0 * * * *" }) { __typename } }',
    );
    expect(create.createMonitoringSchedule.__typename).toBe('MonitoringSchedule');
    const RUN =
      'mutation { runMonitoringSchedule(name: "hourly") { __typename ... on MonitoringExecution { status message } } }';
    expect((await server.client.data(RUN)).runMonitoringSchedule.status).toBe('Completed');
    // the table the window is counted from is gone while the second run counts it
    const prisma = server.app.database.prisma;
    await prisma.$executeRawUnsafe('ALTER TABLE "Capture" RENAME TO "CaptureAway"');
    let run: { status: string; message: string };
    try {
      run = (await server.client.data(RUN)).runMonitoringSchedule;
    } finally {
      await prisma.$executeRawUnsafe('ALTER TABLE "CaptureAway" RENAME TO "Capture"');
    }
    expect(run.status).toBe('Failed');
    expect(run.message).not.toMatch(/Capture|table|relation|SELECT/i);
    const errorId = /errorId ([0-9a-f-]{36})/.exec(run.message)?.[1];
    expect(errorId, run.message).toMatch(UUID);
    expect(
      JSON.stringify(loggedWith(errorId)[0]?.fields.error, (_k, v: unknown) => (v instanceof Error ? v.message : v)),
    ).toMatch(/Capture/);
  });

  it('a subscription whose source fails: the graphql-ws error has the code and errorId, not the text', async () => {
    await server.client.data('mutation { createEndpoint(input: { name: "live" }) { __typename } }');
    const pubsub = server.app.services.pubsub;
    const subscribe = pubsub.subscribe.bind(pubsub);
    breakMethod(pubsub, 'subscribe', ((...args: Parameters<typeof subscribe>) => {
      if (args[0] !== 'prediction') return subscribe(...args);
      return (async function* failing() {
        await new Promise((r) => setTimeout(r, 20));
        throw new Error(SECRET);
      })();
    }) as typeof pubsub.subscribe);
    const subscription = new WsSubscription(server.wsUrl, 'subscription { predictions(endpoint: "live") { label } }');
    try {
      await subscription.ready(300);
      const errors = JSON.stringify(subscription.errors);
      expect(errors).not.toContain('hunter2');
      expect(errors).toContain('INTERNAL_SERVER_ERROR');
      const errorId = /"errorId":"([0-9a-f-]{36})"/.exec(errors)?.[1];
      expect(errorId).toMatch(UUID);
      expect(loggedWith(errorId)).toHaveLength(1);
    } finally {
      await subscription.close();
    }
  });

  it('a WebSocket connection whose setup fails: closed 4500 with an errorId as the reason, not the text', async () => {
    // the keys cannot be read (e.g. the database is away) while a connection authenticates
    breakMethod(server.app.services.apiKeys, 'keys', () => Promise.reject(new Error(SECRET)));
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    const { code, reason } = await closed;
    expect(code).toBe(4500);
    expect(reason).not.toContain('hunter2');
    const errorId = /^Internal server error \(error id ([0-9a-f-]{36})\)$/.exec(reason)?.[1];
    expect(errorId, reason).toMatch(UUID);
    expect(loggedWith(errorId)).toHaveLength(1);
    expect(
      JSON.stringify(loggedWith(errorId)[0]?.fields.error, (_k, v: unknown) => (v instanceof Error ? v.message : v)),
    ).toContain('hunter2');
  });
});
