/**
 * Reading captures back: the `captures` connection and `capture(id)` over GraphQL, and the JSON Lines
 * download. Captures are inserted directly through Prisma.
 *
 * Query shape: `captures` answers a result union (the errors plugin's directResult):
 *
 *   captures(endpoint: String!, first: Int, after: String, filter: CaptureFilter)
 *     : CaptureConnection | ValidationError | NotFoundError
 *
 *   CaptureConnection { totalCount, pageInfo { hasNextPage hasPreviousPage startCursor endCursor },
 *                       edges { cursor node: Capture } }
 */
import fs from 'node:fs';
import { assert, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureEvent } from '../../src/capture/export.ts';
import { CaptureService } from '../../src/capture/service.ts';
import { CaptureStore } from '../../src/capture/store.ts';
import type { CapturedOutput } from '../../src/capture/types.ts';
import { graphql, type ResultOf, type VariablesOf } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

const LABELS = JSON.parse(fs.readFileSync('models/gtsrb-resnet18/labels.json', 'utf8')) as string[];
const BASE = Date.parse('2026-11-26T00:00:00.000Z');
const COUNT = 120;

const ERROR = graphql(`
  fragment CaptureErrorFields on VigilError {
    code
    message
    ... on ValidationError { field }
    ... on NotFoundError { resource key }
  }
`);
const CREATE = graphql(`
  mutation CreateCaptureEndpoint($input: CreateEndpointInput!) {
    createEndpoint(input: $input) { __typename ... on Endpoint { id name } }
  }
`);
const CAPTURES = graphql(
  `
  query Captures($endpoint: String!, $first: Int, $after: String, $filter: CaptureFilter) {
    captures(endpoint: $endpoint, first: $first, after: $after, filter: $filter) {
      __typename
      ... on CaptureConnection {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id eventId endpoint inferenceTime predictedClass confidence } }
      }
      ...CaptureErrorFields
    }
  }
`,
  [ERROR],
);
const CAPTURE = graphql(`
  query CaptureById($id: ID!) {
    capture(id: $id) {
      id eventId endpoint inferenceTime modelVersion predictedClass label confidence
      top { classId label probability }
      output outputText inputContentType inputDataUrl inputBytes
    }
  }
`);
type CaptureFilter = VariablesOf<typeof CAPTURES>['filter'];

interface Row {
  id: string;
  endpointId: string;
  eventId: string;
  inferenceTime: Date;
  modelVersion: string;
  inputData: Uint8Array<ArrayBuffer> | null;
  inputContentType: string | null;
  output: string | null;
  predictedClass: number | null;
  confidence: number | null;
  top2Class: number | null;
  top2Score: number | null;
  top3Class: number | null;
  top3Score: number | null;
}

/** 120 captures: three per minute (equal timestamps exercise the id tie-break), 5 classes, varied
 * confidence (0.00–0.99, with 0.5 and 0.8 among them), every 10th without output, every 7th without input. */
function makeRows(endpointId: string, prefix: string, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const withOutput = i % 10 !== 9;
    const withInput = i % 7 !== 6;
    const predictedClass = i % 5;
    const confidence = ((i * 37) % 100) / 100;
    const rest = (1 - confidence) / 2;
    const output: CapturedOutput = {
      predictedClass,
      label: LABELS[predictedClass]!,
      confidence,
      probabilities: Array.from({ length: 43 }, (_, c) =>
        c === predictedClass ? confidence : c === 20 ? rest : c === 21 ? rest : 0,
      ),
    };
    const input = new Uint8Array(16 + (i % 13)).map((_, b) => (b * 7 + i) % 256);
    return {
      id: `${prefix}${String(i).padStart(4, '0')}`,
      endpointId,
      eventId: `evt-${prefix}-${i}`,
      inferenceTime: new Date(BASE + Math.floor(i / 3) * 60_000),
      modelVersion: '2026-11-26-test',
      inputData: withInput ? input : null,
      inputContentType: withInput ? 'image/png' : null,
      output: withOutput ? JSON.stringify(output) : null,
      predictedClass: withOutput ? predictedClass : null,
      confidence: withOutput ? confidence : null,
      top2Class: withOutput ? 20 : null,
      top2Score: withOutput ? rest : null,
      top3Class: withOutput ? 21 : null,
      top3Score: withOutput ? rest : null,
    };
  });
}

/** the captures given a debug step in beforeAll: every fifth */
const hasStep = (r: Row) => Number(r.id.slice(-4)) % 5 === 0;

const newestFirst = (a: Row, b: Row) =>
  b.inferenceTime.getTime() - a.inferenceTime.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe('captures', () => {
  const server = useTestServer();
  let rows: Row[];

  beforeAll(async () => {
    const { createEndpoint } = await server.client.data(CREATE, { input: { name: 'cap-ep' } });
    const { createEndpoint: other } = await server.client.data(CREATE, { input: { name: 'cap-other' } });
    expectTypename(createEndpoint, 'Endpoint');
    expectTypename(other, 'Endpoint');
    rows = makeRows(createEndpoint.id, 'cap', COUNT);
    await server.app.database.prisma.capture.createMany({ data: rows });
    await server.app.database.prisma.capture.createMany({ data: makeRows(other.id, 'oth', 5) });
    await server.app.database.prisma.debugStep.createMany({
      data: rows
        .filter(hasStep)
        .map((r, step) => ({ id: `step-${r.id}`, endpointId: r.endpointId, step, captureId: r.id })),
    });
  });

  async function pageThrough(filter: CaptureFilter, first: number) {
    const ids: string[] = [];
    const totals = new Set<number>();
    let after: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      // annotated: `after` comes from the previous page, which TypeScript cannot infer around the loop
      const { captures }: ResultOf<typeof CAPTURES> = await server.client.data(CAPTURES, {
        endpoint: 'cap-ep',
        first,
        after,
        filter,
      });
      expectTypename(captures, 'CaptureConnection');
      totals.add(captures.totalCount);
      ids.push(...captures.edges.map((e) => e.node.id));
      expect(captures.pageInfo.hasPreviousPage).toBe(after !== null);
      if (captures.edges.length) expect(captures.pageInfo.endCursor).toBe(captures.edges.at(-1)?.cursor);
      if (!captures.pageInfo.hasNextPage) break;
      after = captures.pageInfo.endCursor;
    }
    expect(totals.size).toBe(1);
    return { ids, totalCount: [...totals][0] };
  }

  it('pages through all captures newest first, without duplicates or misses', async () => {
    const { ids, totalCount } = await pageThrough(undefined, 25);
    expect(totalCount).toBe(COUNT);
    expect(new Set(ids).size).toBe(COUNT);
    expect(ids).toEqual([...rows].sort(newestFirst).map((r) => r.id));

    const firstPage = (await server.client.data(CAPTURES, { endpoint: 'cap-ep' })).captures;
    expectTypename(firstPage, 'CaptureConnection');
    expect(firstPage.edges).toHaveLength(50);
    expect(firstPage.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const newest = rows.at(-1)!;
    expect(firstPage.edges[0]?.node).toEqual({
      id: newest.id,
      eventId: newest.eventId,
      endpoint: 'cap-ep',
      inferenceTime: newest.inferenceTime.toISOString(),
      predictedClass: newest.predictedClass,
      confidence: newest.confidence,
    });

    const all = (await server.client.data(CAPTURES, { endpoint: 'cap-ep', first: 500 })).captures;
    expectTypename(all, 'CaptureConnection');
    expect(all.edges).toHaveLength(COUNT);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it.each([
    [
      'from (inclusive) and to (exclusive)',
      { from: new Date(BASE + 10 * 60_000).toISOString(), to: new Date(BASE + 20 * 60_000).toISOString() },
      (r: Row) => r.inferenceTime.getTime() >= BASE + 10 * 60_000 && r.inferenceTime.getTime() < BASE + 20 * 60_000,
    ],
    [
      'from only',
      { from: new Date(BASE + 35 * 60_000).toISOString() },
      (r: Row) => r.inferenceTime.getTime() >= BASE + 35 * 60_000,
    ],
    ['predictedClass', { predictedClass: 3 }, (r: Row) => r.predictedClass === 3],
    [
      'minConfidence and maxConfidence (both inclusive)',
      { minConfidence: 0.5, maxConfidence: 0.8 },
      (r: Row) => r.confidence !== null && r.confidence >= 0.5 && r.confidence <= 0.8,
    ],
    [
      'minConfidence 0 (captures without output have no confidence)',
      { minConfidence: 0 },
      (r: Row) => r.confidence !== null,
    ],
    ['hasDebugStep true', { hasDebugStep: true }, hasStep],
    ['hasDebugStep false', { hasDebugStep: false }, (r: Row) => !hasStep(r)],
    [
      'all together',
      { from: new Date(BASE + 5 * 60_000).toISOString(), predictedClass: 1, maxConfidence: 0.6 },
      (r: Row) =>
        r.inferenceTime.getTime() >= BASE + 5 * 60_000 &&
        r.predictedClass === 1 &&
        r.confidence !== null &&
        r.confidence <= 0.6,
    ],
  ])('filters by %s, across pages, with the filtered totalCount', async (_name, filter, keep) => {
    const expected = rows
      .filter(keep)
      .sort(newestFirst)
      .map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(COUNT);
    const { ids, totalCount } = await pageThrough(filter, 7);
    expect(totalCount).toBe(expected.length);
    expect(ids).toEqual(expected);
  });

  it.each([
    [{ filter: { minConfidence: 1.5 } }, 'filter.minConfidence', /between 0 and 1/],
    [{ filter: { maxConfidence: -0.1 } }, 'filter.maxConfidence', /between 0 and 1/],
    [{ filter: { minConfidence: 0.9, maxConfidence: 0.1 } }, 'filter.minConfidence', /above maxConfidence/],
    [{ filter: { from: '2026-11-27T00:00:00Z', to: '2026-11-26T00:00:00Z' } }, 'filter.to', /before from/],
    [{ first: 501 }, 'first', /1 to 500/],
    [{ first: 0 }, 'first', /1 to 500/],
    [{ after: 'not-a-cursor' }, 'after', /not a cursor/],
  ])('answers %j with a ValidationError on %s', async (variables, field, message) => {
    const { captures } = await server.client.data(CAPTURES, { endpoint: 'cap-ep', ...variables });
    expect(captures).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', field });
    expectTypename(captures, 'ValidationError');
    expect(captures.message).toMatch(message);
  });

  it('answers an unknown endpoint with a NotFoundError', async () => {
    const { captures } = await server.client.data(CAPTURES, { endpoint: 'no-such-endpoint' });
    expect(captures).toMatchObject({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      resource: 'Endpoint',
      key: 'no-such-endpoint',
    });
  });

  it('serves one capture with its labels, top classes, output and input as a data URL', async () => {
    const row = rows[12]!;
    expect(row.inputData && row.output).toBeTruthy();
    const { capture } = await server.client.data(CAPTURE, { id: row.id });
    const output = JSON.parse(row.output!) as CapturedOutput;
    expect(capture).toMatchObject({
      id: row.id,
      eventId: row.eventId,
      endpoint: 'cap-ep',
      inferenceTime: row.inferenceTime.toISOString(),
      modelVersion: '2026-11-26-test',
      predictedClass: row.predictedClass,
      label: LABELS[row.predictedClass!],
      confidence: row.confidence,
      output,
      outputText: row.output,
      inputContentType: 'image/png',
      inputBytes: row.inputData!.byteLength,
    });
    assert(capture?.inputDataUrl, 'the capture serves its input');
    expect(capture.top).toEqual([
      { classId: row.predictedClass, label: LABELS[row.predictedClass!], probability: row.confidence },
      { classId: 20, label: LABELS[20], probability: row.top2Score },
      { classId: 21, label: LABELS[21], probability: row.top3Score },
    ]);
    const match = /^data:image\/png;base64,(.+)$/.exec(capture.inputDataUrl);
    expect(match).not.toBeNull();
    expect(Uint8Array.from(Buffer.from(match![1]!, 'base64'))).toEqual(row.inputData);
  });

  it('serves a capture without output or input with nulls, and null for an unknown id', async () => {
    const noOutput = rows.find((r) => r.output === null)!;
    const { capture } = await server.client.data(CAPTURE, { id: noOutput.id });
    expect(capture).toMatchObject({
      predictedClass: null,
      label: null,
      confidence: null,
      top: [],
      output: null,
      outputText: null,
    });
    const noInput = rows.find((r) => r.inputData === null)!;
    const { capture: withoutInput } = await server.client.data(CAPTURE, { id: noInput.id });
    expect(withoutInput).toMatchObject({ inputDataUrl: null, inputBytes: null, inputContentType: null });
    expect((await server.client.data(CAPTURE, { id: 'nope' })).capture).toBeNull();
  });

  describe('JSON Lines download', () => {
    /** reads the body as it arrives and parses every line */
    async function download(query: string) {
      const response = await fetch(`${server.url}/captures/export?${query}`);
      // each line is parsed as the export's event shape; expectEventOf then checks it field by field
      const events: CaptureEvent[] = [];
      if (!response.ok || !response.body) return { response, events };
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let split: number;
        while ((split = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, split)) as CaptureEvent);
          buffer = buffer.slice(split + 1);
        }
      }
      expect(buffer).toBe('');
      return { response, events };
    }

    function expectEventOf(event: CaptureEvent, row: Row) {
      expect(Object.keys(event)).toEqual(['captureData', 'eventMetadata', 'eventVersion']);
      expect(event.eventVersion).toBe('0');
      expect(event.eventMetadata).toEqual({ eventId: row.eventId, inferenceTime: row.inferenceTime.toISOString() });
      if (row.inputData) {
        expect(event.captureData.endpointInput).toMatchObject({
          observedContentType: 'image/png',
          mode: 'INPUT',
          encoding: 'BASE64',
        });
        assert(event.captureData.endpointInput);
        expect(Uint8Array.from(Buffer.from(event.captureData.endpointInput.data, 'base64'))).toEqual(row.inputData);
      } else {
        expect(event.captureData).not.toHaveProperty('endpointInput');
      }
      if (row.output) {
        expect(event.captureData.endpointOutput).toEqual({
          observedContentType: 'application/json',
          mode: 'OUTPUT',
          data: row.output,
          encoding: 'JSON',
        });
      } else {
        expect(event.captureData).not.toHaveProperty('endpointOutput');
      }
    }

    const oldestFirst = (a: Row, b: Row) => -newestFirst(a, b);

    it('streams every capture of the endpoint, oldest first, in the data-capture shape', async () => {
      const { response, events } = await download('endpoint=cap-ep');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="cap-ep-captures.jsonl"');
      const expected = [...rows].sort(oldestFirst);
      expect(events).toHaveLength(COUNT);
      events.forEach((event, i) => expectEventOf(event, expected[i]!));
    });

    it('respects from (inclusive) and to (exclusive)', async () => {
      const from = new Date(BASE + 10 * 60_000);
      const to = new Date(BASE + 20 * 60_000);
      const { response, events } = await download(`endpoint=cap-ep&from=${from.toISOString()}&to=${to.toISOString()}`);
      expect(response.status).toBe(200);
      const expected = rows.filter((r) => r.inferenceTime >= from && r.inferenceTime < to).sort(oldestFirst);
      expect(expected).toHaveLength(30);
      expect(events.map((e) => e.eventMetadata.eventId)).toEqual(expected.map((r) => r.eventId));
      events.forEach((event, i) => expectEventOf(event, expected[i]!));

      const empty = await download(`endpoint=cap-ep&from=2030-01-01T00:00:00Z`);
      expect(empty.response.status).toBe(200);
      expect(empty.events).toEqual([]);
    });

    it('answers 404 for an unknown endpoint and 400 for a bad date or missing endpoint', async () => {
      const missing = await fetch(`${server.url}/captures/export?endpoint=ghost`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND', resource: 'Endpoint', key: 'ghost' });
      const badDate = await fetch(`${server.url}/captures/export?endpoint=cap-ep&from=yesterday`);
      expect(badDate.status).toBe(400);
      expect(await badDate.json()).toMatchObject({ code: 'VALIDATION', field: 'from' });
      const reversed = await fetch(`${server.url}/captures/export?endpoint=cap-ep&from=2026-11-27&to=2026-11-26`);
      expect(reversed.status).toBe(400);
      const noEndpoint = await fetch(`${server.url}/captures/export`);
      expect(noEndpoint.status).toBe(400);
      expect(await noEndpoint.json()).toMatchObject({ field: 'endpoint' });
    });

    it('reads the window in keyset pages: small pages give the same lines', async () => {
      const service = new CaptureService({
        store: new CaptureStore(server.app.database.prisma),
        endpoints: server.app.services.endpoints,
        exportPageSize: 7,
      });
      const lines: string[] = [];
      for await (const line of service.exportJsonLines('cap-ep')) lines.push(line);
      const expected = [...rows].sort(oldestFirst);
      expect(lines).toHaveLength(COUNT);
      lines.forEach((line, i) => expectEventOf(JSON.parse(line) as CaptureEvent, expected[i]!));
      const windowed: string[] = [];
      for await (const line of service.exportJsonLines('cap-ep', {
        from: new Date(BASE + 60_000),
        to: new Date(BASE + 4 * 60_000),
      }))
        windowed.push(line);
      expect(windowed.map((l) => (JSON.parse(l) as CaptureEvent).eventMetadata.eventId)).toEqual(
        expected.slice(3, 12).map((r) => r.eventId),
      );
    });
  });
});
