import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { captureEvent, captureLine, prependLine, writeLines } from '../../src/capture/export.ts';
import { captureRoutes } from '../../src/capture/http.ts';
import { decodeCursor, encodeCursor, filterWhere, parseIsoDate, validateFilter } from '../../src/capture/queries.ts';
import type { CapturedOutput, CaptureRecord } from '../../src/capture/types.ts';
import { ValidationError } from '../../src/errors.ts';
import { pageSize } from '../../src/paging.ts';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 253, 254, 255]);
const OUTPUT: CapturedOutput = {
  predictedClass: 14,
  label: 'Stop',
  confidence: 0.93,
  probabilities: [0.01, 0.93, 0.06],
};

function record(overrides: Partial<CaptureRecord> = {}): CaptureRecord {
  return {
    id: 'c1',
    endpointId: 'e1',
    eventId: '3f1c7a52-0000-4000-8000-000000000001',
    inferenceTime: new Date('2026-11-26T02:00:00.000Z'),
    modelVersion: '2026-11-26-4e3e2ad1eaac',
    inputData: PNG,
    inputContentType: 'image/png',
    output: JSON.stringify(OUTPUT),
    predictedClass: 14,
    confidence: 0.93,
    top2Class: 2,
    top2Score: 0.06,
    top3Class: 0,
    top3Score: 0.01,
    features: null,
    imageStats: null,
    outlierScore: null,
    ...overrides,
  };
}

describe('SageMaker data-capture JSON Lines', () => {
  it('writes one event per line in the documented shape and key order', () => {
    const line = captureLine(record());
    expect(line).not.toContain('\n');
    const event = JSON.parse(line);
    expect(event).toEqual({
      captureData: {
        endpointInput: {
          observedContentType: 'image/png',
          mode: 'INPUT',
          data: Buffer.from(PNG).toString('base64'),
          encoding: 'BASE64',
        },
        endpointOutput: {
          observedContentType: 'application/json',
          mode: 'OUTPUT',
          data: JSON.stringify(OUTPUT),
          encoding: 'JSON',
        },
      },
      eventMetadata: { eventId: '3f1c7a52-0000-4000-8000-000000000001', inferenceTime: '2026-11-26T02:00:00.000Z' },
      eventVersion: '0',
    });
    expect(Object.keys(event)).toEqual(['captureData', 'eventMetadata', 'eventVersion']);
    expect(Object.keys(event.captureData)).toEqual(['endpointInput', 'endpointOutput']);
    expect(
      line.startsWith('{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"'),
    ).toBe(true);
  });

  it('round-trips the input bytes through base64 and the output through its JSON text', () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31 + 7) % 256);
    // a view into a larger buffer: only the view's bytes are encoded
    const backing = new Uint8Array(bytes.length + 16);
    backing.set(bytes, 8);
    const view = backing.subarray(8, 8 + bytes.length);
    const event = JSON.parse(captureLine(record({ inputData: view })));
    expect(Uint8Array.from(Buffer.from(event.captureData.endpointInput.data, 'base64'))).toEqual(bytes);
    expect(JSON.parse(event.captureData.endpointOutput.data)).toEqual(OUTPUT);
  });

  it('leaves out the input when it was not captured, and the output when it was not', () => {
    const outputOnly = captureEvent(record({ inputData: null, inputContentType: null }));
    expect(outputOnly.captureData).not.toHaveProperty('endpointInput');
    expect(outputOnly.captureData.endpointOutput?.encoding).toBe('JSON');
    const inputOnly = captureEvent(record({ output: null, predictedClass: null, confidence: null }));
    expect(inputOnly.captureData).not.toHaveProperty('endpointOutput');
    expect(inputOnly.captureData.endpointInput?.mode).toBe('INPUT');
    expect(JSON.parse(captureLine(record({ inputData: null, output: null }))).captureData).toEqual({});
  });

  it('labels an input of unknown type as octet-stream, and an unreadable output as BASE64', () => {
    const event = captureEvent(record({ inputContentType: null, output: '{"predictedClass": 1, trunc' }));
    expect(event.captureData.endpointInput?.observedContentType).toBe('application/octet-stream');
    expect(event.captureData.endpointOutput).toEqual({
      observedContentType: 'application/json',
      mode: 'OUTPUT',
      data: Buffer.from('{"predictedClass": 1, trunc').toString('base64'),
      encoding: 'BASE64',
    });
  });
});

describe("output=class: the write-up's response body", () => {
  it('writes endpointOutput.data as [[class]], JSON text its evaluation.py parses, and keeps an unreadable output', () => {
    const event = captureEvent(record(), 'class');
    const { endpointOutput, endpointInput } = event.captureData;
    expect(endpointInput).toEqual(captureEvent(record()).captureData.endpointInput);
    expect(endpointOutput).toMatchObject({ observedContentType: 'application/json', mode: 'OUTPUT', encoding: 'JSON' });
    expect(JSON.parse(endpointOutput!.data)).toEqual([[record().predictedClass]]);
    const unreadable = record({ output: '{"predictedClass": 1, trunc', predictedClass: null });
    expect(captureEvent(unreadable, 'class').captureData.endpointOutput).toEqual(
      captureEvent(unreadable).captureData.endpointOutput,
    );
  });
});

describe('writeLines', () => {
  it('writes each line with a newline and waits for drain when the buffer is full', async () => {
    const chunks: string[] = [];
    let waits = 0;
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        setImmediate(callback);
      },
    });
    slow.on('drain', () => waits++);
    async function* lines() {
      for (let i = 0; i < 200; i++) yield `{"n":${i},"pad":"${'x'.repeat(40)}"}`;
    }
    const count = await writeLines(slow, prependLine('{"first":true}', lines()[Symbol.asyncIterator]()));
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(count).toBe(201);
    expect(waits).toBeGreaterThan(10);
    const written = chunks.join('').split('\n');
    expect(written.pop()).toBe('');
    expect(written.map((l) => JSON.parse(l))[0]).toEqual({ first: true });
    expect(written.slice(1).map((l) => JSON.parse(l).n)).toEqual([...Array(200).keys()]);
  });

  it('stops reading the source once the destination is destroyed', async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    let produced = 0;
    let closed = false;
    async function* lines() {
      try {
        for (;;) {
          produced++;
          yield 'x'.repeat(32);
        }
      } finally {
        closed = true;
      }
    }
    setTimeout(() => out.destroy(), 20);
    await writeLines(out, lines());
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(5);
  });
});

describe('the HTTP export body', () => {
  /** an export source that counts the lines it was asked for and whether it was closed */
  function source() {
    const state = { produced: 0, closed: false };
    async function* lines(): AsyncGenerator<string, void, undefined> {
      try {
        for (;;) yield `{"n":${state.produced++}}`;
      } finally {
        state.closed = true;
      }
    }
    return { state, routes: captureRoutes({ exportJsonLines: () => lines() }) };
  }
  const request = (path: string) => {
    const url = new URL(path, 'http://localhost');
    return [new Request(url), url] as const;
  };

  it('reads a line from the source only when the client has taken the last', async () => {
    const { state, routes } = source();
    const response = await routes[0]!.handle(...request('/captures/export?endpoint=e'));
    expect(response.status).toBe(200);
    expect(state.produced).toBe(1); // read before answering, so a failure still chooses the status
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('{"n":0}\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(state.produced).toBeLessThanOrEqual(3);
    for (let i = 1; i < 10; i++) expect(decoder.decode((await reader.read()).value)).toBe(`{"n":${i}}\n`);
    expect(state.produced).toBeLessThanOrEqual(12);
    await reader.cancel();
    expect(state.closed).toBe(true);
  });

  it('closes the source for HEAD and refuses a request without an endpoint', async () => {
    const { state, routes } = source();
    const url = new URL('/captures/export?endpoint=e', 'http://localhost');
    const head = await routes[0]!.handle(new Request(url, { method: 'HEAD' }), url);
    expect(head.body).toBeNull();
    expect(state.closed).toBe(true);
    await expect(async () => routes[0]!.handle(...request('/captures/export'))).rejects.toMatchObject({
      code: 'VALIDATION',
      field: 'endpoint',
    });
  });
});

describe('capture queries', () => {
  it('round-trips cursors and rejects forged ones', () => {
    const cursor = encodeCursor({ inferenceTime: new Date(1_790_000_000_123), id: 'abc-1' });
    expect(decodeCursor(cursor)).toEqual({ time: 1_790_000_000_123, id: 'abc-1' });
    for (const bad of [
      '',
      'nope',
      Buffer.from('x:y').toString('base64url'),
      Buffer.from('12:').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(ValidationError);
    }
  });

  it('bounds page sizes and validates filters', () => {
    expect(pageSize(undefined)).toBe(50);
    expect(pageSize(500)).toBe(500);
    expect(() => pageSize(501)).toThrow(/from 1 to 500/);
    expect(() => pageSize(0)).toThrow(ValidationError);
    expect(() => validateFilter({ minConfidence: 1.2 })).toThrow(/between 0 and 1/);
    expect(() => validateFilter({ maxConfidence: -0.1 })).toThrow(ValidationError);
    expect(() => validateFilter({ minConfidence: 0.8, maxConfidence: 0.2 })).toThrow(/above maxConfidence/);
    expect(() => validateFilter({ from: new Date('2026-01-02'), to: new Date('2026-01-01') })).toThrow(/before from/);
    expect(() =>
      validateFilter({ from: new Date('2026-01-01'), minConfidence: 0, maxConfidence: 1, predictedClass: 0 }),
    ).not.toThrow();
    expect(filterWhere('e1', { from: new Date(5), minConfidence: 0.5 })).toEqual({
      endpointId: 'e1',
      inferenceTime: { gte: new Date(5) },
      confidence: { gte: 0.5 },
    });
  });

  it('parses ISO dates and rejects anything else', () => {
    expect(parseIsoDate('2026-11-26T02:00:00Z', 'from')?.toISOString()).toBe('2026-11-26T02:00:00.000Z');
    expect(parseIsoDate('2026-11-26', 'from')?.toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(parseIsoDate(null, 'from')).toBeUndefined();
    for (const bad of ['yesterday', '123', '2026-13-45', '2026-11-26T99:00']) {
      expect(() => parseIsoDate(bad, 'from')).toThrow(ValidationError);
    }
  });
});
