/**
 * /metrics after real traffic: GraphQL requests, errors by code and latency, batch sizes, commit latency,
 * subscriptions by transport, readiness, in the Prometheus text format; and /readyz answered from state the
 * server holds (no SQL, well under a millisecond of CPU).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseSubscription, WsSubscription } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const CLASSIFY = `mutation Classify($endpoint: String!, $image: ImageInput!) {
  predict(endpoint: $endpoint, image: $image) { __typename }
}`;
const WATCH = 'subscription Watch { predictions(endpoint: "signs") { captureId } }';

/** the value of one sample, by its exact name and labels */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('serving metrics and readiness', () => {
  const statements: string[] = [];
  let recording = false;
  const server = useTestServer({
    env: { INFERENCE_DEVICE: 'cpu' },
    config: { onQuery: (sql) => void (recording && statements.push(sql)) },
  });
  let ws: WsSubscription;
  let sse: SseSubscription;
  beforeAll(async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }',
    );
    ws = new WsSubscription(server.wsUrl, WATCH);
    sse = new SseSubscription(server.graphqlUrl, WATCH);
    await Promise.all([ws.ready(), sse.ready()]);
  });
  afterAll(async () => {
    sse?.close();
    await ws?.close();
  });

  it('exposes requests, errors by code, latency, batches, commits, queues and subscriptions', async () => {
    const image = { base64: fixture('stop_like_octagon.png').toString('base64') };
    for (let i = 0; i < 3; i++) {
      expect((await server.client.data(CLASSIFY, { endpoint: 'signs', image })).predict.__typename).toBe('Prediction');
    }
    expect((await server.client.data(CLASSIFY, { endpoint: 'nowhere', image })).predict.__typename).toBe(
      'NotFoundError',
    );
    expect((await server.client.request('{ nope }')).errors).toHaveLength(1);
    await ws.waitFor(3);

    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();

    // the exposition's shape: HELP and TYPE once per family, then samples `name{labels} value`
    const lines = text.trimEnd().split('\n');
    const types = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(types).size).toBe(types.length);
    for (const line of lines.filter((l) => !l.startsWith('#')))
      expect(line).toMatch(/^[a-z_:][a-z0-9_:]*(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/i);
    expect(text).toMatch(/# TYPE vigil_graphql_requests_total counter/);
    expect(text).toMatch(/# TYPE vigil_graphql_request_duration_seconds histogram/);

    expect(sample(text, 'vigil_graphql_requests_total{operation="Classify",type="mutation"}')).toBe(4);
    expect(sample(text, 'vigil_graphql_requests_total{operation="Watch",type="subscription"}')).toBe(2);
    expect(sample(text, 'vigil_graphql_errors_total{operation="Classify",code="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'vigil_graphql_errors_total{operation="_invalid",code="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);

    // a histogram: cumulative buckets ending in +Inf = _count
    const duration = 'vigil_graphql_request_duration_seconds';
    const buckets = lines
      .filter((l) => l.startsWith(`${duration}_bucket{operation="Classify",type="mutation",`))
      .map((l) => Number(l.split(' ')[1]));
    expect(buckets.length).toBeGreaterThan(5);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(buckets.at(-1)).toBe(4);
    expect(sample(text, `${duration}_count{operation="Classify",type="mutation"}`)).toBe(4);
    expect(sample(text, `${duration}_sum{operation="Classify",type="mutation"}`)).toBeGreaterThan(0);

    const serving = '{model="gtsrb-resnet18",graph="serving"}';
    expect(sample(text, `vigil_inference_batch_size_sum${serving}`)).toBe(3);
    expect(sample(text, `vigil_inference_batch_duration_seconds_count${serving}`)).toBe(
      sample(text, `vigil_inference_batch_size_count${serving}`),
    );
    // the group commit's own stats: three requests committed, in one to three commits
    expect(sample(text, 'vigil_capture_commits_total')).toBe(3);
    expect(sample(text, 'vigil_capture_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'vigil_capture_commit_duration_seconds_count')).toBeLessThanOrEqual(3);
    expect(sample(text, 'vigil_capture_write_failures_total')).toBe(0);
    expect(sample(text, 'vigil_capture_writes_pending')).toBe(0);
    expect(sample(text, 'vigil_capture_writes_pending_limit')).toBe(512);
    expect(sample(text, 'vigil_capture_commit_lag_seconds')).toBe(0);
    expect(sample(text, 'vigil_inference_queued_images')).toBe(0);
    expect(sample(text, 'vigil_inference_queued_images_limit')).toBe(256);
    expect(sample(text, 'vigil_debugger_encoder_queued_steps_limit')).toBe(64);

    expect(sample(text, 'vigil_subscriptions_active{transport="websocket"}')).toBe(1);
    expect(sample(text, 'vigil_subscriptions_active{transport="sse"}')).toBe(1);
    expect(sample(text, 'vigil_websocket_connections')).toBe(1);
    expect(sample(text, 'vigil_http_requests_in_flight')).toBe(2); // the SSE stream and this scrape
    expect(sample(text, 'vigil_ready')).toBe(1);
    expect(sample(text, 'vigil_readiness_check{check="database"}')).toBe(1);
    expect(sample(text, 'vigil_shutting_down')).toBe(0);
    expect(sample(text, 'vigil_event_bus_info{kind="memory"}')).toBe(1);
    expect(sample(text, 'vigil_event_bus_state{state="in-process"}')).toBe(1);
    expect(sample(text, 'vigil_event_bus_redis_outages_total')).toBe(0);
    expect(sample(text, 'vigil_event_bus_published_total')).toBeGreaterThan(0);
    // the process gauges that were there before stay
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('/readyz answers from state the server holds: no SQL, under 1 ms of CPU a call', async () => {
    const { yoga } = server.app.server;
    // straight into Yoga, without a connection: what Node's listener passes, from an unconnected socket
    const req = new IncomingMessage(new Socket());
    const serverContext = { req, res: new ServerResponse(req) };
    const ask = () => yoga.fetch('http://localhost/readyz', {}, serverContext);
    for (let i = 0; i < 20; i++) await ask(); // warm
    statements.length = 0;
    recording = true;
    const calls = 200;
    const cpu = process.cpuUsage();
    try {
      for (let i = 0; i < calls; i++) expect((await ask()).status).toBe(200);
    } finally {
      recording = false;
    }
    const used = process.cpuUsage(cpu);
    const microsPerCall = (used.user + used.system) / calls;
    // the database is asked in the background, every 2 s: at most one such ping falls in this window
    expect(statements.filter((s) => s !== 'SELECT 1')).toEqual([]);
    expect(statements.length).toBeLessThanOrEqual(1);
    expect(microsPerCall).toBeLessThan(1000);
    const body = (await (await ask()).json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('ready');
    expect(body.checks.map((c) => c.name)).toEqual(['database', 'migrations', 'eventBus', 'models']);
  });
});
