/**
 * The parts of serving metrics, shedding and shutdown that need no server: the request-metrics plugin on a
 * small Yoga schema (labels, codes, typed errors, UNAVAILABLE → 503), the histogram exposition, subscriptions
 * ended by the shutdown signal, the readiness probe's cached answer and the step encoder's bound.
 */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { StepEncoder } from '../../src/debugger/step-encoder.ts';
import { NotFoundError, UnavailableError } from '../../src/errors.ts';
import { Histogram } from '../../src/histogram.ts';
import { createLogger } from '../../src/logger.ts';
import { Exposition } from '../../src/monitor/metrics/prometheus.ts';
import { BackgroundProbe } from '../../src/server/health.ts';
import {
  countTypedErrors,
  MAX_OPERATION_LABELS,
  RequestMetrics,
  useRequestMetrics,
} from '../../src/server/request-metrics.ts';
import { untilAborted } from '../../src/server/shutdown.ts';

function serve(): { yoga: YogaServerInstance<object, object>; metrics: RequestMetrics } {
  // the errors plugin as vigil's builder uses it: a union of the result and the errors listed
  const builder = new SchemaBuilder<{ DefaultFieldNullability: false }>({
    plugins: [ErrorsPlugin],
    defaultFieldNullability: false,
    errors: { defaultTypes: [], directResult: true },
  });
  builder.objectType(NotFoundError, { name: 'NotFoundError', fields: (t) => ({ code: t.exposeString('code') }) });
  builder.objectType(UnavailableError, {
    name: 'UnavailableError',
    fields: (t) => ({ code: t.exposeString('code'), retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
  });
  const Thing = builder.objectRef<{ name: string }>('Thing').implement({
    fields: (t) => ({ name: t.exposeString('name') }),
  });
  builder.queryType({
    fields: (t) => ({
      thing: t.field({
        type: Thing,
        args: { name: t.arg.string({ required: true }) },
        errors: { types: [NotFoundError, UnavailableError] },
        resolve: async (_root, { name }) => {
          if (name === 'busy') throw new UnavailableError('queue full', 7);
          if (name === 'missing') throw new NotFoundError('Thing', name);
          return { name };
        },
      }),
      plain: t.string({ resolve: () => 'ok' }),
      broken: t.string({
        nullable: true,
        resolve: () => {
          throw new Error('internal detail');
        },
      }),
    }),
  });
  const schema = builder.toSchema();
  const metrics = new RequestMetrics();
  countTypedErrors(schema);
  const yoga = createYoga({ schema, plugins: [useRequestMetrics(metrics)], logging: false });
  return { yoga, metrics };
}

async function post(yoga: YogaServerInstance<object, object>, query: string): Promise<Response> {
  return yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
}

const errorCounts = (metrics: RequestMetrics) =>
  Object.fromEntries([...metrics.errors()].map((e) => [`${e.operation}/${e.code}`, e.count]));

describe('request metrics plugin', () => {
  it('counts operations by name (or first root field) and type, with their latency', async () => {
    const { yoga, metrics } = serve();
    await post(yoga, 'query Named { plain }');
    await post(yoga, 'query Named { plain }');
    await post(yoga, '{ plain }');
    const series = Object.fromEntries([...metrics.operations()].map((s) => [`${s.type} ${s.operation}`, s]));
    expect(series['query Named']!.requests).toBe(2);
    expect(series['query Named']!.seconds.count).toBe(2);
    expect(series['query plain']!.requests).toBe(1);
    expect(metrics.executing).toBe(0);
  });

  it('counts typed errors in result unions and top-level errors by code; UNAVAILABLE in a union answers 503 with Retry-After', async () => {
    const { yoga, metrics } = serve();
    const missing = await post(yoga, 'query Find { thing(name: "missing") { __typename } }');
    expect(missing.status).toBe(200);
    const busy = await post(yoga, 'query Find { thing(name: "busy") { ... on UnavailableError { code } } }');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('7');
    const body = (await busy.json()) as { data: unknown; extensions?: unknown };
    expect(body.data).toEqual({ thing: { code: 'UNAVAILABLE' } });
    expect(body.extensions).toBeUndefined();
    await post(yoga, 'query Broken { broken }');
    await post(yoga, '{ nope }');
    await post(yoga, '{ plain');
    expect(errorCounts(metrics)).toEqual({
      'Find/NOT_FOUND': 1,
      'Find/UNAVAILABLE': 1,
      'Broken/INTERNAL_SERVER_ERROR': 1,
      '_invalid/GRAPHQL_VALIDATION_FAILED': 1,
      '_invalid/GRAPHQL_PARSE_FAILED': 1,
    });
    // the next request on the same schema is not marked
    expect((await post(yoga, 'query Find { thing(name: "x") { __typename } }')).status).toBe(200);
  });

  it('bounds client-chosen operation names: beyond the limit they share the label _other', async () => {
    const { yoga, metrics } = serve();
    for (let i = 0; i < MAX_OPERATION_LABELS + 20; i++) await post(yoga, `query Op${i} { plain }`);
    const labels = [...metrics.operations()].map((s) => s.operation);
    expect(labels.length).toBeLessThanOrEqual(MAX_OPERATION_LABELS + 1);
    const other = [...metrics.operations()].find((s) => s.operation === '_other');
    expect(other!.requests).toBe(20);
  });
});

describe('Prometheus exposition of a histogram', () => {
  it('prints cumulative buckets with le, +Inf, _sum and _count', () => {
    const histogram = new Histogram([1, 2, 4]);
    for (const v of [0.5, 1, 3, 3, 9]) histogram.observe(v);
    const out = new Exposition();
    out.histogram('vigil_x', 'help text', { graph: 'serving' }, histogram);
    expect(out.text().split('\n')).toEqual([
      '# HELP vigil_x help text',
      '# TYPE vigil_x histogram',
      'vigil_x_bucket{graph="serving",le="1"} 2',
      'vigil_x_bucket{graph="serving",le="2"} 2',
      'vigil_x_bucket{graph="serving",le="4"} 4',
      'vigil_x_bucket{graph="serving",le="+Inf"} 5',
      'vigil_x_sum{graph="serving"} 16.5',
      'vigil_x_count{graph="serving"} 5',
      '',
    ]);
  });
});

describe('subscriptions at shutdown', () => {
  it('untilAborted ends a waiting stream when the signal aborts, and returns its source', async () => {
    let returned = false;
    let wake!: (value: IteratorResult<number>) => void;
    const source: AsyncIterableIterator<number> = {
      next: () => new Promise((resolve) => (wake = resolve)),
      return: async () => {
        returned = true;
        wake({ done: true, value: undefined });
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const shutdown = new AbortController();
    const stream = untilAborted(source, shutdown.signal);
    const first = stream.next();
    wake({ done: false, value: 1 });
    expect(await first).toEqual({ done: false, value: 1 });
    const second = stream.next();
    shutdown.abort();
    expect(await second).toEqual({ done: true, value: undefined });
    expect(returned).toBe(true);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});

describe('readiness probe', () => {
  it('answers from the last probe without asking; a probe that stops answering turns it red', async () => {
    let asked = 0;
    let hang = false;
    const probe = new BackgroundProbe(
      () => {
        asked++;
        return hang ? new Promise(() => {}) : Promise.resolve({ ok: true });
      },
      { intervalMs: 20, staleMs: 100 },
      createLogger('silent'),
    );
    expect(probe.current()).toMatchObject({ ok: false });
    await probe.start();
    const after = asked;
    for (let i = 0; i < 100; i++) expect(probe.current()).toEqual({ ok: true });
    expect(asked).toBe(after);
    hang = true;
    await new Promise((r) => setTimeout(r, 250));
    expect(probe.current()).toMatchObject({ ok: false, detail: expect.stringMatching(/no answer for/) });
    probe.stop();
  });
});

describe('step encoder bound', () => {
  it('refuses a step beyond maxPending with UNAVAILABLE, and takes steps again once encoded', async () => {
    const encoder = new StepEncoder({ maxPending: 2 });
    try {
      const tensor = () => [{ values: new Float32Array(64).fill(1), encoding: 'f32' as const }];
      const accepted = [encoder.encode(tensor()), encoder.encode(tensor())];
      expect(encoder.pending).toBe(2);
      expect(encoder.saturated).toBe(true);
      await expect(encoder.encode(tensor())).rejects.toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 1 });
      await Promise.all(accepted);
      expect(encoder.pending).toBe(0);
      expect(await encoder.encode(tensor())).toHaveLength(1);
    } finally {
      await encoder.close();
    }
  });
});
