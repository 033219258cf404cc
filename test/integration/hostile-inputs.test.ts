/**
 * The hostile-input corpus (issue #11): what anyone who reaches the port can send, through the real
 * HTTP and WebSocket server. Each case says what the server must answer (an HTTP status, a typed error
 * code, a result type); after each, the process still answers (/healthz and a query) and the database
 * holds exactly the rows, endpoint settings and schedules it held before. One server serves every case,
 * over a database that has a row in every table (captures, a debugger step and its tensors, a baseline,
 * a schedule, an execution with its metrics), so that a stray delete or a half-written row shows.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Db } from '../../src/db/prisma.ts';
import { encodeNpy } from '../../src/inference/decode/npy.ts';
import { fixture, hugePng } from '../helpers/images.ts';
import { rowCounts } from '../helpers/row-counts.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';
import { RawGraphQLSocket, upgrade } from '../helpers/websocket.ts';

/** what came back: an HTTP status (of the answer or of a refused upgrade), a code, a result type, a close code */
interface Observed {
  status?: number | undefined;
  /** `extensions.code` of the first GraphQL error, a VigilError result's code, or a JSON body's `code` */
  code?: string | undefined;
  /** the `result` field's __typename; null when the field answered null */
  typename?: string | null | undefined;
  /** a WebSocket's close code */
  closeCode?: number | undefined;
  /** the raw answer, for the failure message and the leak check */
  body: string;
}

type Expected = Partial<Omit<Observed, 'body'>>;

interface HostileCase {
  name: string;
  send(): Promise<Observed>;
  expect: Expected;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const WS_MAX_OPERATIONS = 4;
const WS_MAX_CONNECTIONS_PER_ADDRESS = 5;
const MB = 1024 * 1024;

/** the external checks' directory: one script, and a link out of it */
const CHECKS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-hostile-checks-'));
fs.writeFileSync(path.join(CHECKS_DIR, 'ok.py'), 'print("ok")\n');
fs.symlinkSync('/etc/passwd', path.join(CHECKS_DIR, 'passwd.py'));
afterAll(() => fs.rmSync(CHECKS_DIR, { recursive: true, force: true }));

const server: TestServer = useTestServer({
  env: {
    CHECKS_DIR,
    INFERENCE_DEVICE: 'cpu',
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    // above one image at the pixel limit (75 MB): an image whose size cannot be read counts as that much
    MAX_REQUEST_DECODED_BYTES: String(80 * MB),
    WS_MAX_OPERATIONS_PER_CONNECTION: String(WS_MAX_OPERATIONS),
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(WS_MAX_CONNECTIONS_PER_ADDRESS),
    // the corpus's schedule never comes due while it runs
    SCHEDULER_INTERVAL_MS: '3600000',
    // the corpus's channel sends to a closed local port
    ALERT_URL_ALLOWLIST: '127.0.0.1',
  },
});

// ---------------------------------------------------------------------------------------------------
// The database before and after: rows of every table, and the settings rows a failed update could touch

/** endpoints, schedules and alert channels as stored (leases left out: the scheduler owns them) */
async function snapshotSettings(prisma: Db): Promise<unknown> {
  const [endpoints, schedules, channels] = await Promise.all([
    prisma.endpoint.findMany({ orderBy: { id: 'asc' } }),
    prisma.monitoringSchedule.findMany({
      orderBy: { id: 'asc' },
      select: {
        id: true,
        name: true,
        cron: true,
        checks: true,
        baselineId: true,
        nextRunAt: true,
        pausedAt: true,
        updatedAt: true,
      },
    }),
    prisma.alertChannel.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return { endpoints, schedules, channels };
}

// ---------------------------------------------------------------------------------------------------
// Senders: GraphQL over HTTP, raw bytes over TCP, graphql-ws

/** the value under the first key named `result` (the field a case is about), depth first */
function findResult(value: unknown): { found: boolean; value?: unknown } {
  if (typeof value !== 'object' || value === null) return { found: false };
  if ('result' in value) return { found: true, value: value.result };
  for (const inner of Object.values(value)) {
    const found = findResult(inner);
    if (found.found) return found;
  }
  return { found: false };
}

function observeGraphQL(status: number, body: string): Observed {
  let parsed: { data?: unknown; errors?: { extensions?: { code?: string } }[] } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { status, body };
  }
  const result = findResult(parsed.data);
  const value = result.value as { __typename?: string; code?: string } | null | undefined;
  return {
    status,
    code: parsed.errors?.[0]?.extensions?.code ?? value?.code,
    typename: result.found ? (value === null ? null : value?.__typename) : undefined,
    body,
  };
}

/** a POST to /graphql: JSON unless a content type is given, or multipart for a form */
async function post(body: string | Blob | FormData, headers: Record<string, string> = {}): Promise<Observed> {
  const accept = { accept: 'application/graphql-response+json' };
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers:
      body instanceof FormData
        ? { ...accept, ...headers }
        : { ...accept, 'content-type': 'application/json', ...headers },
    body,
  });
  return observeGraphQL(response.status, await response.text());
}

const operation = (query: string, variables?: Record<string, unknown>) => () =>
  post(JSON.stringify({ query, variables }));

/**
 * Writes raw bytes and reads one answer: until the server closes, or a complete response (by
 * Content-Length or the last chunk) is in, or 3 s pass (then `status` is what arrived, if anything).
 */
function raw(chunks: readonly (string | Buffer)[]): () => Promise<Observed> {
  return () =>
    new Promise((resolve) => {
      const { hostname, port } = new URL(server.url);
      const socket = net.connect(Number(port), hostname);
      let text = '';
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined;
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        let code: string | undefined;
        try {
          const parsed = JSON.parse(body) as { code?: string; errors?: { extensions?: { code?: string } }[] };
          code = parsed.code ?? parsed.errors?.[0]?.extensions?.code;
        } catch {
          // an empty or non-JSON body
        }
        resolve({ status, code, body: text });
      };
      const timer = setTimeout(done, 3000);
      socket.on('connect', () => {
        for (const chunk of chunks) socket.write(chunk);
      });
      socket.on('data', (data) => {
        text += data.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = text.slice(0, end).toLowerCase();
        const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1];
        const body = text.length - end - 4;
        if (
          (length !== undefined && body >= Number(length)) ||
          (head.includes('chunked') && text.endsWith('0\r\n\r\n'))
        )
          done();
      });
      socket.on('close', done);
      socket.on('error', () => undefined);
    });
}

const request = (lines: string, body = '') => raw([`${lines}\r\n\r\n${body}`]);
const GET = (target: string) => request(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close`);

/** a graphql-ws connection for one case: opened and acknowledged, always closed (and its close seen) after */
async function withSocket(run: (socket: RawGraphQLSocket) => Promise<Observed>): Promise<Observed> {
  const socket = new RawGraphQLSocket(server.wsUrl);
  try {
    await socket.init();
    return await run(socket);
  } finally {
    socket.close();
    await socket.waitForClose().catch(() => undefined);
  }
}

/** the answer to operation `id`: its first message, read as GraphQL's errors or data */
async function operationAnswer(socket: RawGraphQLSocket, id: string): Promise<Observed> {
  const message = await socket.waitFor((m) => m.id === id && (m.type === 'error' || m.type === 'next'));
  const payload = message.payload as { extensions?: { code?: string } }[] | { errors?: unknown; data?: unknown };
  const body = JSON.stringify(message);
  if (Array.isArray(payload)) return { code: payload[0]?.extensions?.code, body };
  return { ...observeGraphQL(200, JSON.stringify(payload)), status: undefined, body };
}

/** a WebSocket on which `frames` are sent as soon as it opens (no handshake first); observes how it closes */
function wsFrames(frames: readonly (string | Buffer)[], protocols: string[] = ['graphql-transport-ws']) {
  return () =>
    new Promise<Observed>((resolve, reject) => {
      const socket = new WebSocket(server.wsUrl, protocols);
      const messages: string[] = [];
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`the socket stayed open: ${messages.join(' ')}`));
      }, 5000);
      socket.on('open', () => {
        for (const frame of frames) socket.send(frame);
      });
      socket.on('message', (data) => messages.push(String(data)));
      socket.on('close', (closeCode, reason) => {
        clearTimeout(timer);
        resolve({ closeCode, body: `${closeCode} ${reason.toString()} ${messages.join(' ')}` });
      });
      socket.on('error', () => undefined);
    });
}

async function waitForNoWebSockets(): Promise<void> {
  const deadline = Date.now() + 3000;
  while (server.app.server.webSocket.connections > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
}

// ---------------------------------------------------------------------------------------------------
// Hostile files, made here

const b64 = (bytes: Buffer) => ({ base64: bytes.toString('base64') });
const PREDICT = `mutation($image: ImageInput!) {
  result: predict(endpoint: "signs", image: $image) { __typename ... on VigilError { code message } }
}`;
const predictImage = (image: Record<string, string>) => operation(PREDICT, { image });
const predictBytes = (bytes: Buffer) => predictImage(b64(bytes));
const predictNpy = (bytes: Buffer) => predictImage({ npy: bytes.toString('base64') });
const INVALID_IMAGE: Expected = { status: 200, typename: 'InvalidImageError', code: 'INVALID_IMAGE' };

/** a real PNG whose IHDR claims another size (its CRC then no longer matches) */
function pngClaiming(width: number, height: number): Buffer {
  const png = Buffer.from(fixture('stop_like_octagon.png'));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  return png;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** a greyscale 8-bit PNG of width × height whose one IDAT holds `idat` (checksums right) */
function pngOf(width: number, height: number, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** a real JPEG whose start-of-frame claims another size */
function jpegClaiming(width: number, height: number): Buffer {
  const jpeg = Buffer.from(fixture('blue_arrow_circle.jpg'));
  let i = 2;
  while (i + 9 < jpeg.length) {
    const marker = jpeg[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  throw new Error('the fixture JPEG has no baseline or progressive frame header');
}

/** a WebP (VP8X) header claiming width × height, without any image data */
function webpClaiming(width: number, height: number): Buffer {
  const webp = Buffer.alloc(30);
  webp.write('RIFF', 0, 'latin1');
  webp.writeUInt32LE(22, 4);
  webp.write('WEBPVP8X', 8, 'latin1');
  webp.writeUInt32LE(10, 16);
  webp.writeUIntLE(width - 1, 24, 3);
  webp.writeUIntLE(height - 1, 27, 3);
  return webp;
}

/** a .npy of the given header dictionary and data bytes (format 1.0, or 2.0 for a long header) */
function npy(header: string, data: Buffer = Buffer.alloc(0), version: 1 | 2 = 1): Buffer {
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const length = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) length.writeUInt16LE(header.length);
  else length.writeUInt32LE(header.length);
  return Buffer.concat([prefix, length, Buffer.from(header, 'latin1'), data]);
}

function flipBytes(bytes: Buffer, from: number, every: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = from; i < out.length - 12; i += every) out[i] = out[i]! ^ 0x5a;
  return out;
}

/** multipart/form-data of a predict with one uploaded file (the preflight header set: this is not a form) */
function multipartPredict(file: Buffer, name: string, type: string, map = JSON.stringify({ 0: ['variables.f'] })) {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation($f: File!) { result: predict(endpoint: "signs", image: { file: $f }) { __typename ... on VigilError { code message } } }`,
      variables: { f: null },
    }),
  );
  form.set('map', map);
  form.set('0', new Blob([new Uint8Array(file)], { type }), name);
  return () => post(form, { 'graphql-require-preflight': '1' });
}

// ---------------------------------------------------------------------------------------------------
// The cases, by category

const CATASTROPHIC_ON_TENSOR_NAMES = [
  '(.*.*)*;',
  '(\\w+\\.?)+!',
  '([a-z0-9_.]*)*;',
  '((l|a|y|e|r|[0-9]|\\.|_|[a-z])+)+;',
];

function malformedHttp(): HostileCase[] {
  const status = (n: number): Expected => ({ status: n });
  return [
    { name: 'request line: not HTTP', send: raw(['NOT A REQUEST\r\n\r\n']), expect: status(400) },
    { name: 'request line: HTTP/9.9', send: request('GET /healthz HTTP/9.9\r\nHost: x'), expect: status(400) },
    {
      name: 'request line: unknown method BREW',
      send: request('BREW /graphql HTTP/1.1\r\nHost: x'),
      expect: status(400),
    },
    { name: 'request line: bare LF line ends', send: raw(['GET /healthz HTTP/1.1\nHost: x\n\n']), expect: status(400) },
    {
      name: 'request line: a control character in the target',
      send: request('GET /\x01 HTTP/1.1\r\nHost: x'),
      expect: status(400),
    },
    {
      name: 'request line: 100 KB target',
      send: request(`GET /healthz?${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x`),
      expect: status(431),
    },
    { name: 'header: no colon', send: request('GET /healthz HTTP/1.1\r\nHost localhost'), expect: status(400) },
    {
      name: 'header: a space in the name',
      send: request('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1'),
      expect: status(400),
    },
    {
      name: 'header: NUL in a value',
      send: request('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b'),
      expect: status(400),
    },
    {
      name: 'header: obsolete line folding',
      send: request('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b'),
      expect: status(400),
    },
    {
      name: 'header: a 20 KB value',
      send: request(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}`),
      expect: status(431),
    },
    {
      name: 'header: 3,000 headers',
      send: request(
        `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: 1`).join('\r\n')}`,
      ),
      expect: status(431),
    },
    {
      name: 'header: two different Content-Lengths (request smuggling)',
      send: request(
        'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: 5\r\nContent-Length: 6',
        '{}',
      ),
      expect: status(400),
    },
    {
      name: 'header: Content-Length with Transfer-Encoding (request smuggling)',
      send: request(
        'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked',
        '0\r\n\r\n',
      ),
      expect: status(400),
    },
    {
      name: 'header: negative Content-Length',
      send: request('POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: -1'),
      expect: status(400),
    },
    {
      name: 'body: a chunk size that is not hex',
      send: request(
        'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nTransfer-Encoding: chunked',
        'zz\r\nabc\r\n',
      ),
      expect: status(400),
    },
    {
      name: 'Host: an unparseable authority',
      send: request('GET /healthz HTTP/1.1\r\nHost: [bad'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'Host: a control character',
      send: request('GET /healthz HTTP/1.1\r\nHost: local\x01host'),
      expect: status(400),
    },
    {
      name: 'URL: a malformed percent-escape in a route path',
      send: GET('/baselines/%E0%A4%A/statistics.json'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'dashboard: a path below /dashboard that names no asset',
      send: GET('/dashboard/..%2Fgraphql'),
      expect: status(404),
    },
    {
      name: 'dashboard: a 16 kB If-None-Match on an asset',
      send: request(
        `GET /dashboard/app.css HTTP/1.1\r\nHost: x\r\nIf-None-Match: "${'a'.repeat(16_000)}"\r\nConnection: close`,
      ),
      expect: status(200),
    },
    {
      name: 'URL: %00 in a route path',
      send: GET('/executions/a%00b/classes.png'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: %00 in a route parameter',
      send: GET('/captures/export?endpoint=signs%00'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a step number past 2^53',
      send: GET('/steps/hooked/99999999999999999999/heatmap.png'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: an export date that is no date',
      send: GET('/captures/export?endpoint=signs&from=yesterday%27%20OR%201=1'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a saliency size of 100,000 pixels',
      send: GET('/saliency/whatever/heatmap.png?size=100000'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: an RTL override in an export endpoint name',
      send: GET('/captures/export?endpoint=sign%E2%80%AEs'),
      expect: { status: 404, code: 'NOT_FOUND' },
    },
    {
      name: 'GET /graphql: a mutation',
      send: GET('/graphql?query=mutation%7BdeleteEndpoint(name:%22signs%22)%7B__typename%7D%7D'),
      expect: status(405),
    },
  ];
}

function requestBodies(): HostileCase[] {
  const json = (body: string) => () => post(body);
  return [
    {
      name: 'body: over MAX_BODY_BYTES, declared',
      send: raw([
        `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
        '{"query":"{ __typename }","variables":{"pad":"',
      ]),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    {
      name: 'body: over MAX_BODY_BYTES, chunked',
      send: raw([
        'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
        ...Array.from({ length: 5 }, () => `100000\r\n${'x'.repeat(MB)}\r\n`),
      ]),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    { name: 'body: invalid JSON', send: json('{"query": '), expect: { status: 400, code: 'BAD_REQUEST' } },
    { name: 'body: a JSON number', send: json('42'), expect: { status: 400, code: 'BAD_REQUEST' } },
    {
      name: 'body: query is a number',
      send: json('{"query": 1}'),
      expect: { status: 400, code: 'BAD_REQUEST' },
    },
    {
      name: 'body: invalid UTF-8 in the document',
      send: () =>
        post(
          new Blob([
            new Uint8Array(
              Buffer.concat([Buffer.from('{"query":"{ __type'), Buffer.from([0xff, 0xfe]), Buffer.from('name }"}')]),
            ),
          ]),
        ),
      expect: { status: 400, code: 'GRAPHQL_PARSE_FAILED' },
    },
    {
      name: 'body: a batched array of operations',
      send: json(
        JSON.stringify([
          { query: '{ __typename }' },
          { query: 'mutation { deleteEndpoint(name: "signs") { __typename } }' },
        ]),
      ),
      expect: { status: 400, code: 'BAD_REQUEST' },
    },
    {
      name: 'body: 200,000 levels of nested arrays in an unused variable',
      send: json(`{"query":"{ __typename }","variables":{"pad":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`),
      expect: { status: 200, code: undefined },
    },
    {
      name: 'content type: text/plain (a form can send it)',
      send: () =>
        post('{"query":"mutation { deleteEndpoint(name: \\"signs\\") { __typename } }"}', {
          'content-type': 'text/plain',
        }),
      expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    },
    {
      name: 'content type: a form-encoded mutation (CSRF)',
      send: () =>
        post('query=mutation%7BdeleteEndpoint(name:%22signs%22)%7B__typename%7D%7D', {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      expect: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    },
    {
      name: 'multipart: without a preflight header (CSRF)',
      send: () => {
        const form = new FormData();
        form.set('operations', JSON.stringify({ query: 'mutation { deleteEndpoint(name: "signs") { __typename } }' }));
        form.set('map', '{}');
        return post(form);
      },
      expect: { status: 400, code: 'PREFLIGHT_REQUIRED' },
    },
    {
      name: 'multipart: a body that is not multipart',
      send: () =>
        post('--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{', {
          'content-type': 'multipart/form-data; boundary=zzz',
          'graphql-require-preflight': '1',
        }),
      expect: { status: 400, code: 'BAD_REQUEST' },
    },
    {
      name: 'multipart: a map that is not JSON',
      send: multipartPredict(fixture('noise.png'), 'x.png', 'image/png', '{{{'),
      expect: { status: 400, code: 'BAD_REQUEST' },
    },
  ];
}

function documents(): HostileCase[] {
  const ENDPOINTS_31_ALIASES = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: endpoints { name }`).join(' ')} }`;
  const DEEP = `{ result: captures(endpoint: "signs") { ... on CaptureConnection { edges { node { ${'debugStep { capture { '.repeat(4)}id${' } }'.repeat(4)} } } } } }`;
  return [
    {
      name: 'document: 10,000 fields (over MAX_DOCUMENT_BYTES)',
      send: operation(`{ ${'__typename '.repeat(10_000)}}`),
      expect: { status: 400, code: 'DOCUMENT_TOO_LARGE' },
    },
    {
      name: 'document: 2,500 fields (over MAX_QUERY_TOKENS)',
      send: operation(`{ ${'__typename '.repeat(2500)}}`),
      expect: { status: 400, code: 'GRAPHQL_PARSE_FAILED' },
    },
    {
      name: 'document: 5,000 nested list literals',
      send: operation(`{ result: endpoint(name: ${'['.repeat(5000)}${']'.repeat(5000)}) { name } }`),
      expect: { status: 400, code: 'GRAPHQL_PARSE_FAILED' },
    },
    {
      name: 'document: 990 nested list literals (within the token limit)',
      send: operation(`{ result: endpoint(name: ${'['.repeat(990)}${']'.repeat(990)}) { name } }`),
      expect: { status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    },
    { name: 'document: depth 13', send: operation(DEEP), expect: { status: 400, code: 'QUERY_TOO_COMPLEX' } },
    {
      name: 'document: 31 aliases',
      send: operation(ENDPOINTS_31_ALIASES),
      expect: { status: 400, code: 'QUERY_TOO_COMPLEX' },
    },
    {
      name: 'document: cost (25 pages of 500 captures)',
      send: operation(
        `{ ${Array.from({ length: 25 }, (_, i) => `p${i}: captures(endpoint: "signs", first: 500) { ... on CaptureConnection { edges { node { id top { label } } } } }`).join(' ')} }`,
      ),
      expect: { status: 400, code: 'QUERY_TOO_COMPLEX' },
    },
    {
      name: 'document: a fragment cycle',
      send: operation('query { ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }'),
      expect: { status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    },
    {
      name: 'document: a fragment bomb (30 levels, each spread twice)',
      send: operation(
        `query { ...F0 } ${Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F30 on Query { endpoints { name } }`,
      ),
      expect: { status: 400, code: 'QUERY_TOO_COMPLEX' },
    },
    {
      name: 'document: one directive 200 times',
      send: operation(`{ __typename ${'@include(if: true) '.repeat(200)}}`),
      expect: { status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    },
    {
      name: 'document: 100 operations and no operationName',
      send: operation(Array.from({ length: 100 }, (_, i) => `query Q${i} { __typename }`).join(' ')),
      expect: { status: 400, code: 'OPERATION_RESOLUTION_FAILURE' },
    },
    {
      name: 'document: a deep introspection query',
      send: operation(`{ __schema { types { ${'fields { type { ofType { '.repeat(5)}name${' } } }'.repeat(5)} } } }`),
      expect: { status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
    },
    {
      name: 'variables: nested lists where a list of images goes',
      send: () =>
        post(
          `{"query":"mutation($i: [ImageInput!]!) { result: predictBatch(endpoint: \\"signs\\", images: $i) { __typename } }","variables":{"i":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
        ),
      expect: { status: 400, code: 'BAD_USER_INPUT' },
    },
    {
      name: 'variables: both members of a @oneOf image',
      send: predictImage({ base64: 'AAAA', npy: 'AAAA' }),
      expect: { status: 400, code: 'BAD_USER_INPUT' },
    },
  ];
}

function limits(): HostileCase[] {
  const BATCH_OF_ONE = (count: number) =>
    `mutation($image: ImageInput!) { result: predictBatch(endpoint: "signs", images: [${Array(count).fill('$image').join(', ')}]) { __typename ... on VigilError { code message } } }`;
  const BATCH = `mutation($images: [ImageInput!]!) { result: predictBatch(endpoint: "signs", images: $images) { __typename ... on VigilError { code message } } }`;
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  return [
    { name: 'batch: 257 items', send: operation(BATCH_OF_ONE(257), { image: { base64: 'AAAA' } }), expect: VALIDATION },
    {
      name: 'batch: 20,000 items in a variable',
      send: operation(BATCH, { images: Array(20_000).fill({ base64: 'AAAA' }) }),
      expect: VALIDATION,
    },
    { name: 'batch: no items', send: operation(BATCH, { images: [] }), expect: VALIDATION },
    {
      name: 'batch: three distinct 12 MP bombs, over MAX_REQUEST_DECODED_BYTES together',
      send: operation(BATCH, { images: [0, 1, 2].map((i) => b64(hugePng(4000 + i, 3000))) }),
      expect: VALIDATION,
    },
    {
      name: 'page size: captures first 501',
      send: operation('{ result: captures(endpoint: "signs", first: 501) { __typename ... on VigilError { code } } }'),
      expect: VALIDATION,
    },
    {
      name: 'page size: captures first 0',
      send: operation('{ result: captures(endpoint: "signs", first: 0) { __typename ... on VigilError { code } } }'),
      expect: VALIDATION,
    },
    {
      name: 'page size: executions first -1',
      send: operation(
        '{ result: monitoringExecutions(schedule: "nightly", first: -1) { __typename ... on VigilError { code } } }',
      ),
      expect: VALIDATION,
    },
    {
      name: 'page size: a first past 32 bits',
      send: operation('{ result: captures(endpoint: "signs", first: 99999999999) { __typename } }'),
      expect: { status: 400 },
    },
    {
      name: 'list: nextRuns count 1,000,000',
      send: operation(
        '{ cronExpression(kind: HOURLY) { ... on CronExpression { result: nextRuns(count: 1000000) { __typename ... on VigilError { code } } } } }',
      ),
      expect: VALIDATION,
    },
    {
      name: 'list: 10,000 debug-hook collections',
      send: operation(
        'mutation($c: [String!]) { result: updateEndpoint(name: "signs", input: { debugHook: { collections: $c } }) { __typename ... on VigilError { code } } }',
        { c: Array(10_000).fill('fullgrad') },
      ),
      expect: VALIDATION,
    },
    {
      name: 'list: topK 44 of 43 classes',
      send: operation(
        'mutation($image: ImageInput!) { result: predict(endpoint: "signs", image: $image, topK: 44) { __typename ... on VigilError { code } } }',
        { image: b64(fixture('noise.png')) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'string: a 2,000-character regex',
      send: operation(
        'query($r: String) { trial(endpoint: "hooked") { ... on Trial { result: tensorNames(regex: $r) { __typename ... on VigilError { code } } } } }',
        { r: 'a'.repeat(2000) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'saliency: size 100,000 through GraphQL',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, size: 100000) { __typename ... on VigilError { code } } }',
          {
            id: hookedCaptureId,
          },
        )(),
      expect: VALIDATION,
    },
    {
      name: 'saliency: opacity 1e308 through GraphQL',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, opacity: 1e308) { __typename ... on VigilError { code } } }',
          {
            id: hookedCaptureId,
          },
        )(),
      expect: VALIDATION,
    },
  ];
}

function images(): HostileCase[] {
  const png = fixture('stop_like_octagon.png');
  const jpeg = fixture('blue_arrow_circle.jpg');
  const webp = fixture('yield_like_97x61.webp');
  const ppm = fixture('speed_ring.ppm');
  const photoNpy = encodeNpy({ width: 4, height: 4, rgb: new Uint8Array(48) });
  const shape = (s: string, descr = '|u1', fortran = 'False') =>
    `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${s}, }\n`;
  const chunkOfLength = (type: string, length: number) => {
    const chunk = Buffer.alloc(12);
    chunk.writeUInt32BE(length, 0);
    chunk.write(type, 4, 'latin1');
    return chunk;
  };
  return [
    { name: 'PNG: truncated to half', send: predictBytes(png.subarray(0, png.length >> 1)), expect: INVALID_IMAGE },
    { name: 'PNG: corrupted image data', send: predictBytes(flipBytes(png, 60, 7)), expect: INVALID_IMAGE },
    { name: 'PNG: the signature alone', send: predictBytes(png.subarray(0, 8)), expect: INVALID_IMAGE },
    {
      name: 'PNG: IHDR claiming 100000×100000',
      send: predictBytes(pngClaiming(100_000, 100_000)),
      expect: INVALID_IMAGE,
    },
    { name: 'PNG: IHDR claiming 0×0', send: predictBytes(pngClaiming(0, 0)), expect: INVALID_IMAGE },
    {
      name: 'PNG: a chunk claiming 4 GiB',
      send: predictBytes(Buffer.concat([png.subarray(0, 33), chunkOfLength('IDAT', 0xffffffff)])),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PNG: a 36 MP decompression bomb (valid, a few KB)',
      send: predictBytes(hugePng(6000, 6000)),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PNG: 8 MB of invalid rows deflated into one IDAT under a small IHDR',
      send: predictBytes(pngOf(64, 64, zlib.deflateSync(Buffer.alloc(8 * MB, 0xff)))),
      expect: INVALID_IMAGE,
    },
    {
      name: 'JPEG: truncated to 40 %',
      send: predictBytes(jpeg.subarray(0, Math.floor(jpeg.length * 0.4))),
      expect: INVALID_IMAGE,
    },
    { name: 'JPEG: start-of-image alone', send: predictBytes(Buffer.from([0xff, 0xd8, 0xff])), expect: INVALID_IMAGE },
    {
      name: 'JPEG: frame claiming 65535×65535',
      send: predictBytes(jpegClaiming(65_535, 65_535)),
      expect: INVALID_IMAGE,
    },
    {
      name: 'JPEG: a segment of length 0',
      send: predictBytes(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00, 0xff, 0xd9])),
      expect: INVALID_IMAGE,
    },
    {
      name: 'JPEG: a megabyte of fill bytes',
      send: predictBytes(Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(MB, 0xff)])),
      expect: INVALID_IMAGE,
    },
    { name: 'WebP: truncated to half', send: predictBytes(webp.subarray(0, webp.length >> 1)), expect: INVALID_IMAGE },
    {
      name: 'WebP: VP8X claiming 16777216² pixels',
      send: predictBytes(webpClaiming(1 << 24, 1 << 24)),
      expect: INVALID_IMAGE,
    },
    {
      name: 'WebP: a RIFF size that lies',
      send: () => {
        const lying = Buffer.from(webp);
        lying.writeUInt32LE(0x7ffffff0, 4);
        return predictBytes(lying)();
      },
      expect: INVALID_IMAGE,
    },
    {
      name: 'PPM: a header claiming 99999×99999',
      send: predictBytes(Buffer.from('P6\n99999 99999\n255\n')),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PPM: a width of 30 digits',
      send: predictBytes(Buffer.from(`P6\n${'9'.repeat(30)} 1\n255\n`)),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PPM: truncated samples',
      send: predictBytes(Buffer.concat([Buffer.from('P6\n100 100\n255\n'), Buffer.alloc(10)])),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PPM: text samples that are not numbers',
      send: predictBytes(Buffer.from(`P3\n2 2\n255\n${'ab '.repeat(12)}\n`)),
      expect: INVALID_IMAGE,
    },
    {
      name: 'PPM: a megabyte-long comment in the header',
      send: predictBytes(Buffer.from(`P6\n#${'c'.repeat(MB)}`)),
      expect: INVALID_IMAGE,
    },
    { name: 'PPM: maxval 0', send: predictBytes(Buffer.from('P6\n2 2\n0\n............')), expect: INVALID_IMAGE },
    {
      name: '.npy: a shape of 100000×100000×3',
      send: predictNpy(npy(shape('(100000, 100000, 3)'))),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: a 1 MB header',
      send: predictNpy(npy(`{'descr': '|u1', ${' '.repeat(MB)}}`, Buffer.alloc(0), 2)),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: float64 data',
      send: predictNpy(npy(shape('(4, 4, 3)', '<f8'), Buffer.alloc(384))),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: Fortran order',
      send: predictNpy(npy(shape('(4, 4, 3)', '|u1', 'True'), Buffer.alloc(48))),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: truncated data',
      send: predictNpy(photoNpy.subarray(0, photoNpy.length - 10)),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: version 2 cut inside its header length',
      send: predictNpy(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0])),
      expect: INVALID_IMAGE,
    },
    {
      name: '.npy: a negative shape',
      send: predictNpy(npy(shape('(-4, 4, 3)'), Buffer.alloc(48))),
      expect: INVALID_IMAGE,
    },
    {
      name: 'mislabelled: a data: URL saying PNG around text',
      send: predictImage({
        base64: `data:image/png;base64,${Buffer.from('<svg onload=alert(1)>').toString('base64')}`,
      }),
      expect: INVALID_IMAGE,
    },
    {
      name: 'mislabelled: an SVG with a billion-laughs entity',
      send: predictBytes(
        Buffer.from(
          `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]><svg>&j;</svg>`,
        ),
      ),
      expect: INVALID_IMAGE,
    },
    {
      name: 'mislabelled: a PNG signature on JPEG bytes',
      send: predictBytes(Buffer.concat([png.subarray(0, 8), jpeg.subarray(8)])),
      expect: INVALID_IMAGE,
    },
    {
      name: 'mislabelled: a .npy magic on PPM bytes',
      send: predictNpy(Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), ppm])),
      expect: INVALID_IMAGE,
    },
    {
      name: 'mislabelled: a multipart image/png upload holding a huge PPM header',
      send: multipartPredict(Buffer.from('P6\n65535 65535\n255\n'), 'photo.png', 'image/png'),
      expect: INVALID_IMAGE,
    },
    { name: 'base64: not base64', send: predictImage({ base64: '!!!!' }), expect: INVALID_IMAGE },
    {
      name: 'base64: a data: URL without ;base64',
      send: predictImage({ base64: 'data:image/png,AAAA' }),
      expect: INVALID_IMAGE,
    },
    { name: 'base64: empty', send: predictImage({ base64: '' }), expect: INVALID_IMAGE },
    {
      name: 'base64: 3 MB of padding characters',
      send: predictImage({ base64: '='.repeat(3 * MB) }),
      expect: INVALID_IMAGE,
    },
  ];
}

function strings(): HostileCase[] {
  const CREATE = `mutation($name: String!, $model: String) {
    result: createEndpoint(input: { name: $name, model: $model }) { __typename ... on VigilError { code } }
  }`;
  const create = (name: string, model?: string) => operation(CREATE, { name, model });
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  const NOT_FOUND: Expected = { status: 200, typename: 'NotFoundError', code: 'NOT_FOUND' };
  const NUL_REFUSED: Expected = { status: 400, code: 'BAD_USER_INPUT' };
  const schedule = (input: Record<string, unknown>) =>
    operation(
      'mutation($input: CreateMonitoringScheduleInput!) { result: createMonitoringSchedule(input: $input) { __typename ... on VigilError { code } } }',
      { input: { endpoint: 'signs', name: 'hostile', cron: '0 0 29 2 *', ...input } },
    );
  const baseline = (directory: string) =>
    operation(
      'mutation($d: String) { result: createBaseline(input: { endpoint: "signs", name: "hostile", directory: $d }) { __typename ... on VigilError { code } } }',
      { d: directory },
    );
  /** a field that fetches one thing by its key (null when there is none) */
  const lookup = (field: string, argument: string, type: string, value: string) =>
    operation(`query($v: ${type}!) { result: ${field}(${argument}: $v) { __typename } }`, { v: value });
  return [
    { name: 'endpoint name: 1 MB', send: create('a'.repeat(MB)), expect: VALIDATION },
    { name: 'endpoint name: control characters', send: create('sig\u0001\u001b[2Jns'), expect: VALIDATION },
    { name: 'endpoint name: an RTL override', send: create('sign\u202Es'), expect: VALIDATION },
    { name: 'endpoint name: SQL', send: create(`x'; DROP TABLE "Capture"; --`), expect: VALIDATION },
    { name: 'endpoint name: JSON', send: create('{"name":"signs","$where":"1"}'), expect: VALIDATION },
    { name: 'endpoint name: a lone surrogate', send: create('sig\ud800ns'), expect: VALIDATION },
    { name: 'endpoint name: NUL', send: create('signs\u0000'), expect: NUL_REFUSED },
    {
      name: 'endpoint name: NUL in a literal',
      send: operation('mutation { result: createEndpoint(input: { name: "a\\u0000" }) { __typename } }'),
      expect: NUL_REFUSED,
    },
    { name: 'model: a path out of MODEL_DIR', send: create('hostile', '../../../../etc/passwd'), expect: NOT_FOUND },
    {
      name: 'endpoint lookup: 1 MB',
      send: lookup('endpoint', 'name', 'String', 'x'.repeat(MB)),
      expect: { status: 200, typename: null },
    },
    {
      name: 'endpoint lookup: NUL (PostgreSQL cannot compare it)',
      send: lookup('endpoint', 'name', 'String', 'signs\u0000'),
      expect: NUL_REFUSED,
    },
    {
      name: 'capture lookup: SQL',
      send: lookup('capture', 'id', 'ID', `' OR '1'='1`),
      expect: { status: 200, typename: null },
    },
    {
      name: 'baseline lookup: a lone surrogate',
      send: lookup('baseline', 'id', 'ID', '\udfff'),
      expect: { status: 200, typename: null },
    },
    {
      name: 'schedule lookup: an RTL override',
      send: lookup('monitoringSchedule', 'name', 'String', 'night\u202Ely'),
      expect: { status: 200, typename: null },
    },
    {
      name: 'deleteEndpoint: SQL that matches every row',
      send: operation(
        'mutation($n: String!) { result: deleteEndpoint(name: $n) { __typename ... on VigilError { code } } }',
        {
          n: `' OR '1'='1`,
        },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'deleteEndpoint: a LIKE wildcard',
      send: operation(
        'mutation($n: String!) { result: deleteEndpoint(name: $n) { __typename ... on VigilError { code } } }',
        { n: '%' },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'deleteMonitoringSchedule: a glob',
      send: operation(
        'mutation($n: String!) { result: deleteMonitoringSchedule(name: $n) { __typename ... on VigilError { code } } }',
        {
          n: '*',
        },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'deleteBaseline: SQL',
      send: operation(
        'mutation($n: ID!) { result: deleteBaseline(id: $n) { __typename ... on VigilError { code } } }',
        {
          n: '1 OR 1=1',
        },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'runMonitoringSchedule: JSON',
      send: operation(
        'mutation($n: String!) { result: runMonitoringSchedule(name: $n) { __typename ... on VigilError { code } } }',
        {
          n: '{"name":{"$ne":null}}',
        },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'predict: an endpoint of control characters',
      send: operation(
        'mutation($e: String!) { result: predict(endpoint: $e, image: { base64: "" }) { __typename ... on VigilError { code } } }',
        { e: '\u0007\u0008\u007f' },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'captures: a 1 MB cursor',
      send: operation(
        'query($a: String) { result: captures(endpoint: "signs", after: $a) { __typename ... on VigilError { code } } }',
        {
          a: 'A'.repeat(MB),
        },
      ),
      expect: VALIDATION,
    },
    {
      name: 'captures: a well-formed cursor with SQL for its id',
      send: operation(
        'query($a: String) { result: captures(endpoint: "signs", after: $a) { __typename ... on VigilError { code } } }',
        {
          a: Buffer.from(`${Date.now()}:' OR 1=1 --`).toString('base64url'),
        },
      ),
      expect: { status: 200, typename: 'CaptureConnection' },
    },
    {
      name: 'captures: a DateTime of 1 MB',
      send: operation(
        'query($f: DateTime) { result: captures(endpoint: "signs", filter: { from: $f }) { __typename } }',
        {
          f: `2026-01-01T${'9'.repeat(MB)}`,
        },
      ),
      expect: { status: 400, code: 'BAD_USER_INPUT' },
    },
    {
      name: 'captures: hasDebugStep given a string',
      send: operation(
        'query($h: Boolean) { result: captures(endpoint: "signs", filter: { hasDebugStep: $h }) { __typename } }',
        { h: "true' OR 1=1" },
      ),
      expect: { status: 400, code: 'BAD_USER_INPUT' },
    },
    {
      name: 'metrics: SQL for the metric name',
      send: operation(
        'query($n: String!) { result: metrics(schedule: "nightly", name: $n) { __typename ... on VigilError { code } } }',
        {
          n: `x' UNION SELECT * FROM "Endpoint" --`,
        },
      ),
      expect: { status: 200, typename: 'MonitoringMetricSeries' },
    },
    {
      name: 'trial: a 1 MB tensor name',
      send: operation(
        'query($n: String!) { trial(endpoint: "hooked") { ... on Trial { result: tensor(name: $n) { __typename ... on VigilError { code } } } } }',
        { n: 'x'.repeat(MB) },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'trial: a collection that is SQL',
      send: operation(
        'query($c: String) { trial(endpoint: "hooked") { ... on Trial { result: tensorNames(collection: $c) { __typename ... on VigilError { code } } } } }',
        { c: `'; DELETE FROM "Tensor"; --` },
      ),
      expect: VALIDATION,
    },
    {
      name: 'schedule: a 100 KB cron of 50,000 fields',
      send: schedule({ cron: '* '.repeat(50_000) }),
      expect: VALIDATION,
    },
    {
      name: 'schedule: a 3 MB cron list (seconds of parsing before it was bounded)',
      send: schedule({ cron: `${'*,'.repeat(1_500_000)}* * * * *` }),
      expect: VALIDATION,
    },
    { name: 'schedule: a step of 0', send: schedule({ cron: '*/0 * * * *' }), expect: VALIDATION },
    {
      name: 'schedule: a name with a newline',
      send: schedule({ name: 'nightly\nINFO forged log line' }),
      expect: VALIDATION,
    },
    { name: 'schedule: a baseline that is SQL', send: schedule({ baseline: `' OR 1=1 --` }), expect: NOT_FOUND },
    {
      name: 'schedule: inputDrift pValue 1e308',
      send: schedule({ checks: { inputDrift: { pValue: 1e308 } } }),
      expect: VALIDATION,
    },
    {
      name: 'schedule: inputDrift maxSampleSize 2^31 − 1 (the sample stays bounded)',
      send: schedule({ checks: { inputDrift: { maxSampleSize: 2 ** 31 - 1 } } }),
      expect: VALIDATION,
    },
    {
      name: 'schedule: inputDrift without a baseline',
      send: schedule({ checks: { inputDrift: { enabled: true } } }),
      expect: VALIDATION,
    },
    {
      name: 'captures: minOutlierScore 1e308',
      send: operation(
        'query($x: Float) { result: captures(endpoint: "signs", filter: { minOutlierScore: $x }) { __typename ... on VigilError { code } } }',
        { x: 1e308 },
      ),
      expect: VALIDATION,
    },
    {
      name: 'captures: maxOutlierScore −1e308',
      send: operation(
        'query($x: Float) { result: captures(endpoint: "signs", filter: { maxOutlierScore: $x }) { __typename ... on VigilError { code } } }',
        { x: -1e308 },
      ),
      expect: VALIDATION,
    },
    { name: 'baseline directory: up and out', send: baseline('../../../../../../etc'), expect: VALIDATION },
    { name: 'baseline directory: /proc/self', send: baseline('/proc/self'), expect: VALIDATION },
    { name: 'baseline directory: 1 MB', send: baseline('d/'.repeat(MB / 2)), expect: VALIDATION },
    {
      name: 'debug hook: a collection that is JSON',
      send: operation(
        'mutation($c: [String!]) { result: updateEndpoint(name: "signs", input: { debugHook: { collections: $c } }) { __typename ... on VigilError { code } } }',
        { c: ['{"all":true}'] },
      ),
      expect: VALIDATION,
    },
    {
      name: 'debug hook: an includeRegex holding NUL',
      send: operation(
        'mutation($r: String) { result: updateEndpoint(name: "signs", input: { debugHook: { includeRegex: $r } }) { __typename } }',
        { r: 'input\u0000' },
      ),
      expect: NUL_REFUSED,
    },
  ];
}

function regexes(): HostileCase[] {
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  const createHooked = (regex: string) =>
    operation(
      'mutation($r: String) { result: createEndpoint(input: { name: "hostile-hook", debugHook: { enabled: true, includeRegex: $r } }) { __typename ... on VigilError { code } } }',
      { r: regex },
    );
  const updateHook = (regex: string) =>
    operation(
      'mutation($r: String) { result: updateEndpoint(name: "signs", input: { debugHook: { enabled: true, includeRegex: $r } }) { __typename ... on VigilError { code } } }',
      { r: regex },
    );
  const tensorNames = (regex: string) =>
    operation(
      'query($r: String) { trial(endpoint: "hooked") { ... on Trial { result: tensorNames(regex: $r) { __typename ... on VigilError { code } } } } }',
      { r: regex },
    );
  return [
    ...CATASTROPHIC_ON_TENSOR_NAMES.slice(0, 2).map((regex) => ({
      name: `includeRegex on create: ${regex}`,
      send: createHooked(regex),
      expect: VALIDATION,
    })),
    ...CATASTROPHIC_ON_TENSOR_NAMES.slice(2).map((regex) => ({
      name: `includeRegex on update: ${regex}`,
      send: updateHook(regex),
      expect: VALIDATION,
    })),
    { name: 'includeRegex: invalid syntax', send: updateHook('(?<'), expect: VALIDATION },
    // these two finish quickly on tensor names (no long runs of a): the answer is a list, not a hang
    {
      name: 'tensorNames regex: (a+)+$',
      send: tensorNames('(a+)+$'),
      expect: { status: 200, typename: 'TensorNameList' },
    },
    {
      name: 'tensorNames regex: (.*a){20}',
      send: tensorNames('(.*a){20}'),
      expect: { status: 200, typename: 'TensorNameList' },
    },
    { name: 'tensorNames regex: (.*.*)*;', send: tensorNames('(.*.*)*;'), expect: VALIDATION },
    { name: 'tensorNames regex: (([a-z_.0-9]|.)*)*!', send: tensorNames('(([a-z_.0-9]|.)*)*!'), expect: VALIDATION },
    {
      name: 'tensorNames regex: three catastrophic patterns in one document',
      send: async () => {
        const observed = await operation(
          `{ trial(endpoint: "hooked") { ... on Trial { ${CATASTROPHIC_ON_TENSOR_NAMES.slice(0, 3)
            .map((r, i) => `r${i}: tensorNames(regex: ${JSON.stringify(r)}) { __typename }`)
            .join(' ')} } } }`,
        )();
        const trial = (JSON.parse(observed.body) as { data: { trial: Record<string, { __typename: string }> } }).data
          .trial;
        const typenames = new Set(Object.values(trial).map((r) => r.__typename));
        return { ...observed, typename: typenames.size === 1 ? [...typenames][0] : [...typenames].join() };
      },
      expect: { status: 200, typename: 'ValidationError' },
    },
  ];
}

function webSockets(): HostileCase[] {
  const LIVE = 'subscription { predictions(endpoint: "signs") { label } }';
  return [
    {
      name: 'ws: a message over MAX_BODY_BYTES',
      send: () =>
        withSocket(async (socket) => {
          socket.sendRaw(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(MAX_BODY_BYTES) } },
            }),
          );
          const closed = await socket.waitForClose();
          return { closeCode: closed.code, body: closed.reason };
        }),
      expect: { closeCode: 1009 },
    },
    {
      name: `ws: 50 subscriptions on one connection (limit ${WS_MAX_OPERATIONS})`,
      send: () =>
        withSocket(async (socket) => {
          for (let i = 0; i < 50; i++) socket.subscribe(String(i), LIVE);
          const refused = await Promise.all(
            Array.from({ length: 50 - WS_MAX_OPERATIONS }, (_, i) =>
              operationAnswer(socket, String(WS_MAX_OPERATIONS + i)),
            ),
          );
          const codes = new Set(refused.map((r) => r.code));
          // the connection stays, and completing one makes room again
          socket.send({ id: '0', type: 'complete' });
          await new Promise((r) => setTimeout(r, 50));
          socket.subscribe('after', '{ result: __typename }');
          const after = await socket.waitFor((m) => m.id === 'after' && m.type === 'next');
          const typename = (after.payload as { data?: { result?: string } }).data?.result;
          return { code: [...codes].join(), typename, body: JSON.stringify(refused[0]) };
        }),
      expect: { code: 'TOO_MANY_OPERATIONS', typename: 'Query' },
    },
    {
      name: `ws: connections past ${WS_MAX_CONNECTIONS_PER_ADDRESS} from one address`,
      send: async () => {
        await waitForNoWebSockets();
        const sockets: RawGraphQLSocket[] = [];
        try {
          for (let i = 0; i < WS_MAX_CONNECTIONS_PER_ADDRESS; i++) {
            const socket = new RawGraphQLSocket(server.wsUrl);
            sockets.push(socket);
            await socket.init();
          }
          const refused = await upgrade(server.wsUrl);
          return {
            status: refused.status,
            code: (JSON.parse(refused.body) as { code: string }).code,
            body: refused.body,
          };
        } finally {
          sockets.forEach((s) => s.close());
          await Promise.all(sockets.map((s) => s.waitForClose().catch(() => undefined)));
          await waitForNoWebSockets();
        }
      },
      expect: { status: 429, code: 'TOO_MANY_CONNECTIONS' },
    },
    {
      name: 'ws: an upgrade from a foreign Origin',
      send: async () => {
        const refused = await upgrade(server.wsUrl, { origin: 'https://evil.example' });
        return {
          status: refused.status,
          code: (JSON.parse(refused.body) as { code: string }).code,
          body: refused.body,
        };
      },
      expect: { status: 403, code: 'FORBIDDEN_ORIGIN' },
    },
    {
      name: 'ws: an upgrade on another path',
      send: async () => {
        const refused = await upgrade(server.wsUrl.replace('/graphql', '/admin'));
        return {
          status: refused.status,
          code: (JSON.parse(refused.body) as { code: string }).code,
          body: refused.body,
        };
      },
      expect: { status: 404, code: 'NOT_FOUND' },
    },
    {
      name: 'ws: subscribe before connection_init',
      send: wsFrames([JSON.stringify({ id: '1', type: 'subscribe', payload: { query: LIVE } })]),
      expect: { closeCode: 4401 },
    },
    { name: 'ws: a message that is not JSON', send: wsFrames(['{{{']), expect: { closeCode: 4400 } },
    {
      name: 'ws: a binary frame of garbage',
      send: wsFrames([Buffer.from([0, 1, 2, 0xff])]),
      expect: { closeCode: 4400 },
    },
    {
      name: 'ws: connection_init twice',
      send: wsFrames([JSON.stringify({ type: 'connection_init' }), JSON.stringify({ type: 'connection_init' })]),
      expect: { closeCode: 4429 },
    },
    {
      name: 'ws: no subprotocol',
      send: wsFrames([JSON.stringify({ type: 'connection_init' })], []),
      expect: { closeCode: 4406 },
    },
    {
      name: 'ws: two subscriptions with one id',
      send: () =>
        withSocket(async (socket) => {
          socket.subscribe('1', LIVE);
          socket.subscribe('1', LIVE);
          const closed = await socket.waitForClose();
          return { closeCode: closed.code, body: closed.reason };
        }),
      expect: { closeCode: 4409 },
    },
    {
      name: 'ws: a message of an unknown type',
      send: () =>
        withSocket(async (socket) => {
          socket.send({ id: '1', type: 'explode' });
          const closed = await socket.waitForClose();
          return { closeCode: closed.code, body: closed.reason };
        }),
      expect: { closeCode: 4400 },
    },
    {
      name: 'ws: NUL in a variable',
      send: () =>
        withSocket(async (socket) => {
          socket.subscribe('1', 'query($n: String!) { result: endpoint(name: $n) { name } }', { n: 'signs\u0000' });
          return operationAnswer(socket, '1');
        }),
      expect: { code: 'BAD_USER_INPUT' },
    },
    {
      name: 'ws: a document too deep',
      send: () =>
        withSocket(async (socket) => {
          socket.subscribe(
            '1',
            `{ captures(endpoint: "signs") { ... on CaptureConnection { edges { node { ${'debugStep { capture { '.repeat(4)}id${' } }'.repeat(4)} } } } } }`,
          );
          return operationAnswer(socket, '1');
        }),
      expect: { code: 'QUERY_TOO_COMPLEX' },
    },
    {
      name: 'ws: a subscription to an endpoint that does not exist',
      send: () =>
        withSocket(async (socket) => {
          socket.subscribe('1', 'subscription { predictions(endpoint: "\u202Eghost") { label } }');
          return operationAnswer(socket, '1');
        }),
      expect: { code: 'NOT_FOUND' },
    },
    {
      name: 'ws: a mutation that deletes with SQL for a name',
      send: () =>
        withSocket(async (socket) => {
          socket.subscribe(
            '1',
            `mutation { result: deleteEndpoint(name: "' OR 1=1 --") { __typename ... on VigilError { code } } }`,
          );
          return operationAnswer(socket, '1');
        }),
      expect: { typename: 'NotFoundError', code: 'NOT_FOUND' },
    },
    {
      name: 'SSE: NUL in a subscription variable',
      send: async () => {
        const response = await fetch(server.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({
            query: 'subscription($e: String!) { predictions(endpoint: $e) { label } }',
            variables: { e: '\u0000' },
          }),
        });
        const body = await response.text();
        return { status: response.status, code: /"code":"([A-Z_]+)"/.exec(body)?.[1], body };
      },
      expect: { code: 'BAD_USER_INPUT' },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Alert channels: where the server is asked to send requests (SSRF), and what it signs them with

function alertChannels(): HostileCase[] {
  const SECRET = '0123456789abcdef';
  const create = (input: Record<string, unknown>) =>
    operation(
      'mutation($input: CreateAlertChannelInput!) { result: createAlertChannel(input: $input) { __typename ... on VigilError { code } } }',
      { input: { name: 'hostile', kind: 'WEBHOOK', url: 'http://127.0.0.1:9/', secret: SECRET, ...input } },
    );
  const update = (input: Record<string, unknown>) =>
    operation(
      'mutation($input: UpdateAlertChannelInput!) { result: updateAlertChannel(name: "pager", input: $input) { __typename ... on VigilError { code } } }',
      { input },
    );
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  const NOT_FOUND: Expected = { status: 200, typename: 'NotFoundError', code: 'NOT_FOUND' };
  return [
    { name: 'channel url: 1 MB', send: create({ url: `http://127.0.0.1:9/${'a'.repeat(MB)}` }), expect: VALIDATION },
    {
      name: 'channel url: cloud metadata',
      send: create({ url: 'http://169.254.169.254/latest/meta-data/' }),
      expect: VALIDATION,
    },
    { name: 'channel url: a private network', send: create({ url: 'http://10.0.0.1/' }), expect: VALIDATION },
    {
      name: 'channel url: localhost by name',
      send: create({ url: 'http://localhost:4000/graphql' }),
      expect: VALIDATION,
    },
    { name: 'channel url: 0.0.0.0', send: create({ url: 'http://0.0.0.0:4000/' }), expect: VALIDATION },
    { name: 'channel url: IPv4-mapped IPv6', send: create({ url: 'http://[::ffff:10.0.0.1]/' }), expect: VALIDATION },
    { name: 'channel url: file://', send: create({ url: 'file:///etc/passwd' }), expect: VALIDATION },
    {
      name: 'channel url: gopher:// to Redis',
      send: create({ url: 'gopher://127.0.0.1:6379/_FLUSHALL' }),
      expect: VALIDATION,
    },
    { name: 'channel url: javascript:', send: create({ url: 'javascript:alert(1)' }), expect: VALIDATION },
    { name: 'channel url: credentials', send: create({ url: 'http://admin:pw@127.0.0.1:9/' }), expect: VALIDATION },
    {
      name: 'channel url: CRLF header injection',
      send: create({ url: 'http://127.0.0.1:9/x\r\nX-Injected: 1' }),
      expect: VALIDATION,
    },
    {
      name: 'channel url: NUL',
      send: create({ url: 'http://127.0.0.1:9/\u0000' }),
      expect: { status: 400, code: 'BAD_USER_INPUT' },
    },
    { name: 'channel name: 1 MB', send: create({ name: 'c'.repeat(MB) }), expect: VALIDATION },
    { name: 'channel name: an RTL override', send: create({ name: 'pag\u202Eer' }), expect: VALIDATION },
    { name: 'channel name: SQL', send: create({ name: `x'; DROP TABLE "AlertChannel"; --` }), expect: VALIDATION },
    { name: 'channel secret: too short', send: create({ secret: 'short' }), expect: VALIDATION },
    { name: 'channel secret: 1 MB', send: create({ secret: 's'.repeat(MB) }), expect: VALIDATION },
    { name: 'channel secret: control characters', send: create({ secret: `${SECRET}\u001b[2J` }), expect: VALIDATION },
    {
      name: 'channel endpoints: 100,000 of them',
      send: create({ endpoints: Array.from({ length: 100_000 }, (_, i) => `e${i}`) }),
      expect: VALIDATION,
    },
    { name: 'channel endpoints: a 1 MB name', send: create({ endpoints: ['e'.repeat(MB)] }), expect: NOT_FOUND },
    { name: 'channel update: to a private address', send: update({ url: 'http://192.168.0.1/' }), expect: VALIDATION },
    { name: 'channel update: a 1 MB secret', send: update({ secret: 'x'.repeat(MB) }), expect: VALIDATION },
    {
      name: 'channel test: SQL for a name',
      send: operation(
        `mutation { result: testAlertChannel(name: "' OR 1=1 --") { __typename ... on VigilError { code } } }`,
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'deliveries: a 1 MB channel name',
      send: operation(
        'query($c: String!) { result: alertDeliveries(channel: $c) { __typename ... on VigilError { code } } }',
        {
          c: 'p'.repeat(MB),
        },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'deliveries: first beyond the page limit',
      send: operation(
        '{ result: alertDeliveries(channel: "pager", first: 501) { __typename ... on VigilError { code } } }',
      ),
      expect: VALIDATION,
    },
  ];
}

// Ground truth: POST /ground-truth (JSON Lines) and putGroundTruth

/** a POST of JSON Lines to /ground-truth; `code` is the refusal's, or the first line error's */
function groundTruthLines(
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = { 'content-type': 'application/x-ndjson' },
): () => Promise<Observed> {
  return async () => {
    const response = await fetch(`${server.url}/ground-truth`, {
      method: 'POST',
      headers,
      body,
    });
    const text = await response.text();
    let code: string | undefined;
    try {
      const parsed = JSON.parse(text) as { code?: string; failures?: { code?: string }[]; stored?: number };
      code = parsed.code ?? parsed.failures?.[0]?.code;
      if (parsed.stored) code = `STORED ${parsed.stored}`;
    } catch {
      // not JSON: `code` stays unset and the case fails on it
    }
    return { status: response.status, code, body: text };
  };
}

const truthLine = (eventId: string, data = '14') =>
  JSON.stringify({ groundTruthData: { data, encoding: 'CSV' }, eventMetadata: { eventId }, eventVersion: '0' });

function groundTruth(): HostileCase[] {
  const LINE_ERROR: Expected = { status: 200, code: 'VALIDATION' };
  const PUT = `mutation($input: [GroundTruthInput!]!) { result: putGroundTruth(input: $input) { __typename ... on VigilError { code } ... on GroundTruthBatch { items { __typename ... on VigilError { code } } } } }`;
  /** the first item's outcome of a putGroundTruth call */
  const firstItem = (input: unknown[]) => async () => {
    const observed = await post(JSON.stringify({ query: PUT, variables: { input } }));
    const items = (
      JSON.parse(observed.body) as { data?: { result?: { items?: { __typename: string; code?: string }[] } } }
    ).data?.result?.items;
    return { ...observed, typename: items?.[0]?.__typename, code: items?.[0]?.code };
  };
  return [
    {
      name: 'ground truth: a declared body over MAX_BODY_BYTES',
      send: raw([
        `POST /ground-truth HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-ndjson\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n`,
        `${truthLine('x')}\n`,
      ]),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    {
      name: 'ground truth: a streamed (chunked) body over MAX_BODY_BYTES',
      send: raw([
        'POST /ground-truth HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n',
        ...Array.from({ length: 5 }, () => `100000\r\n${`${truthLine('x')}\n`.repeat(MB / 128).padEnd(MB, ' ')}\r\n`),
      ]),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    {
      name: 'ground truth: 100,001 lines',
      send: groundTruthLines('{}\n'.repeat(100_001)),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    { name: 'ground truth: one line of 3 MB', send: groundTruthLines('x'.repeat(3 * MB)), expect: LINE_ERROR },
    {
      name: 'ground truth: text/plain (a form could send it cross-origin)',
      send: groundTruthLines(truthLine('x'), { 'content-type': 'text/plain' }),
      expect: { status: 400, code: 'VALIDATION' },
    },
    { name: 'ground truth: NUL in an event id', send: groundTruthLines(truthLine('a\u0000b')), expect: LINE_ERROR },
    {
      name: 'ground truth: a 4,000-deep array',
      send: groundTruthLines(`${'['.repeat(2000)}${']'.repeat(2000)}`),
      expect: LINE_ERROR,
    },
    {
      name: 'ground truth: invalid UTF-8',
      send: groundTruthLines(Uint8Array.from([0xc3, 0x28, 0x0a, 0xed, 0xa0, 0x80])),
      expect: LINE_ERROR,
    },
    {
      name: 'ground truth: SQL for an event id',
      send: groundTruthLines(truthLine("' OR 1=1 --")),
      expect: { status: 200, code: 'NOT_FOUND' },
    },
    {
      name: 'ground truth: a label with 10,000 digits',
      send: firstItem([{ capture: { eventId: 'x' }, label: '9'.repeat(10_000) }]),
      expect: { status: 200, typename: 'ValidationError', code: 'VALIDATION' },
    },
    {
      name: 'ground truth: a 100,000-character capture id',
      send: firstItem([{ capture: { captureId: 'c'.repeat(100_000) }, label: '1' }]),
      expect: { status: 200, typename: 'ValidationError', code: 'VALIDATION' },
    },
    {
      name: 'ground truth: both keys of the oneOf',
      send: operation(PUT, { input: [{ capture: { captureId: 'a', eventId: 'b' }, label: '1' }] }),
      expect: { code: 'BAD_USER_INPUT' },
    },
    {
      name: 'ground truth: 1,001 labels',
      send: operation(PUT, { input: Array(1001).fill({ capture: { eventId: 'x' }, label: '1' }) }),
      expect: { status: 200, typename: 'ValidationError', code: 'VALIDATION' },
    },
  ];
}

// createAdversarial: every argument out of its range, and the route of its images

const ATTACK = `mutation($input: CreateAdversarialInput!) {
  result: createAdversarial(input: $input) { __typename ... on VigilError { code message } }
}`;
const attack = (input: Record<string, unknown>) =>
  operation(ATTACK, { input: { image: b64(fixture('noise.png')), target: 14, endpoint: 'signs', ...input } });

function attacks(): HostileCase[] {
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  return [
    { name: 'attack: target 43 of 43 classes', send: attack({ target: 43 }), expect: VALIDATION },
    { name: 'attack: target -1', send: attack({ target: -1 }), expect: VALIDATION },
    { name: 'attack: 101 iterations', send: attack({ maxIterations: 101 }), expect: VALIDATION },
    { name: 'attack: 0 iterations', send: attack({ maxIterations: 0 }), expect: VALIDATION },
    { name: 'attack: epsilon 1e308', send: attack({ method: 'PGD', epsilon: 1e308 }), expect: VALIDATION },
    { name: 'attack: epsilon 0', send: attack({ method: 'FGSM', epsilon: 0 }), expect: VALIDATION },
    { name: 'attack: a negative step size', send: attack({ method: 'BIM', stepSize: -1 }), expect: VALIDATION },
    { name: 'attack: both endpoint and model', send: attack({ model: 'gtsrb-resnet18' }), expect: VALIDATION },
    { name: 'attack: neither endpoint nor model', send: attack({ endpoint: null }), expect: VALIDATION },
    {
      name: 'attack: a model path',
      send: attack({ endpoint: null, model: '../../etc/passwd' }),
      expect: { status: 200, typename: 'NotFoundError', code: 'NOT_FOUND' },
    },
    {
      name: 'attack: an unknown method',
      send: attack({ method: 'CARLINI' }),
      expect: { code: 'BAD_USER_INPUT' },
    },
    {
      name: 'attack: a decompression bomb',
      send: attack({ image: b64(hugePng(6000, 6000)) }),
      expect: INVALID_IMAGE,
    },
    {
      name: 'attack: an image that is not base64',
      send: attack({ image: { base64: '%%%' } }),
      expect: INVALID_IMAGE,
    },
    {
      name: 'explain: class 43 of 43',
      send: operation(
        'query($i: ImageInput!) { result: explain(image: $i, model: "gtsrb-resnet18", classId: 43) { __typename ... on VigilError { code } } }',
        { i: b64(fixture('noise.png')) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'explain: both endpoint and model',
      send: operation(
        'query($i: ImageInput!) { result: explain(image: $i, endpoint: "signs", model: "gtsrb-resnet18") { __typename ... on VigilError { code } } }',
        { i: b64(fixture('noise.png')) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'explain: a decompression bomb',
      send: operation(
        'query($i: ImageInput!) { result: explain(image: $i, model: "gtsrb-resnet18") { __typename ... on VigilError { code } } }',
        { i: b64(hugePng(6000, 6000)) },
      ),
      expect: INVALID_IMAGE,
    },
    {
      name: 'saliency: classId 2^31 - 1',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, classId: 2147483647) { __typename ... on VigilError { code } } }',
          { id: hookedCaptureId },
        )(),
      expect: VALIDATION,
    },
    {
      name: 'saliency: INTEGRATED_GRADIENTS with steps 2^31 - 1',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, method: INTEGRATED_GRADIENTS, steps: 2147483647) { __typename ... on VigilError { code } } }',
          { id: hookedCaptureId },
        )(),
      expect: VALIDATION,
    },
    {
      name: 'saliency: INTEGRATED_GRADIENTS with steps 0',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, method: INTEGRATED_GRADIENTS, steps: 0) { __typename ... on VigilError { code } } }',
          { id: hookedCaptureId },
        )(),
      expect: VALIDATION,
    },
    {
      name: 'saliency: sanityThreshold 1e308',
      send: () =>
        operation(
          'query($id: ID!) { result: saliency(captureId: $id, sanityThreshold: 1e308) { __typename ... on VigilError { code } } }',
          { id: hookedCaptureId },
        )(),
      expect: VALIDATION,
    },
    {
      name: 'explain: INTEGRATED_GRADIENTS with steps 1,000,000',
      send: operation(
        'query($i: ImageInput!) { result: explain(image: $i, model: "gtsrb-resnet18", method: INTEGRATED_GRADIENTS, steps: 1000000) { __typename ... on VigilError { code } } }',
        { i: b64(fixture('noise.png')) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'URL: saliency steps 1e9',
      send: () => GET(`/saliency/${hookedCaptureId}/overlay.png?method=INTEGRATED_GRADIENTS&steps=1e9`)(),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: saliency steps that are no number',
      send: () =>
        GET(`/saliency/${hookedCaptureId}/overlay.png?method=INTEGRATED_GRADIENTS&steps=${'9'.repeat(400)}x`)(),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: an unknown saliency baseline',
      send: () =>
        GET(`/saliency/${hookedCaptureId}/overlay.png?method=INTEGRATED_GRADIENTS&baseline=${'B'.repeat(5000)}`)(),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a saliency classId that is no number',
      send: () => GET(`/saliency/${hookedCaptureId}/overlay.png?classId=1e999`)(),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a saliency classId past the classes',
      send: () => GET(`/saliency/${hookedCaptureId}/overlay.png?classId=4300`)(),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'invocations: a declared body over MAX_BODY_BYTES',
      send: request(
        `POST /endpoints/signs/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${5 * MB}\r\nConnection: close`,
      ),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    {
      name: 'invocations: a streamed (chunked) body over MAX_BODY_BYTES',
      send: raw([
        'POST /endpoints/signs/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\ntransfer-encoding: chunked\r\n\r\n',
        ...Array.from({ length: 5 }, () => `100000\r\n${'a'.repeat(MB)}\r\n`),
      ]),
      expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    },
    {
      name: 'invocations: a Content-Type that is no image',
      send: request(
        'POST /endpoints/signs/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: 2\r\nConnection: close',
        'hi',
      ),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'invocations: a decompression bomb',
      send: async () => {
        const response = await fetch(`${server.url}/endpoints/signs/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: new Uint8Array(hugePng(6000, 6000)),
        });
        const body = await response.text();
        return { status: response.status, code: /"code":"([A-Z_]+)"/.exec(body)?.[1], body };
      },
      expect: { status: 400, code: 'INVALID_IMAGE' },
    },
    {
      name: 'invocations: %00 in the endpoint name',
      send: request(
        'POST /endpoints/si%00gns/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 0\r\nConnection: close',
      ),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: an export output that is not one',
      send: GET(`/captures/export?endpoint=signs&output=${'x'.repeat(5000)}`),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: an adversarial id of 10,000 characters',
      send: GET(`/adversarial/${'a'.repeat(10_000)}.png`),
      expect: { status: 404, code: 'NOT_FOUND' },
    },
    {
      name: 'URL: an adversarial path with a directory',
      send: GET('/adversarial/../captures/export.png'),
      expect: { status: 404 },
    },
    {
      name: 'URL: a malformed percent-escape in an adversarial id',
      send: GET('/adversarial/%E0%A4%A.png'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    // figures
    {
      name: 'figures: a grid of 37 captures',
      send: operation(
        `query { result: predictionGrid(captureIds: [${Array.from({ length: 37 }, (_, i) => `"${i}"`).join(',')}]) { __typename ... on VigilError { code } } }`,
      ),
      expect: VALIDATION,
    },
    {
      name: 'figures: a grid capture id of 10,000 characters',
      send: operation(
        'query($id: ID!) { result: predictionGrid(captureIds: [$id]) { __typename ... on VigilError { code } } }',
        { id: 'a'.repeat(10_000) },
      ),
      expect: { status: 200, typename: 'NotFoundError', code: 'NOT_FOUND' },
    },
    {
      name: 'figures: a comparison heading of 10,000 characters',
      send: operation(
        'query($h: String!) { result: saliencyComparison(left: { captureId: "a", heading: $h }, right: { captureId: "b" }) { __typename ... on VigilError { code } } }',
        { h: 'x'.repeat(10_000) },
      ),
      expect: VALIDATION,
    },
    {
      name: 'figures: a decompression bomb in a comparison',
      send: operation(
        'query($i: ImageInput!) { result: saliencyComparison(left: { image: $i }, right: { image: $i }, model: "gtsrb-resnet18") { __typename ... on VigilError { code } } }',
        { i: b64(hugePng(6000, 6000)) },
      ),
      expect: INVALID_IMAGE,
    },
    {
      name: 'URL: a figure grid listing 2,000 ids',
      send: GET(`/figures/grid.png?captures=${'a,'.repeat(2_000)}`),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a figure grid of 1e300 columns',
      send: GET('/figures/grid.png?captures=a&columns=1e300'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a saliency figure of a capture id of 10,000 characters',
      send: GET(`/figures/saliency/${'a'.repeat(10_000)}.png`),
      expect: { status: 404, code: 'NOT_FOUND' },
    },
    {
      name: 'URL: a comparison figure with opacity NaN',
      send: GET('/figures/comparison.png?left=a&right=b&opacity=NaN'),
      expect: { status: 400, code: 'VALIDATION' },
    },
    {
      name: 'URL: a figure that is not one',
      send: GET('/figures/chart.svg'),
      expect: { status: 404 },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------

function monitoring(): HostileCase[] {
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  const NOT_FOUND: Expected = { status: 200, typename: 'NotFoundError', code: 'NOT_FOUND' };
  const hour = 3_600_000;
  const job = (input: Record<string, unknown>) =>
    operation(
      'mutation($input: MonitoringJobInput!) { result: runMonitoringJob(input: $input) { __typename ... on VigilError { code } } }',
      {
        input: {
          endpoint: 'signs',
          from: new Date(Date.now() - hour).toISOString(),
          to: new Date(Date.now() - 1000).toISOString(),
          ...input,
        },
      },
    );
  const REPLACE =
    'mutation($id: ID!, $c: JSON!) { result: replaceBaselineConstraints(id: $id, constraints: $c) { __typename ... on VigilError { code } } }';
  /** the baseline "ref" of the setup: looked up by name through its endpoint */
  const constraints = (value: unknown) => async () => {
    const { baselines } = await server.client.data(
      '{ baselines(endpoint: "signs") { ... on BaselineList { baselines { id } } } }',
    );
    return operation(REPLACE, { id: baselines.baselines[0].id, c: value })();
  };
  const distribution = {
    perform_comparison: 'Enabled',
    comparison_threshold: 0.1,
    categorical_comparison_threshold: 0.1,
    categorical_drift_method: 'LInfinity',
  };
  const named = (field: string, name: string) =>
    operation(`mutation($n: String!) { result: ${field}(name: $n) { __typename ... on VigilError { code } } }`, {
      n: name,
    });
  return [
    {
      name: 'ad-hoc window: in the future',
      send: job({ to: new Date(Date.now() + hour).toISOString() }),
      expect: VALIDATION,
    },
    {
      name: 'ad-hoc window: backwards',
      send: job({ from: new Date(Date.now() - 1000).toISOString(), to: new Date(Date.now() - hour).toISOString() }),
      expect: VALIDATION,
    },
    {
      name: 'ad-hoc window: empty',
      send: job({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
      expect: VALIDATION,
    },
    { name: 'ad-hoc window: 10,000 years', send: job({ from: '0001-01-01T00:00:00Z' }), expect: VALIDATION },
    { name: 'ad-hoc window: an endpoint that is SQL', send: job({ endpoint: `signs' OR '1'='1` }), expect: NOT_FOUND },
    { name: 'ad-hoc window: a baseline glob', send: job({ baseline: '*' }), expect: NOT_FOUND },
    { name: 'ad-hoc window: a 1 MB baseline name', send: job({ baseline: 'b'.repeat(MB) }), expect: NOT_FOUND },
    { name: 'ad-hoc window: minSampleSize 0', send: job({ checks: { minSampleSize: 0 } }), expect: VALIDATION },
    {
      name: 'ad-hoc window: a share above 1',
      send: job({ checks: { classShare: { threshold: 1.5 } } }),
      expect: VALIDATION,
    },
    {
      name: 'ad-hoc window: drift without a baseline',
      send: job({ checks: { drift: { enabled: true } } }),
      expect: VALIDATION,
    },
    { name: 'constraints: a string', send: constraints('{"version":0}'), expect: VALIDATION },
    { name: 'constraints: an array', send: constraints([distribution]), expect: VALIDATION },
    {
      name: 'constraints: a prototype key',
      send: constraints(
        JSON.parse(
          `{"__proto__":{"polluted":1},"monitoring_config":{"distribution_constraints":${JSON.stringify(distribution)}}}`,
        ),
      ),
      expect: VALIDATION,
    },
    {
      name: 'constraints: 1 MB of one threshold',
      send: constraints({
        monitoring_config: { distribution_constraints: { ...distribution, comparison_threshold: 'x'.repeat(MB) } },
      }),
      expect: VALIDATION,
    },
    {
      name: 'constraints: 100,000 keys',
      send: constraints(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))),
      expect: VALIDATION,
    },
    {
      name: 'constraints: nested 100,000 deep',
      send: () =>
        post(
          `{"query":${JSON.stringify(REPLACE)},"variables":{"id":"x","c":{"monitoring_config":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`,
        ),
      expect: VALIDATION,
    },
    {
      name: 'constraints: a threshold of 0',
      send: constraints({
        monitoring_config: { distribution_constraints: { ...distribution, comparison_threshold: 0 } },
      }),
      expect: VALIDATION,
    },
    {
      name: 'constraints: an unknown baseline',
      send: operation(REPLACE, {
        id: `' OR 1=1 --`,
        c: { monitoring_config: { distribution_constraints: distribution } },
      }),
      expect: NOT_FOUND,
    },
    { name: 'pauseMonitoringSchedule: a glob', send: named('pauseMonitoringSchedule', '*'), expect: NOT_FOUND },
    {
      name: 'resumeMonitoringSchedule: SQL',
      send: named('resumeMonitoringSchedule', `' OR 1=1 --`),
      expect: NOT_FOUND,
    },
    {
      name: 'deleteBaseline with detachSchedules: SQL',
      send: operation(
        'mutation($n: ID!) { result: deleteBaseline(id: $n, detachSchedules: true) { __typename ... on VigilError { code } } }',
        { n: '1 OR 1=1' },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'captures of an execution: SQL',
      send: operation(
        'query($x: ID!) { result: captures(endpoint: "signs", filter: { execution: $x }) { __typename ... on VigilError { code } } }',
        { x: `' OR '1'='1` },
      ),
      expect: NOT_FOUND,
    },
    {
      name: 'executions: both a schedule and an endpoint',
      send: operation(
        '{ result: monitoringExecutions(schedule: "nightly", endpoint: "signs") { __typename ... on VigilError { code } } }',
      ),
      expect: VALIDATION,
    },
    {
      name: 'executions: neither a schedule nor an endpoint',
      send: operation('{ result: monitoringExecutions { __typename ... on VigilError { code } } }'),
      expect: VALIDATION,
    },
    {
      name: 'executions: an endpoint of 1 MB',
      send: operation(
        'query($e: String!) { result: monitoringExecutions(endpoint: $e) { __typename ... on VigilError { code } } }',
        { e: 'e'.repeat(MB) },
      ),
      expect: NOT_FOUND,
    },
  ];
}

function externalChecks(): HostileCase[] {
  const VALIDATION: Expected = { status: 200, typename: 'ValidationError', code: 'VALIDATION' };
  const NUL_REFUSED: Expected = { status: 400, code: 'BAD_USER_INPUT' };
  const schedule = (external: unknown) =>
    operation(
      'mutation($input: CreateMonitoringScheduleInput!) { result: createMonitoringSchedule(input: $input) { __typename ... on VigilError { code } } }',
      { input: { endpoint: 'signs', name: 'hostile', cron: '0 0 29 2 *', checks: { external } } },
    );
  const script = (name: string) => schedule([{ script: name }]);
  const variables = (environment: unknown) => schedule([{ script: 'ok.py', environment }]);
  return [
    { name: 'script: up and out', send: script('../../../../../../etc/passwd'), expect: VALIDATION },
    { name: 'script: an absolute path outside', send: script('/etc/passwd'), expect: VALIDATION },
    { name: 'script: /proc/self/exe', send: script('/proc/self/exe'), expect: VALIDATION },
    { name: 'script: a link inside CHECKS_DIR leading out', send: script('passwd.py'), expect: VALIDATION },
    { name: 'script: CHECKS_DIR itself', send: script('.'), expect: VALIDATION },
    { name: 'script: an option for the interpreter', send: script('-c'), expect: VALIDATION },
    { name: 'script: a shell command', send: script('ok.py; rm -rf /'), expect: VALIDATION },
    { name: 'script: 1 MB', send: script('a/'.repeat(MB / 2)), expect: VALIDATION },
    { name: 'script: NUL', send: script('ok.py\u0000.sh'), expect: NUL_REFUSED },
    {
      name: 'external: 10,000 checks',
      send: schedule(Array.from({ length: 10_000 }, () => ({ script: 'ok.py' }))),
      expect: VALIDATION,
    },
    {
      name: 'environment: LD_PRELOAD',
      send: variables([{ name: 'LD_PRELOAD', value: '/tmp/evil.so' }]),
      expect: VALIDATION,
    },
    {
      name: 'environment: NODE_OPTIONS in lower case',
      send: variables([{ name: 'node_options', value: '--import=data:text/javascript,1' }]),
      expect: VALIDATION,
    },
    {
      name: 'environment: overriding dataset_source',
      send: variables([{ name: 'dataset_source', value: '/etc' }]),
      expect: VALIDATION,
    },
    { name: 'environment: a name with =', send: variables([{ name: 'A=B', value: '1' }]), expect: VALIDATION },
    { name: 'environment: an empty name', send: variables([{ name: '', value: '1' }]), expect: VALIDATION },
    {
      name: 'environment: a 1 MB value',
      send: variables([{ name: 'BIG', value: 'v'.repeat(MB) }]),
      expect: VALIDATION,
    },
    {
      name: 'environment: 10,000 variables',
      send: variables(Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: '1' }))),
      expect: VALIDATION,
    },
    { name: 'environment: NUL in a value', send: variables([{ name: 'A', value: 'a\u0000' }]), expect: NUL_REFUSED },
    {
      name: 'ad-hoc job: a script out of CHECKS_DIR',
      send: operation(
        'mutation($input: MonitoringJobInput!) { result: runMonitoringJob(input: $input) { __typename ... on VigilError { code } } }',
        {
          input: {
            endpoint: 'signs',
            from: new Date(Date.now() - 3_600_000).toISOString(),
            to: new Date(Date.now() - 1000).toISOString(),
            checks: { external: [{ script: '../../../../bin/sh' }] },
          },
        },
      ),
      expect: VALIDATION,
    },
  ];
}

const CATEGORIES: Record<string, () => HostileCase[]> = {
  'malformed request lines, headers and URLs': malformedHttp,
  'request bodies and media types': requestBodies,
  'deep, wide, aliased and oversized documents': documents,
  'over every limit': limits,
  'truncated, corrupted, mislabelled and bomb images': images,
  'pathological strings in string arguments': strings,
  'catastrophic regular expressions': regexes,
  'monitoring windows, constraints and schedule states': monitoring,
  'WebSocket frames, subscriptions and connections': webSockets,
  'alert channels: URLs, names, secrets': alertChannels,
  'ground truth: JSON Lines and batches': groundTruth,
  'adversarial attacks': attacks,
  'external checks: scripts and environments': externalChecks,
};

/** what no answer may hold: a stack frame, a source path, an internal error */
const LEAK = /\n\s+at |node_modules|\.ts:\d+|INTERNAL_SERVER_ERROR|PrismaClient/;

/** a capture saved with a debugger step (set up before the cases run) */
let hookedCaptureId = '';

describe('hostile inputs through the real server', () => {
  beforeAll(async () => {
    const setup = async (query: string, variables?: Record<string, unknown>) => {
      const data = await server.client.data(query, variables);
      const result = Object.values(data)[0] as { __typename?: string } | undefined;
      if (result?.__typename?.endsWith('Error')) throw new Error(`setup failed: ${JSON.stringify(data)}`);
    };
    await setup(
      'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }',
    );
    await setup(
      'mutation { createEndpoint(input: { name: "hooked", dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, collections: ["fullgrad"] } }) { __typename } }',
    );
    const PREDICT_ON = 'mutation($e: String!, $i: ImageInput!) { predict(endpoint: $e, image: $i) { __typename } }';
    for (const name of ['stop_like_octagon.png', 'blue_arrow_circle.jpg', 'speed_ring.ppm'])
      await setup(PREDICT_ON, { e: 'signs', i: b64(fixture(name)) });
    const hooked = await server.client.data(
      'mutation($i: ImageInput!) { predict(endpoint: "hooked", image: $i) { ... on Prediction { captureId } } }',
      { i: b64(fixture('warning_triangle.png')) },
    );
    hookedCaptureId = hooked.predict.captureId;
    await setup('mutation { createBaseline(input: { endpoint: "signs", name: "ref" }) { __typename } }');
    await setup(
      'mutation { createMonitoringSchedule(input: { endpoint: "signs", name: "nightly", cron: "0 0 29 2 *", baseline: "ref", checks: { minSampleSize: 1 } }) { __typename } }',
    );
    await setup('mutation { runMonitoringSchedule(name: "nightly") { __typename } }');
    // a channel of an endpoint no schedule watches (no alert adds deliveries while the corpus runs), and
    // one test delivery, refused by the closed port, which is not retried
    await setup(
      'mutation { createAlertChannel(input: { name: "pager", kind: WEBHOOK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef", endpoints: ["hooked"] }) { __typename } }',
    );
    await setup('mutation { testAlertChannel(name: "pager") { __typename } }');
    const { captures } = await server.client.data(
      '{ captures(endpoint: "signs", first: 1) { ... on CaptureConnection { edges { node { id } } } } }',
    );
    await setup(
      'mutation($id: ID!) { putGroundTruth(input: [{ capture: { captureId: $id }, label: "14" }]) { __typename } }',
      {
        id: captures.edges[0].node.id,
      },
    );
    await setup(
      'mutation($i: ImageInput!) { createAdversarial(input: { image: $i, target: 14, model: "gtsrb-resnet18", method: FGSM }) { __typename } }',
      { i: b64(fixture('noise.png')) },
    );
    const counts = await rowCounts(server.app.database.prisma);
    // every table holds something a hostile request could wrongly delete (a run may find no violation)
    // no API key: one would end the anonymous access the corpus runs with (the role matrix is auth.test.ts)
    for (const [model, count] of Object.entries(counts))
      if (model !== 'Violation' && model !== 'ApiKey') expect(count, model).toBeGreaterThan(0);
  });

  // made once, when the file is collected (the bombs and megabyte strings among them included)
  const corpus = Object.entries(CATEGORIES).map(([category, make]) => [category, make()] as const);

  for (const [category, cases] of corpus) {
    describe(category, () => {
      for (const hostile of cases) {
        it(hostile.name, async () => {
          const prisma = server.app.database.prisma;
          const [counts, settings] = await Promise.all([rowCounts(prisma), snapshotSettings(prisma)]);

          const observed = await hostile.send();
          const shown = observed.body.length > 600 ? `${observed.body.slice(0, 600)}…` : observed.body;
          const { body: _body, ...answer } = observed;
          // (a) the typed answer
          expect(answer, shown).toMatchObject(hostile.expect);
          expect(observed.body).not.toMatch(LEAK);
          // (b) the process still answers
          expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
          expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
          // (c) the database holds what it held
          expect(await rowCounts(prisma)).toEqual(counts);
          expect(await snapshotSettings(prisma)).toEqual(settings);
        });
      }
    });
  }

  it('holds at least 60 cases', () => {
    const total = corpus.reduce((n, [, cases]) => n + cases.length, 0);
    expect(total).toBeGreaterThanOrEqual(60);
  });
});
