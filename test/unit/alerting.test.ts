/**
 * Alert delivery's pure parts: where a channel may send (the SSRF guard), when a failed delivery is
 * tried again, and what is sent and signed.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isRetryable,
  nextAttemptAt,
  type RetryPolicy,
  retryAfterMs,
  retryDelayMs,
} from '../../src/alerting/backoff.ts';
import {
  checkDestination,
  type DestinationPolicy,
  DestinationRefused,
  isInternalAddress,
  type ResolvedAddress,
} from '../../src/alerting/destination.ts';
import { alertBody, sign, testBody } from '../../src/alerting/payload.ts';
import { post } from '../../src/alerting/sender.ts';
import type { MonitorAlert } from '../../src/monitor/alerts/types.ts';
import { startReceiver } from '../helpers/receiver.ts';

/** a resolver answering from a table (no DNS) */
function resolver(table: Record<string, string[]>): DestinationPolicy['resolve'] {
  return async (host) => {
    const found = table[host];
    if (!found) throw new DestinationRefused(`host '${host}' does not resolve (ENOTFOUND)`);
    return found.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const DNS = resolver({
  'hooks.example.com': ['93.184.216.34'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
  'metadata.example.com': ['169.254.169.254'],
  'six.example.com': ['2606:2800:220:1::1'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'receiver.internal': ['10.9.9.9'],
  'zero.example.com': ['0.0.0.0'],
});
const OPEN: DestinationPolicy = { allowlist: [], resolve: DNS };
const LISTED: DestinationPolicy = { allowlist: ['receiver.internal', '127.0.0.1', 'zero.example.com'], resolve: DNS };

describe('alert destinations (SSRF guard)', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:a00:1',
    'not an address',
  ])('%s is internal', (address) => {
    expect(isInternalAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:2800:220:1::1'])('%s is public', (address) => {
    expect(isInternalAddress(address)).toBe(false);
  });

  it('lets a public https host through with its resolved addresses', async () => {
    const destination = await checkDestination('https://hooks.example.com/vigil?x=1', OPEN);
    expect(destination.url.hostname).toBe('hooks.example.com');
    expect(destination.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect((await checkDestination('https://six.example.com/', OPEN)).addresses[0]!.family).toBe(6);
    // encoded line breaks stay encoded on the wire: no header can be injected through the path
    expect((await checkDestination('https://hooks.example.com/a%0d%0aX:%201', OPEN)).url.pathname).toBe(
      '/a%0d%0aX:%201',
    );
  });

  it.each([
    ['https://internal.example.com/', /resolves to 10\.1\.2\.3, a loopback, private or reserved address/],
    ['https://mixed.example.com/', /resolves to 192\.168\.1\.10/],
    ['https://metadata.example.com/latest/meta-data/', /169\.254\.169\.254/],
    ['https://mapped.example.com/', /::ffff:127\.0\.0\.1/],
    ['https://127.0.0.1/', /resolves to 127\.0\.0\.1/],
    ['https://2130706433/', /resolves to 127\.0\.0\.1/],
    ['https://0x7f.1/', /resolves to 127\.0\.0\.1/],
    ['https://[::1]/', /resolves to ::1/],
    ['https://[::ffff:7f00:1]/', /resolves to ::ffff:7f00:1/],
    ['https://localhost./', /does not resolve/],
    ['https://nowhere.example.com/', /does not resolve/],
    ['http://hooks.example.com/', /use https:\/\//],
    ['ftp://hooks.example.com/', /expected an http:\/\/ or https:\/\/ URL/],
    ['file:///etc/passwd', /expected an http/],
    ['javascript:alert(1)', /expected an http/],
    ['gopher://127.0.0.1:6379/_FLUSHALL', /expected an http/],
    ['https://user:pass@hooks.example.com/', /credentials/],
    ['not a url', /spaces or control characters/],
    ['https://hooks.example.com/a\r\nX-Injected: 1', /spaces or control characters/],
    ['https://hooks.exa\tmple.com/', /spaces or control characters/],
    [' https://hooks.example.com/', /spaces or control characters/],
    [`https://hooks.example.com/${'a'.repeat(2100)}`, /longer than 2048/],
  ])('refuses %s when nothing is listed', async (url, reason) => {
    await expect(checkDestination(url, OPEN)).rejects.toThrow(DestinationRefused);
    await expect(checkDestination(url, OPEN)).rejects.toThrow(reason);
  });

  it('with ALERT_URL_ALLOWLIST, takes only the hosts listed, which may be internal and plain http', async () => {
    expect((await checkDestination('http://receiver.internal:8080/hook', LISTED)).addresses).toEqual([
      { address: '10.9.9.9', family: 4 },
    ]);
    expect((await checkDestination('http://127.0.0.1:9/', LISTED)).addresses[0]!.address).toBe('127.0.0.1');
    await expect(checkDestination('https://hooks.example.com/', LISTED)).rejects.toThrow(
      "host 'hooks.example.com' is not in ALERT_URL_ALLOWLIST",
    );
    await expect(checkDestination('http://127.0.0.2/', LISTED)).rejects.toThrow(/not in ALERT_URL_ALLOWLIST/);
    // never an unspecified address, listed or not
    await expect(checkDestination('https://zero.example.com/', LISTED)).rejects.toThrow(/unspecified address/);
  });
});

const POLICY: RetryPolicy = { baseMs: 1000, maxDelayMs: 60_000, maxAttempts: 5, maxAgeMs: 3_600_000 };

describe('retries', () => {
  it('doubles the delay per attempt, jittered within its upper half, up to the cap', () => {
    for (const [attempt, step] of [
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [7, 60_000],
      [60, 60_000],
    ] as const) {
      expect(retryDelayMs(attempt, POLICY, () => 0)).toBe(step / 2);
      expect(retryDelayMs(attempt, POLICY, () => 0.999999)).toBe(step);
    }
    const drawn = new Set(Array.from({ length: 50 }, () => retryDelayMs(3, POLICY)));
    expect(drawn.size).toBeGreaterThan(10);
    for (const delay of drawn) expect(delay).toBeGreaterThanOrEqual(2000);
  });

  it('gives up after maxAttempts, or when the next attempt would start past maxAge', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    expect(nextAttemptAt(1, created, created, POLICY, () => 0)).toEqual(new Date(created.getTime() + 500));
    expect(nextAttemptAt(4, created, created, POLICY, () => 0)).not.toBeNull();
    expect(nextAttemptAt(5, created, created, POLICY, () => 0)).toBeNull();
    const late = new Date(created.getTime() + 3_600_000 - 100);
    expect(nextAttemptAt(1, created, late, POLICY, () => 0)).toBeNull();
  });

  it("honours a receiver's Retry-After in seconds, up to the longest delay, never sooner than the backoff", () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const at = (retryAfter?: number) =>
      nextAttemptAt(1, now, now, POLICY, () => 0, retryAfter)!.getTime() - now.getTime();
    expect(retryAfterMs('30')).toBe(30_000);
    for (const ignored of ['Wed, 21 Oct 2026 07:28:00 GMT', '-1', '1e9', '', undefined])
      expect(retryAfterMs(ignored)).toBeUndefined();
    expect(at()).toBe(500);
    expect(at(30_000)).toBe(30_000);
    expect(at(100)).toBe(500);
    expect(at(9_999_000)).toBe(60_000);
  });

  it('repeats what may succeed later: no answer, 408, 429, 5xx; not redirects or other 4xx', () => {
    expect([null, 408, 429, 500, 502, 503].map(isRetryable)).toEqual([true, true, true, true, true, true]);
    expect([301, 302, 307, 400, 401, 403, 404, 410, 413].map(isRetryable)).toEqual(Array(9).fill(false));
  });
});

const ALERT: MonitorAlert = {
  endpoint: 'signs',
  schedule: 'signs-hourly',
  executionId: 'e-1',
  status: 'CompletedWithViolations',
  message: 'CompletedWithViolations: Class 14 <Stop> & more',
  windowStart: '2026-01-01T00:00:00.000Z',
  windowEnd: '2026-01-01T01:00:00.000Z',
  recordCount: 120,
  violations: Array.from({ length: 12 }, (_, i) => ({
    check: 'CLASS_SHARE' as const,
    featureName: 'PredictedClass',
    constraintCheckType: 'baseline_drift_check' as const,
    description: `violation ${i} <b>&`,
  })),
  at: '2026-01-01T01:00:01.000Z',
};

describe('payloads', () => {
  it('signs the exact body with HMAC-SHA256 as sha256=<hex>', () => {
    const body = alertBody('WEBHOOK', 'd-1', ALERT);
    const expected = createHmac('sha256', 'a-secret-of-16-chars').update(Buffer.from(body)).digest('hex');
    expect(sign('a-secret-of-16-chars', body)).toBe(`sha256=${expected}`);
    expect(sign('another-secret-16chars', body)).not.toBe(`sha256=${expected}`);
  });

  it("WEBHOOK sends the alert as the subscription carries it; SLACK, Slack's text and blocks, escaped and cut", () => {
    expect(JSON.parse(alertBody('WEBHOOK', 'd-1', ALERT))).toEqual({
      type: 'monitor.alert',
      delivery: 'd-1',
      alert: ALERT,
    });
    const slack = JSON.parse(alertBody('SLACK', 'd-1', ALERT));
    expect(slack.text).toBe('Monitoring alert: signs-hourly on signs — 12 violations');
    expect(slack.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
    const section: string = slack.blocks[1].text.text;
    expect(section).toContain('• violation 0 &lt;b&gt;&amp;');
    expect(section).not.toContain('violation 10');
    expect(section).toContain('…and 2 more');
    expect(JSON.parse(testBody('SLACK', 'd-2', 'ops', new Date())).text).toContain('ops');
    expect(JSON.parse(testBody('WEBHOOK', 'd-2', 'ops', new Date(0)))).toMatchObject({ type: 'test', delivery: 'd-2' });
  });
});

describe('the request', () => {
  it('connects only to the checked addresses: the hostname is never resolved again (no DNS rebinding)', async () => {
    const receiver = await startReceiver({ status: 202 });
    try {
      const port = new URL(receiver.url).port;
      // a name no resolver knows, pinned to the receiver's address: reached only through the pin
      const url = new URL(`http://rebinding.invalid:${port}/hook?x=1`);
      const outcome = await post(
        { url, addresses: [{ address: '127.0.0.1', family: 4 }] },
        '{"a":1}',
        { 'x-test': '1' },
        {
          timeoutMs: 5000,
        },
      );
      expect(outcome.statusCode).toBe(202);
      expect(outcome.error).toBeUndefined();
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]).toMatchObject({ path: '/hook?x=1', body: '{"a":1}' });
      expect(receiver.received[0]!.headers.host).toBe(`rebinding.invalid:${port}`);
      expect(receiver.received[0]!.headers['x-test']).toBe('1');
    } finally {
      await receiver.close();
    }
  });
});
