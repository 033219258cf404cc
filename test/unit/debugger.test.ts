/**
 * The debugger's storage pieces: the fast half conversion and the sparse f16 encoding, the hook's
 * per-tensor encodings and always-saved logits, reductions, the LRU, and the Trial's message helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeTensor,
  encodeTensor,
  inflateSparse,
  sparseHalvesSummary,
  TENSOR_ENCODINGS,
  toHalf,
  toHalves,
} from '../../src/debugger/encoding.ts';
import { ALWAYS_SAVED, DebugHook, encodingOf, STEP_BLOCK } from '../../src/debugger/hook.ts';
import { LruCache } from '../../src/debugger/lru.ts';
import { reduce } from '../../src/debugger/reductions.ts';
import { RegexGuard } from '../../src/debugger/regex-guard.ts';
import { StepEncoder } from '../../src/debugger/step-encoder.ts';
import { tensorCatalog } from '../../src/debugger/tensor-names.ts';
import { describeList } from '../../src/debugger/trial.ts';
import type { Endpoint } from '../../src/endpoints/types.ts';
import { ValidationError } from '../../src/errors.ts';
import { summarizeDense } from '../../src/explain/fullgrad.ts';
import { ModelCatalog } from '../../src/models/catalog.ts';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('half-precision encoding', () => {
  it('toHalves is toHalf (round to nearest even) on every kind of float', () => {
    const rand = random(7);
    const values = new Float32Array(400_000);
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < 200_000; i++) bits[i] = Math.floor(rand() * 2 ** 32);
    for (let i = 200_000; i < values.length; i++) values[i] = (rand() - 0.5) * 2 ** (rand() * 44 - 30);
    // edges: ties, the largest half, overflow by rounding, subnormals, zeros, NaN, Inf
    values.set([
      65504,
      65519,
      65520,
      -65536,
      2 ** -14,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
    ]);
    const fast = toHalves(values);
    for (let i = 0; i < values.length; i++) {
      if (fast[i] !== toHalf(values[i]!))
        expect.fail(`${values[i]}: toHalves ${fast[i]!.toString(16)} ≠ toHalf ${toHalf(values[i]!).toString(16)}`);
    }
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalf(65520)).toBe(0x7c00);
  });

  it.each(['f16-sparse-split', 'f16-sparse-deflate'] as const)(
    '%s decodes to exactly the f16 values (−0 as 0), smaller than f16-deflate on sparse gradients',
    (encoding) => {
      const rand = random(8);
      for (const length of [0, 1, 7, 8, 9, 1000, 262_144]) {
        const values = Float32Array.from({ length }, () => (rand() < 0.55 ? 0 : (rand() - 0.5) * 10 ** (-rand() * 6)));
        if (length > 3) values[3] = -0;
        if (length > 5) values[5] = -1e-9; // underflows to −0 in f16
        const sparse = encodeTensor(values, encoding);
        const f16 = decodeTensor(encodeTensor(values, 'f16'), 'f16', length);
        const back = decodeTensor(sparse, encoding, length);
        expect(back.length).toBe(length);
        const expected = f16.map((v) => (v === 0 ? 0 : v)); // −0 carries nothing and is stored as 0
        for (let i = 0; i < length; i++)
          if (!Object.is(back[i], expected[i])) expect.fail(`value ${i}: ${back[i]} ≠ ${expected[i]}`);
        if (length > 5)
          expect([Object.is(f16[3], -0), Object.is(f16[5], -0), Object.is(back[3], 0), Object.is(back[5], 0)]).toEqual([
            true,
            true,
            true,
            true,
          ]);
        if (length === 262_144) expect(sparse.byteLength).toBeLessThan(encodeTensor(values, 'f16-deflate').byteLength);
      }
      expect(() => decodeTensor(encodeTensor(new Float32Array(10), encoding), encoding, 20)).toThrow();
      const truncated = encodeTensor(
        Float32Array.from({ length: 100 }, (_, i) => i),
        encoding,
      );
      expect(() => decodeTensor(truncated.subarray(0, truncated.byteLength - 3), encoding, 100)).toThrow();
    },
  );

  it('f16-sparse-split: the low bytes, which Huffman coding does not shrink, are stored as they are', () => {
    const rand = random(10);
    const values = Float32Array.from({ length: 262_144 }, () => (rand() < 0.6 ? 0 : (rand() - 0.5) * 1e-3));
    const split = encodeTensor(values, 'f16-sparse-split');
    const nonZero = decodeTensor(split, 'f16-sparse-split', values.length).filter((v) => v !== 0).length;
    const codedLength = new DataView(split.buffer, split.byteOffset).getUint32(0, true);
    expect(split.byteLength).toBe(4 + codedLength + nonZero);
    expect(split.byteLength).toBeLessThanOrEqual(encodeTensor(values, 'f16-sparse-deflate').byteLength);
  });

  it.each(['f16-sparse-split', 'f16-sparse-deflate'] as const)(
    "summarises a %s gradient from its bytes exactly as the decoded tensor's dense summary",
    (encoding) => {
      const rand = random(9);
      for (const [shape, zeros] of [
        [[8, 6, 5], 0.6],
        [[3, 4, 4], 0],
        [[4, 2, 2], 1],
        [[64, 32, 32], 0.55],
      ] as const) {
        const count = shape[0] * shape[1] * shape[2];
        const values = Float32Array.from({ length: count }, () => (rand() < zeros ? 0 : (rand() - 0.5) * 1e-2));
        const data = encodeTensor(values, encoding);
        const decoded = decodeTensor(data, encoding, count);
        for (const weights of [null, Float64Array.from({ length: shape[0] }, (_, c) => (c === 1 ? 0 : rand() * 2))]) {
          const sparse = sparseHalvesSummary(inflateSparse(data, encoding, count), shape, weights);
          const dense = summarizeDense(decoded, shape, weights);
          expect(sparse.min).toBe(dense.min);
          expect(sparse.max).toBe(dense.max);
          expect(Array.from(sparse.sum)).toEqual(Array.from(dense.sum));
          expect(Array.from(sparse.channelSums)).toEqual(Array.from(dense.channelSums));
        }
      }
    },
  );

  it('every encoding round-trips (exactly for f32 ones)', () => {
    const values = Float32Array.from({ length: 999 }, (_, i) => Math.sin(i) * (i % 3 === 0 ? 0 : 1));
    for (const encoding of TENSOR_ENCODINGS) {
      const back = decodeTensor(encodeTensor(values, encoding), encoding, values.length);
      for (let i = 0; i < values.length; i++)
        expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(encoding.startsWith('f32') ? 0 : 5e-4);
    }
  });
});

describe('the hook', () => {
  const manifest = new ModelCatalog('models').get('gtsrb-resnet18')!.manifest;
  const catalog = tensorCatalog(manifest);

  it('stores the input exactly, constants and logits as f32, activations and gradients lossy', () => {
    expect(encodingOf('input', 'input', 'f16-sparse-deflate')).toBe('f32-deflate');
    expect(encodingOf('logits', 'output', 'f16-sparse-deflate')).toBe('f32');
    expect(encodingOf('bn1.bias', 'constant', 'f16-sparse-deflate')).toBe('f32');
    expect(encodingOf('bn1.output_grad', 'output', 'f16-sparse-split')).toBe('f16-sparse-split');
  });

  it('numbers steps from the endpoint counter a block at a time: consecutive, unique, one update per block', async () => {
    let counter = 0;
    const updates: number[] = [];
    const prisma = {
      endpoint: {
        update: async ({ data }: { data: { hookStepCounter: { increment: number } } }) => {
          await new Promise((r) => setTimeout(r, 5)); // concurrent requests find the reservation in flight
          updates.push(data.hookStepCounter.increment);
          return { hookStepCounter: (counter += data.hookStepCounter.increment) };
        },
      },
    };
    counter = 7; // another replica took 7 numbers already
    const hook = new DebugHook(prisma as never, new StepEncoder());
    const endpoint = {
      id: 'e',
      debugHook: { enabled: true, includeRegex: null, saveInterval: 1, collections: ['fullgrad'] },
    } as unknown as Endpoint;
    const plans = await Promise.all(Array.from({ length: 100 }, () => hook.plan(endpoint, catalog, null)));
    expect(plans.map((p) => p!.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 7 + i));
    expect(updates).toEqual(Array(Math.ceil(100 / STEP_BLOCK)).fill(STEP_BLOCK));
    const every3 = new DebugHook(prisma as never, new StepEncoder());
    const saved = (
      await Promise.all(
        Array.from({ length: 30 }, () =>
          every3.plan(
            { ...endpoint, debugHook: { ...endpoint.debugHook, saveInterval: 3 } } as Endpoint,
            catalog,
            null,
          ),
        ),
      )
    ).filter(Boolean);
    expect(saved.map((p) => p!.step % 3)).toEqual(Array(saved.length).fill(0));
    expect(saved.length).toBe(10);
  });

  it('always saves logits, whatever the regex selects', async () => {
    const prisma = { endpoint: { update: async () => ({ hookStepCounter: STEP_BLOCK }) } };
    const encoder = new StepEncoder();
    const hook = new DebugHook(prisma as never, encoder);
    const endpoint = {
      id: 'e',
      debugHook: { enabled: true, includeRegex: '.*image', saveInterval: 1, collections: [] },
    } as unknown as Endpoint;
    const plan = (await hook.plan(endpoint, catalog, new Set(['input', 'input_grad'])))!;
    expect(plan.names).toEqual(['input', 'input_grad', ...ALWAYS_SAVED]);
    expect(plan.fetch).toEqual(['input_grad', 'logits']);
    const rows = await hook.rows(endpoint, plan, null, catalog, {
      input: new Float32Array(3 * 128 * 128),
      inputShape: [3, 128, 128],
      outputs: new Map([
        ['input_grad', { dims: [3, 128, 128], data: new Float32Array(3 * 128 * 128) }],
        ['logits', { dims: [43], data: Float32Array.from({ length: 43 }, (_, i) => i) }],
      ]),
    });
    expect(rows.tensors.map((t) => [t.name, t.encoding, t.shape])).toEqual([
      ['input', 'f32-deflate', '[1,3,128,128]'],
      ['input_grad', 'f16-sparse-split', '[1,3,128,128]'],
      ['logits', 'f32', '[1,43]'],
    ]);
    await encoder.close();
  });
});

describe('reductions (smdebug reduction_value)', () => {
  const values = Float32Array.of(1, -2, 3, -4);
  it.each([
    ['MIN', false, -4],
    ['MAX', false, 3],
    ['MEAN', false, -0.5],
    ['SUM', false, -2],
    ['VARIANCE', false, 7.25],
    ['STD', false, Math.sqrt(7.25)],
    ['L1', false, 10],
    ['L2', false, Math.sqrt(30)],
    ['MIN', true, 1],
    ['MAX', true, 4],
    ['MEAN', true, 2.5],
    ['VARIANCE', true, 1.25],
  ] as const)('%s (abs %s)', (kind, abs, expected) => {
    expect(reduce(values, kind, abs)).toBeCloseTo(expected, 12);
  });
});

describe('LRU cache', () => {
  it('evicts the least recently used entries past its byte budget and shares in-flight work', async () => {
    const cache = new LruCache<string>(10, 10, (v) => v.length);
    let computed = 0;
    const make = (v: string) => async () => {
      computed++;
      return v;
    };
    const [a, b] = await Promise.all([cache.getOrCompute('a', make('aaaa')), cache.getOrCompute('a', make('xxxx'))]);
    expect([a, b, computed]).toEqual(['aaaa', 'aaaa', 1]);
    await cache.getOrCompute('b', make('bbbb'));
    await cache.getOrCompute('a', make('?')); // touch a
    await cache.getOrCompute('c', make('cccc')); // 12 bytes: b goes
    expect(cache.size).toBe(2);
    expect(await cache.getOrCompute('b', make('BBBB'))).toBe('BBBB');
    await expect(cache.getOrCompute('d', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await cache.getOrCompute('d', make('dd'))).toBe('dd');
  });
});

describe('trial helpers', () => {
  it('lists short lists whole and abbreviates long ones', () => {
    expect(describeList([0, 3, 6])).toBe('0, 3, 6');
    const many = Array.from({ length: 100 }, (_, i) => i * 2);
    expect(describeList(many)).toBe(`${many.slice(0, 15).join(', ')}, …, 194, 196, 198 (100 in all)`);
  });

  it('anchors regexes at the start (re.match) and refuses invalid ones', async () => {
    const guard = new RegexGuard();
    try {
      expect(await guard.filter('bn1', ['bn1.output', 'layer1.0.bn1.output'], 'regex')).toEqual(['bn1.output']);
      expect(await guard.filter('.*bn1|fc', ['fc.bias', 'layer1.0.bn1.output', 'input'], 'regex')).toEqual([
        'fc.bias',
        'layer1.0.bn1.output',
      ]);
      await expect(guard.filter('bn1[', [], 'regex')).rejects.toThrow(ValidationError);
      await expect(guard.filter('(?P<x>a)', [], 'regex')).rejects.toThrow(ValidationError);
    } finally {
      await guard.close();
    }
  });

  it('refuses a pattern that backtracks past the time limit, and keeps working after it', async () => {
    const guard = new RegexGuard(200);
    try {
      const started = performance.now();
      const stuck = guard.filter('(.*.*)*;', ['layer1.0.bn1.output_grad_and_then_some'], 'regex');
      await expect(stuck).rejects.toThrow(ValidationError);
      await expect(stuck).rejects.toThrow(/did not finish within 200 ms/);
      expect(performance.now() - started).toBeLessThan(5000);
      expect(await guard.filter('fc', ['fc.bias', 'input'], 'regex')).toEqual(['fc.bias']);
    } finally {
      await guard.close();
    }
  });
});

describe('tensor encoding off the main thread (StepEncoder)', () => {
  it("gives encodeTensor's bytes for every tensor of each step, from views that share one buffer as a batch's outputs do", async () => {
    const encoder = new StepEncoder();
    try {
      // two "images" of a batch: each tensor is one image's half of a shared buffer, as runBatch hands them out
      const batch = TENSOR_ENCODINGS.map((encoding, k) => {
        const n = 20_000 + 999 * k;
        return {
          encoding,
          n,
          data: Float32Array.from({ length: 2 * n }, (_, i) => (i % 3 === 0 ? 0 : Math.sin(i + k) * 10 ** -(k + 1))),
        };
      });
      const image = (j: number) =>
        batch.map((b) => ({ encoding: b.encoding, values: b.data.subarray(j * b.n, (j + 1) * b.n) }));
      const expected = [0, 1].map((j) => image(j).map((t) => Buffer.from(encodeTensor(t.values, t.encoding))));
      const [first, second] = await Promise.all([encoder.encode(image(0)), encoder.encode(image(1))]);
      expect(batch[0]!.data.length).toBe(0); // handed over, not copied
      [first!, second!].forEach((blobs, j) =>
        blobs.forEach((blob, i) =>
          expect(Buffer.from(blob).equals(expected[j]![i]!), `${j} ${batch[i]!.encoding}`).toBe(true),
        ),
      );
    } finally {
      await encoder.close();
    }
  });

  it('copies buffers it cannot move (shared, or possibly pooled) whole, so every view keeps its values', async () => {
    const encoder = new StepEncoder();
    try {
      for (const buffer of [new SharedArrayBuffer(2 * 1024 * 4), new ArrayBuffer(Buffer.poolSize)]) {
        const all = new Float32Array(buffer).map((_, i) => i + 0.5);
        const views = [0, 1].map((j) => all.subarray(j * 1024, (j + 1) * 1024));
        const expected = views.map((v) => Buffer.from(encodeTensor(v, 'f32')));
        const blobs = await Promise.all(views.map((values) => encoder.encode([{ values, encoding: 'f32' }])));
        blobs.forEach((b, j) =>
          expect(Buffer.from(b[0]!).equals(expected[j]!), `${buffer.constructor.name} view ${j}`).toBe(true),
        );
        expect(all.length).toBe(2048); // not transferred
      }
    } finally {
      await encoder.close();
    }
  });

  it('rejects steps queued when it closes, and steps after', async () => {
    const encoder = new StepEncoder();
    const queued = encoder.encode([{ values: new Float32Array(4), encoding: 'f32' }]);
    await encoder.close();
    await expect(queued).rejects.toThrow(/closed/);
    await expect(encoder.encode([{ values: new Float32Array(4), encoding: 'f32' }])).rejects.toThrow(/closed/);
  });

  it('rejects a step whose buffer was handed over already, and a bad encoding, and keeps working', async () => {
    const encoder = new StepEncoder();
    try {
      await expect(encoder.encode([{ values: new Float32Array(4), encoding: 'f64' as never }])).rejects.toThrow(
        /encoding/,
      );
      const view = new Float32Array(16).subarray(4, 12);
      const late = encoder.encode([{ values: view, encoding: 'f32' }]);
      structuredClone(view.buffer, { transfer: [view.buffer] }); // detached before the flush
      await expect(late).rejects.toThrow(/transferred before/);
      expect((await encoder.encode([{ values: Float32Array.of(1.5), encoding: 'f32' }]))[0]).toEqual(
        new Uint8Array(Float32Array.of(1.5).buffer),
      );
    } finally {
      await encoder.close();
    }
  });
});
