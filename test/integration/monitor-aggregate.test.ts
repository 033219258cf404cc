/**
 * The window counts the database computes equal the counts of the same captures made in memory —
 * edge cases included (confidence 0 and 1, exactly at the threshold and at bucket edges, missing
 * class or confidence, captures at the window's start and end) — with GROUP BY, and on SQLite also
 * with the UPSERT strategy it uses by default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countPredictions } from '../../src/monitor/windows/counts.ts';
import { type CountStrategy, countWindow } from '../../src/monitor/windows/store.ts';
import { createEndpoint, insertCaptures } from '../helpers/monitor.ts';
import { useTestServer } from '../helpers/server.ts';

describe('window counts in SQL', () => {
  const server = useTestServer();
  let endpointId: string;
  const from = Date.parse('2026-11-26T00:00:00.000Z');
  const to = from + 60_000;
  const inside: { classId: number | null; confidence?: number }[] = [];

  beforeAll(async () => {
    endpointId = await createEndpoint(server, 'agg');
    const confidences = [0, 1, 0.5, 0.4999999, 0.5000001, 0.001, 0.999, 0.9999999, 0.29, 0.57, 0.123456, 0.7];
    for (let i = 0; i < 600; i++)
      inside.push({ classId: (i * 11) % 43, confidence: confidences[i % confidences.length]! });
    inside.push({ classId: null }, { classId: null }, { classId: null });
    await insertCaptures(
      server,
      endpointId,
      inside.map((c, i) => ({ ...c, at: i === 0 ? from : from + 1 + (i % 59_998) })),
    );
    // outside the window: at its (exclusive) end, and just before its start
    await insertCaptures(server, endpointId, [
      { classId: 5, at: to },
      { classId: 5, at: from - 1 },
    ]);
    // a class without a confidence: counted for its class, and as an output that cannot be read
    await server.app.database.prisma.capture.updateMany({
      where: { endpointId, inferenceTime: new Date(from) },
      data: { confidence: null },
    });
  });

  const strategies: CountStrategy[] = process.env.VIGIL_TEST_DB === 'postgres' ? ['group'] : ['group', 'upsert'];

  it.each(strategies)('%s counts what the captures hold', async (strategy) => {
    const counts = await countWindow(
      server.app.database.prisma,
      server.app.database.provider,
      { endpointId, from: new Date(from), to: new Date(to), lowConfidenceThreshold: 0.5, moments: true },
      strategy,
    );
    const first = inside[0]!;
    const expected = countPredictions(
      inside.slice(1).map((c) => (c.classId === null ? null : { classId: c.classId, confidence: c.confidence! })),
      0.5,
    );
    // the first capture lost its confidence: one more record, its class counted, its output unreadable
    expect(counts.recordCount).toBe(expected.recordCount + 1);
    expect(counts.missingCount).toBe(expected.missingCount + 1);
    expected.classCounts.set(first.classId!, (expected.classCounts.get(first.classId!) ?? 0) + 1);
    expect(counts.classCounts).toEqual(expected.classCounts);
    expect(counts.lowConfidenceCount).toBe(expected.lowConfidenceCount);
    expect(counts.confidence.histogram).toEqual(expected.confidence.histogram);
    expect(counts.confidence.count).toBe(expected.confidence.count);
    expect(counts.confidence.sum).toBeCloseTo(expected.confidence.sum, 9);
    expect(counts.confidence.sumSquares).toBeCloseTo(expected.confidence.sumSquares, 9);
    expect([counts.confidence.min, counts.confidence.max]).toEqual([0, 1]);
  });

  it('an empty or inverted window counts nothing', async () => {
    const counts = await countWindow(server.app.database.prisma, server.app.database.provider, {
      endpointId,
      from: new Date(to),
      to: new Date(to),
      lowConfidenceThreshold: 0.5,
    });
    expect(counts.recordCount).toBe(0);
  });
});
