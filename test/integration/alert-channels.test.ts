/**
 * Alert channels through the real server: an execution with violations reaches a local HTTP receiver
 * as a signed POST (the test verifies the HMAC as a receiver would), in vigil's JSON or Slack's format;
 * failed deliveries are retried with exponential backoff, each attempt visible in alertDeliveries;
 * 4xx and redirects are given up at once (a redirect is never followed); a receiver that hangs or
 * answers without end is cut off; URLs outside ALERT_URL_ALLOWLIST are a typed error; secrets are
 * never returned. Two replicas on one PostgreSQL database send each delivery once.
 */
import { getNamedType, isObjectType } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { buildSchema } from '../../src/schema/index.ts';
import {
  alertingSchedule,
  CHANNELS,
  CREATE_CHANNEL,
  createChannel,
  DELETE_CHANNEL,
  DELIVERIES,
  deliveries,
  raiseAlert,
  TEST_CHANNEL,
  UPDATE_CHANNEL,
} from '../helpers/alerts.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { type Receiver, signatureValid, startReceiver } from '../helpers/receiver.ts';
import { startTestServer, type TestServer, useTestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const SECRET = 'whsec-0123456789abcdef';
const RETRY_BASE_MS = 200;
const MAX_ATTEMPTS = 5;
const TIMEOUT_MS = 1000;
const ALERT_ENV = {
  ALERT_URL_ALLOWLIST: '127.0.0.1',
  ALERT_POLL_INTERVAL_MS: '25',
  ALERT_RETRY_BASE_MS: String(RETRY_BASE_MS),
  ALERT_RETRY_MAX_MS: String(8 * RETRY_BASE_MS),
  ALERT_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  ALERT_TIMEOUT_MS: String(TIMEOUT_MS),
  SCHEDULER_INTERVAL_MS: '3600000',
};

const RUN_JOB = graphql(`
  mutation RunAdHocJob($from: DateTime!, $to: DateTime!) {
    runMonitoringJob(input: { endpoint: "signs", from: $from, to: $to, checks: { minSampleSize: 1 } }) {
      __typename
      ... on MonitoringExecution { trigger status }
    }
  }
`);

const receivers: Receiver[] = [];
async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

/** the channel's deliveries once every one has finished (delivered or given up) */
async function settled(server: TestServer, channel: string, count: number, timeoutMs = 15_000) {
  return until(
    `${count} finished deliveries of ${channel}`,
    async () => {
      const list = await deliveries(server.client, channel);
      return list.length === count && list.every((d) => d.status !== 'PENDING') ? list : null;
    },
    timeoutMs,
  );
}

describe('alert channels', () => {
  const server = useTestServer({ env: ALERT_ENV });

  it("delivers a signed alert once its execution commits: vigil's JSON to a WEBHOOK, Slack's format to SLACK; only for the channel's endpoints", async () => {
    const hook = await receiver();
    const slack = await receiver({ status: 200, body: 'ok' });
    const elsewhere = await receiver();
    await alertingSchedule(server.client, 'signs');
    await alertingSchedule(server.client, 'quiet');
    const webhook = await createChannel(server.client, {
      name: 'ops',
      url: `${hook.url}/vigil?team=ml`,
      secret: SECRET,
    });
    expect(webhook).toMatchObject({ kind: 'WEBHOOK', secretHint: '…cdef', endpoints: [] });
    await createChannel(server.client, {
      name: 'slack',
      kind: 'SLACK',
      url: `${slack.url}/services/T000/B000/XXXX`,
      secret: 'slack-signing-secret-1',
      endpoints: ['signs', 'signs'],
    });
    await createChannel(server.client, {
      name: 'quiet-only',
      url: elsewhere.url,
      secret: SECRET,
      endpoints: ['quiet'],
    });

    const executionId = await raiseAlert(server.client, server.app.database.prisma, 'signs');
    const [delivery] = await settled(server, 'ops', 1);
    expect(delivery).toMatchObject({
      kind: 'ALERT',
      status: 'DELIVERED',
      executionId,
      endpoint: 'signs',
      attemptCount: 1,
    });
    expect(delivery!.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null })]);

    // what the receiver got: one POST, signed over the exact bytes, the delivery id as idempotency key
    expect(hook.received).toHaveLength(1);
    const [request] = hook.received;
    expect(request!.path).toBe('/vigil?team=ml');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-vigil-delivery']).toBe(delivery!.id);
    expect(request!.headers['x-vigil-attempt']).toBe('1');
    expect(signatureValid(SECRET, request!.body, request!.headers['x-vigil-signature'])).toBe(true);
    expect(signatureValid('another-secret-xyz', request!.body, request!.headers['x-vigil-signature'])).toBe(false);
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({
      type: 'monitor.alert',
      delivery: delivery!.id,
      alert: { endpoint: 'signs', schedule: 'signs', executionId, status: 'CompletedWithViolations', recordCount: 20 },
    });
    expect(body.alert.violations[0].description).toMatch(/predicted 100\.00% of the time/);

    // Slack: text and blocks, signed with its own secret; the endpoint listed twice is stored once
    const [slackDelivery] = await settled(server, 'slack', 1);
    expect(slackDelivery!.status).toBe('DELIVERED');
    const slackBody = JSON.parse(slack.received[0]!.body);
    expect(slackBody.text).toBe('Monitoring alert: signs on signs — 1 violation');
    expect(slackBody.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
    expect(
      signatureValid(
        'slack-signing-secret-1',
        slack.received[0]!.body,
        slack.received[0]!.headers['x-vigil-signature'],
      ),
    ).toBe(true);
    const { alertChannels } = await server.client.data(CHANNELS);
    expect(alertChannels.find((c) => c.name === 'slack')!.endpoints).toEqual(['signs']);

    // an ad-hoc run over the same captures finds the same violation but alerts nobody: its transaction
    // queues no delivery (they would be there when the mutation answers)
    const { runMonitoringJob } = await server.client.data(RUN_JOB, {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
    });
    expectTypename(runMonitoringJob, 'MonitoringExecution');
    expect(runMonitoringJob).toMatchObject({ trigger: 'AD_HOC', status: 'CompletedWithViolations' });
    expect(await deliveries(server.client, 'ops')).toHaveLength(1);
    expect(await deliveries(server.client, 'slack')).toHaveLength(1);

    // a channel of another endpoint gets nothing
    expect(await deliveries(server.client, 'quiet-only')).toEqual([]);
    expect(elsewhere.received).toEqual([]);
    for (const name of ['ops', 'slack', 'quiet-only'])
      expectTypename((await server.client.data(DELETE_CHANNEL, { name })).deleteAlertChannel, 'AlertChannel');
  });

  it('retries with exponential backoff and jitter until the receiver answers, every attempt in alertDeliveries', async () => {
    const flaky = await receiver({ status: 503, body: 'down for maintenance' });
    await alertingSchedule(server.client, 'flaky');
    await createChannel(server.client, { name: 'flaky', url: flaky.url, secret: SECRET, endpoints: ['flaky'] });
    await raiseAlert(server.client, server.app.database.prisma, 'flaky');

    // while it fails, the delivery waits for its next attempt
    const pending = await until('a failed attempt', async () => {
      const [d] = await deliveries(server.client, 'flaky');
      return d && d.attemptCount >= 1 && d.status === 'PENDING' ? d : null;
    });
    expect(pending.nextAttemptAt).not.toBeNull();
    expect(pending.lastError).toBe('HTTP 503: down for maintenance');
    await until('three attempts', async () => (flaky.received.length >= 3 ? true : null));
    flaky.behave({ status: 204 });

    const [delivery] = await settled(server, 'flaky', 1);
    expect(delivery!.status).toBe('DELIVERED');
    expect(delivery!.nextAttemptAt).toBeNull();
    const codes = delivery!.attempts.map((a) => a.statusCode);
    expect(codes.at(-1)).toBe(204);
    expect(codes.slice(0, -1).every((c) => c === 503)).toBe(true);
    expect(delivery!.attempts.map((a) => a.attempt)).toEqual(codes.map((_, i) => i + 1));
    // the same delivery id and body on every attempt; the attempt number counts up
    expect(new Set(flaky.received.map((r) => r.headers['x-vigil-delivery']))).toEqual(new Set([delivery!.id]));
    expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1);
    expect(flaky.received.map((r) => r.headers['x-vigil-attempt'])).toEqual(codes.map((_, i) => String(i + 1)));
    // backoff: the wait before attempt n+1 is at least half of base × 2^(n−1) (jitter draws from the upper half)
    const times = delivery!.attempts.map((a) => new Date(a.at).getTime());
    for (let n = 1; n < times.length; n++)
      expect(times[n]! - times[n - 1]!, `wait after attempt ${n}`).toBeGreaterThanOrEqual(
        (RETRY_BASE_MS * 2 ** (n - 1)) / 2,
      );
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    const limited = await receiver({ status: 429, retryAfter: '1' });
    await alertingSchedule(server.client, 'limited');
    await createChannel(server.client, { name: 'limited', url: limited.url, secret: SECRET, endpoints: ['limited'] });
    await raiseAlert(server.client, server.app.database.prisma, 'limited');
    await until('a rate-limited attempt', async () => (limited.received.length ? true : null));
    limited.behave({ status: 200 });
    const [delivery] = await settled(server, 'limited', 1);
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([429, 200]);
    const [first, second] = delivery!.attempts.map((a) => new Date(a.at).getTime());
    // the backoff alone would have waited 100–200 ms
    expect(second! - first!).toBeGreaterThanOrEqual(1000);
  });

  it('gives up after the maximum attempts on 5xx, and at once on a 4xx or a redirect (never followed)', async () => {
    const failing = await receiver({ status: 500 });
    const gone = await receiver({ status: 410 });
    const target = await receiver();
    const redirecting = await receiver({ status: 302, location: `${target.url}/elsewhere` });
    await alertingSchedule(server.client, 'failing');
    for (const [name, r] of [
      ['failing', failing],
      ['gone', gone],
      ['redirecting', redirecting],
    ] as const)
      await createChannel(server.client, { name, url: r.url, secret: SECRET, endpoints: ['failing'] });
    await raiseAlert(server.client, server.app.database.prisma, 'failing');

    const [exhausted] = await settled(server, 'failing', 1);
    expect(exhausted).toMatchObject({ status: 'FAILED', attemptCount: MAX_ATTEMPTS, lastError: 'HTTP 500' });
    expect(exhausted!.attempts.map((a) => a.statusCode)).toEqual(Array(MAX_ATTEMPTS).fill(500));
    expect(failing.received).toHaveLength(MAX_ATTEMPTS);

    const [refused] = await settled(server, 'gone', 1);
    expect(refused).toMatchObject({ status: 'FAILED', attemptCount: 1, lastError: 'HTTP 410' });
    const [redirected] = await settled(server, 'redirecting', 1);
    expect(redirected).toMatchObject({ status: 'FAILED', attemptCount: 1 });
    expect(redirected!.lastError).toBe(`redirect not followed (to ${target.url}/elsewhere)`);
    expect(redirected!.attempts[0]!.statusCode).toBe(302);
    expect(target.received).toEqual([]);

    // on /metrics, per channel: what was given up, and nothing left waiting
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['failing', 'gone', 'redirecting']) {
      expect(metrics).toContain(`vigil_alert_deliveries_failed{channel="${name}"} 1`);
      expect(metrics).toContain(`vigil_alert_deliveries_pending{channel="${name}"} 0`);
      expect(metrics).toContain(`vigil_alert_oldest_pending_seconds{channel="${name}"} 0`);
    }
  });

  it('testAlertChannel sends one signed test message now; a receiver that hangs or answers without end is cut off', async () => {
    const ok = await receiver();
    await createChannel(server.client, { name: 'tested', url: ok.url, secret: SECRET });
    const { testAlertChannel } = await server.client.data(TEST_CHANNEL, { name: 'tested' });
    expectTypename(testAlertChannel, 'AlertDelivery');
    expect(testAlertChannel).toMatchObject({ kind: 'TEST', status: 'DELIVERED', executionId: null, attemptCount: 1 });
    expect(ok.received).toHaveLength(1);
    expect(ok.received[0]!.headers['x-vigil-delivery']).toBe(testAlertChannel.id);
    expect(signatureValid(SECRET, ok.received[0]!.body, ok.received[0]!.headers['x-vigil-signature'])).toBe(true);
    expect(JSON.parse(ok.received[0]!.body)).toMatchObject({ type: 'test', channel: 'tested' });

    // hangs: the attempt ends at the time limit; a test is not retried
    ok.behave({ hang: true });
    const { testAlertChannel: hung } = await server.client.data(TEST_CHANNEL, { name: 'tested' });
    expectTypename(hung, 'AlertDelivery');
    expect(hung).toMatchObject({ status: 'FAILED', attemptCount: 1, lastError: `no answer within ${TIMEOUT_MS} ms` });
    expect(hung.attempts[0]!.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(hung.attempts[0]!.durationMs).toBeLessThan(TIMEOUT_MS + 2000);

    // 200 MB of response: read no further than a small limit, the connection dropped
    ok.behave({ hugeBody: 200 * 1024 * 1024 });
    const { testAlertChannel: huge } = await server.client.data(TEST_CHANNEL, { name: 'tested' });
    expectTypename(huge, 'AlertDelivery');
    expect(huge).toMatchObject({ status: 'DELIVERED', attemptCount: 1 });
    expect(huge.attempts[0]!.durationMs).toBeLessThan(TIMEOUT_MS);

    // no receiver at all
    const closed = await receiver();
    await closed.close();
    await createChannel(server.client, { name: 'nobody', url: closed.url, secret: SECRET });
    const { testAlertChannel: refused } = await server.client.data(TEST_CHANNEL, { name: 'nobody' });
    expectTypename(refused, 'AlertDelivery');
    expect(refused).toMatchObject({ status: 'FAILED', lastError: 'ECONNREFUSED' });
    expect(refused.attempts[0]!.statusCode).toBeNull();

    const list = await deliveries(server.client, 'tested');
    expect(list.map((d) => d.status)).toEqual(['DELIVERED', 'FAILED', 'DELIVERED']);
    const { alertDeliveries: onlyFailed } = await server.client.data(DELIVERIES, {
      channel: 'tested',
      status: 'FAILED',
    });
    expectTypename(onlyFailed, 'AlertDeliveryList');
    expect(onlyFailed.deliveries.map((d) => d.id)).toEqual([hung.id]);
  });

  it('refuses URLs outside ALERT_URL_ALLOWLIST and internal addresses with a ValidationError on input.url', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:8080/',
      'http://[::1]/',
      'http://0.0.0.0:4000/',
      'https://hooks.slack.com/services/T/B/X',
      'http://127.0.0.1@10.0.0.1/',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_FLUSHALL',
    ]) {
      const { createAlertChannel } = await server.client.data(CREATE_CHANNEL, {
        input: { name: 'refused', kind: 'WEBHOOK', url, secret: SECRET },
      });
      expectTypename(createAlertChannel, 'ValidationError');
      expect(createAlertChannel.field, url).toBe('input.url');
      expect(createAlertChannel.message, url).toMatch(/^url refused: /);
    }
    const { alertChannels } = await server.client.data(CHANNELS);
    expect(alertChannels.map((c) => c.name)).not.toContain('refused');
    // stored as it is requested: another spelling of an allowed address is that address
    const normalized = await createChannel(server.client, {
      name: 'decimal',
      url: 'http://2130706433:9/x',
      secret: SECRET,
    });
    expect(normalized.url).toBe('http://127.0.0.1:9/x');
  });

  it('never returns a secret: no field holds it, answers do not contain it; updates keep what they do not name', async () => {
    const target = await receiver();
    const created = await server.client.request(CREATE_CHANNEL, {
      input: { name: 'secretive', kind: 'WEBHOOK', url: target.url, secret: 'top-secret-value-0042' },
    });
    expect(JSON.stringify(created)).not.toContain('top-secret-value');
    const channelType = buildSchema().getType('AlertChannel');
    expect(isObjectType(channelType) && Object.keys(channelType.getFields())).not.toContain('secret');
    for (const type of Object.values(buildSchema().getTypeMap()))
      if (isObjectType(type) && type.name.startsWith('Alert'))
        for (const field of Object.values(type.getFields()))
          expect(`${type.name}.${field.name}: ${getNamedType(field.type).name}`).not.toMatch(/\.secret:/);
    expect(JSON.stringify(await server.client.request(CHANNELS))).not.toContain('top-secret-value');

    const { updateAlertChannel } = await server.client.data(UPDATE_CHANNEL, {
      name: 'secretive',
      input: { secret: 'rotated-secret-value-77', kind: 'SLACK' },
    });
    expectTypename(updateAlertChannel, 'AlertChannel');
    expect(updateAlertChannel).toMatchObject({
      kind: 'SLACK',
      url: `${target.url}/`,
      secretHint: '…e-77',
      endpoints: [],
    });
    const { testAlertChannel } = await server.client.data(TEST_CHANNEL, { name: 'secretive' });
    expectTypename(testAlertChannel, 'AlertDelivery');
    const [request] = target.received;
    expect(signatureValid('rotated-secret-value-77', request!.body, request!.headers['x-vigil-signature'])).toBe(true);
    expect(JSON.parse(request!.body).text).toContain('secretive');

    const { updateAlertChannel: refused } = await server.client.data(UPDATE_CHANNEL, {
      name: 'secretive',
      input: { url: 'http://192.168.1.1/' },
    });
    expectTypename(refused, 'ValidationError');
    const { deleteAlertChannel } = await server.client.data(DELETE_CHANNEL, { name: 'secretive' });
    expectTypename(deleteAlertChannel, 'AlertChannel');
    const { alertDeliveries } = await server.client.data(DELIVERIES, { channel: 'secretive' });
    expectTypename(alertDeliveries, 'NotFoundError');
    expect(await server.app.database.prisma.alertDelivery.count({ where: { id: testAlertChannel.id } })).toBe(0);
  });
});

const postgres = process.env.VIGIL_TEST_DB === 'postgres';

describe.skipIf(!postgres)('two replicas on one PostgreSQL database', () => {
  it('send each delivery exactly once, whichever claims it', async () => {
    const target = await receiver();
    const a = await startTestServer({ env: { ...ALERT_ENV, INSTANCE_ID: 'replica-a', ALERT_POLL_INTERVAL_MS: '20' } });
    const b = await startTestServer({
      env: { ...ALERT_ENV, INSTANCE_ID: 'replica-b', ALERT_POLL_INTERVAL_MS: '20' },
      database: a.database,
    });
    try {
      await alertingSchedule(a.client, 'shared');
      for (const name of ['one', 'two', 'three'])
        await createChannel(a.client, { name, url: `${target.url}/${name}`, secret: SECRET });
      for (let i = 0; i < 8; i++) await raiseAlert(i % 2 ? a.client : b.client, a.app.database.prisma, 'shared');
      const all = await until('24 deliveries delivered', async () => {
        const rows = await a.app.database.prisma.alertDelivery.findMany({ select: { id: true, status: true } });
        return rows.length === 24 && rows.every((r) => r.status === 'DELIVERED') ? rows : null;
      });
      const ids = target.received.map((r) => r.headers['x-vigil-delivery']);
      expect(ids).toHaveLength(24);
      expect(new Set(ids)).toEqual(new Set(all.map((r) => r.id)));
      const attempts = await a.app.database.prisma.alertDeliveryAttempt.count();
      expect(attempts).toBe(24);
    } finally {
      await b.app.close();
      await a.close();
    }
  }, 120_000);
});
