import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../../src/inference/batcher.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dynamic batching', () => {
  it('gathers items submitted together into one run, up to maxSize, and routes results back in order', async () => {
    const runs: number[][] = [];
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        runs.push(items);
        return items.map((x) => x * 10);
      },
      { maxSize: 4, maxWaitMs: 20 },
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(runs).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('queues arrivals during a run and sends them together when it finishes', async () => {
    const runs: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        runs.push(items);
        if (runs.length === 1) await gate;
        return items;
      },
      { maxSize: 16, maxWaitMs: 0 },
    );
    const first = batcher.submit(0);
    await tick(5);
    const later = [1, 2, 3].map((x) => batcher.submit(x));
    await tick(5);
    expect(runs).toEqual([[0]]);
    release();
    await Promise.all([first, ...later]);
    expect(runs).toEqual([[0], [1, 2, 3]]);
    expect(batcher.batchSizes).toEqual([1, 3]);
  });

  it('fails every item of a failed run, and later runs still work', async () => {
    let fail = true;
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        if (fail) throw new Error('boom');
        return items;
      },
      { maxSize: 8, maxWaitMs: 5 },
    );
    const failed = await Promise.allSettled([1, 2].map((x) => batcher.submit(x)));
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.submit(7)).toBe(7);
  });

  it('drops an item whose signal aborts while it waits: it rejects with an AbortError and never runs', async () => {
    const runs: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sizes: number[] = [];
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        runs.push(items);
        if (runs.length === 1) await gate;
        return items;
      },
      { maxSize: 16, maxWaitMs: 0, onRun: (size) => sizes.push(size) },
    );
    const first = batcher.submit(0);
    await tick(5);
    const gone = new AbortController();
    const waiting = [1, 2, 3].map((x) => batcher.submit(x, x === 2 ? gone.signal : undefined));
    expect(batcher.queued).toBe(3);
    gone.abort();
    expect(batcher.queued).toBe(2);
    release();
    const settled = await Promise.allSettled([first, ...waiting]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const reason = (settled[2] as PromiseRejectedResult).reason as Error;
    expect(reason.name).toBe('AbortError');
    expect(runs).toEqual([[0], [1, 3]]);
    expect(sizes).toEqual([1, 2]);
    expect(batcher.secondsPerItem).toBeGreaterThan(0);
  });

  it('refuses an item whose signal has already aborted, and an abort after its run starts changes nothing', async () => {
    const batcher = new DynamicBatcher<number, number>(async (items) => items, { maxSize: 4, maxWaitMs: 0 });
    const gone = new AbortController();
    gone.abort();
    await expect(batcher.submit(1, gone.signal)).rejects.toMatchObject({ name: 'AbortError' });
    const late = new AbortController();
    const running = batcher.submit(2, late.signal);
    await tick(0);
    late.abort();
    expect(await running).toBe(2);
    expect(batcher.batchSizes).toEqual([1]);
  });
});
