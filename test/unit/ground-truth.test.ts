/**
 * Ground truth's pure parts: the JSON Lines splitter over any chunking of the body (limits included),
 * Model Monitor's ground-truth record, label → class, and the model-quality measures against a
 * direct computation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../../src/errors.ts';
import { type BodyLine, parseGroundTruthLine, readLines } from '../../src/groundtruth/json-lines.ts';
import { classOf } from '../../src/groundtruth/service.ts';
import { modelQualityCheck } from '../../src/monitor/checks/model-quality.ts';
import { measureQuality } from '../../src/monitor/quality/report.ts';

const LIMITS = { maxBytes: 1 << 20, maxLines: 1000, maxLineBytes: 16 };

/** the body's bytes as a stream cut at the given offsets */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    if (p > start) parts.push(bytes.slice(start, p));
    start = Math.max(start, p);
  }
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, limits = LIMITS): Promise<BodyLine[]> {
  const out: BodyLine[] = [];
  for await (const line of readLines(body, limits)) out.push(line);
  return out;
}

/** what the splitter must find: split on \n (a \r before it stays: JSON reads it as white space), blank lines left out, long ones marked */
function reference(text: string, maxLineBytes: number): BodyLine[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.flatMap((raw, i): BodyLine[] => {
    if (Buffer.byteLength(raw) > maxLineBytes)
      return [{ line: i + 1, problem: `the line is longer than ${maxLineBytes} bytes` }];
    return raw.trim() === '' ? [] : [{ line: i + 1, text: raw }];
  });
}

describe('JSON Lines splitter', () => {
  it('finds the same lines however the body is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom('\n', '\r\n', ' ', 'é', '{}'), fc.string({ maxLength: 20 })), {
          maxLength: 30,
        }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (pieces, cuts) => {
          const text = pieces.join('');
          const found = await collect(chunked(new TextEncoder().encode(text), cuts));
          expect(found).toEqual(reference(text, LIMITS.maxLineBytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a line that is not UTF-8, and reads on', async () => {
    const bytes = Uint8Array.from([0x61, 0x0a, 0xff, 0xfe, 0x0a, 0x62]);
    expect(await collect(chunked(bytes, [3]))).toEqual([
      { line: 1, text: 'a' },
      { line: 2, problem: 'the line is not valid UTF-8' },
      { line: 3, text: 'b' },
    ]);
  });

  it('refuses more lines than the limit, and a body over its byte limit', async () => {
    const lines = new TextEncoder().encode('a\n'.repeat(4));
    await expect(collect(chunked(lines, []), { ...LIMITS, maxLines: 3 })).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(await collect(chunked(lines, []), { ...LIMITS, maxLines: 4 })).toHaveLength(4);
    await expect(collect(chunked(lines, [2]), { ...LIMITS, maxBytes: 7 })).rejects.toThrow(
      /exceeds the limit of 7 bytes/,
    );
  });
});

describe("Model Monitor's ground-truth record", () => {
  it('reads the event id and the label, CSV or JSON encoded', () => {
    const record = (data: string, encoding?: string) =>
      JSON.stringify({ groundTruthData: { data, encoding }, eventMetadata: { eventId: 'e1' }, eventVersion: '0' });
    expect(parseGroundTruthLine(record(' 14 ', 'CSV'))).toEqual({ eventId: 'e1', label: '14' });
    expect(parseGroundTruthLine(record('14'))).toEqual({ eventId: 'e1', label: '14' });
    expect(parseGroundTruthLine(record('14', 'JSON'))).toEqual({ eventId: 'e1', label: '14' });
    expect(parseGroundTruthLine(record('"Stop"', 'JSON'))).toEqual({ eventId: 'e1', label: 'Stop' });
    expect(parseGroundTruthLine(record('1.5', 'JSON'))).toMatch(/must hold a class number/);
    expect(parseGroundTruthLine(record('14', 'BASE64'))).toMatch(/encoding/);
    expect(parseGroundTruthLine('[1]')).toBe('the line is not a JSON object');
    expect(parseGroundTruthLine('{"groundTruthData":{"data":14}}')).toBe('groundTruthData.data must be a string');
    expect(parseGroundTruthLine('{"groundTruthData":{"data":"1"},"eventMetadata":{"eventId":7}}')).toBe(
      'eventMetadata.eventId must be a string',
    );
  });

  it('turns a label into a class: a number of the model or one of its names', () => {
    const labels = ['Zero', 'One', 'Stop'];
    expect(classOf('2', labels, 'm', 'label')).toBe(2);
    expect(classOf(' 1 ', labels, 'm', 'label')).toBe(1);
    expect(classOf('Stop', labels, 'm', 'label')).toBe(2);
    for (const bad of ['3', '-1', '1e0', '0x1', 'stop', '', '0000001']) {
      expect(classOf(bad, labels, 'm', 'label'), bad).toBeInstanceOf(ValidationError);
    }
  });
});

describe('model-quality measures', () => {
  it('match a direct computation on random confusion counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ predicted: fc.nat(5), actual: fc.nat(5), count: fc.integer({ min: 1, max: 9 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        (cells) => {
          const m = measureQuality(cells);
          const pairs = cells.flatMap((c) => Array.from({ length: c.count }, () => c));
          const classes = [...new Set(pairs.flatMap((p) => [p.predicted, p.actual]))].sort((a, b) => a - b);
          expect(m.labelledCount).toBe(pairs.length);
          expect(m.accuracy).toBeCloseTo(pairs.filter((p) => p.predicted === p.actual).length / pairs.length, 12);
          let f1 = 0;
          for (const k of classes) {
            const tp = pairs.filter((p) => p.predicted === k && p.actual === k).length;
            const predicted = pairs.filter((p) => p.predicted === k).length;
            const support = pairs.filter((p) => p.actual === k).length;
            const c = m.classes.find((x) => x.classId === k)!;
            expect(c.precision).toBe(predicted ? tp / predicted : null);
            expect(c.recall).toBe(support ? tp / support : null);
            f1 += tp ? (2 * tp) / (predicted + support) : 0;
          }
          expect(m.classes.map((c) => c.classId)).toEqual(classes);
          expect(m.macroF1).toBeCloseTo(f1 / classes.length, 12);
          const total = Object.values(m.confusionMatrix).flatMap((row) => Object.values(row));
          expect(total.reduce((a, b) => a + b, 0)).toBe(pairs.length);
        },
      ),
    );
  });

  it('judges nothing below the minimum sample size, and reports no accuracy without labels', () => {
    const config = {
      enabled: true,
      minAccuracy: 0.9,
      minRecall: [],
      baselineTolerance: null,
      groundTruthDelaySeconds: 0,
    };
    const label = String;
    const none = modelQualityCheck({ measures: measureQuality([]), config, label, baseline: null, minSampleSize: 1 });
    expect(none.metrics).toEqual({ ground_truth_count: 0 });
    const few = measureQuality([{ predicted: 1, actual: 2, count: 3 }]);
    expect(modelQualityCheck({ measures: few, config, label, baseline: null, minSampleSize: 4 })).toMatchObject({
      violations: [],
      metrics: { ground_truth_count: 3, accuracy: 0 },
    });
    expect(modelQualityCheck({ measures: few, config, label, baseline: null, minSampleSize: 3 }).violations).toEqual([
      {
        check: 'MODEL_QUALITY',
        featureName: 'accuracy',
        constraintCheckType: 'LessThanThreshold',
        description: "Metric accuracy with 0 was LessThanThreshold '0.9'",
      },
    ]);
  });
});
