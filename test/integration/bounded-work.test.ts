/**
 * No request can crash or freeze the server, nor make it do or hold unbounded work: a batch whose
 * selection leaves its items out, images judged from their headers (the pixel limit, the bytes one
 * request may decode, an image sent many times decoded once), large photos reduced off the main thread,
 * user regular expressions that backtrack, and capture listings that read no image unless asked.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, hugePng } from '../helpers/images.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

const BATCH = `mutation($images: [ImageInput!]!) {
  predictBatch(endpoint: "signs", images: $images) {
    __typename
    ... on PredictBatch { predictions { __typename ... on Prediction { predictedClass captureId } ... on InvalidImageError { message } } }
    ... on VigilError { code message }
    ... on ValidationError { field }
  }
}`;
const PREDICT = `mutation($image: ImageInput!, $endpoint: String = "signs") {
  predict(endpoint: $endpoint, image: $image) { __typename ... on Prediction { predictedClass debugStep } ... on VigilError { code message } }
}`;
/** a regex that backtracks exponentially on any tensor name of 20 or more characters */
const CATASTROPHIC = '(.*.*)*;';
/** the same on names of 10 characters (`input_grad`) */
const CATASTROPHIC_SHORT = '(.*.*.*.*)*;';

const captureCount = (server: TestServer) => server.app.database.prisma.capture.count();
const b64 = (bytes: Buffer) => ({ base64: bytes.toString('base64') });

/** a photo-like JPEG: gradients and noise */
async function photo(width: number, height: number, seed = 1): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < rgb.length; i += 3) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const p = i / 3;
    rgb[i] = ((p % width) * 255) / width + (s & 31);
    rgb[i + 1] = (Math.floor(p / width) * 255) / height + ((s >> 8) & 31);
    rgb[i + 2] = (s >> 16) & 255;
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

describe('bounded work per request', () => {
  const statements: string[] = [];
  let recording = false;
  const server = useTestServer({
    env: { INFERENCE_DEVICE: 'cpu', MAX_REQUEST_DECODED_BYTES: String(32 * 1024 * 1024) },
    config: { onQuery: (sql) => void (recording && statements.push(sql)) },
  });
  beforeAll(async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }',
    );
  });

  it('answers a predictBatch that selects only __typename, with an undecodable item, and stays up', async () => {
    const result = await server.client.request(
      'mutation($images: [ImageInput!]!) { predictBatch(endpoint: "signs", images: $images) { __typename } }',
      {
        images: [b64(fixture('stop_like_octagon.png')), { base64: Buffer.from('not an image').toString('base64') }],
      },
    );
    expect(result).toEqual({ data: { predictBatch: { __typename: 'PredictBatch' } } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
  });

  it('refuses an image over the default 25 MP from its header, before decoding it', async () => {
    const started = performance.now();
    const result = (await server.client.data(PREDICT, { image: b64(hugePng(5001, 5000)) })).predict;
    expect(result).toMatchObject({ __typename: 'InvalidImageError', code: 'INVALID_IMAGE' });
    expect(result.message).toMatch(/5001×5000 pixels .* over the limit of 25,000,000 \(MAX_IMAGE_PIXELS\)/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('decodes an image referenced by every item of a batch once: 256 items fit a budget of one', async () => {
    // 2000×1500 RGB is 9 MB decoded (a few KB on the wire): 256 copies would be 2.3 GB, over the 32 MB budget 70 times
    const image = hugePng(2000, 1500);
    const before = await captureCount(server);
    const items = Array.from({ length: 256 }, () => '$image').join(', ');
    const result = await server.client.data(
      `mutation($image: ImageInput!) { predictBatch(endpoint: "signs", images: [${items}]) { __typename ... on PredictBatch { predictions { __typename ... on Prediction { predictedClass } } } ... on VigilError { message } } }`,
      { image: b64(image) },
    );
    expect(result.predictBatch.__typename).toBe('PredictBatch');
    const classes = new Set(result.predictBatch.predictions.map((p: { predictedClass: number }) => p.predictedClass));
    expect(result.predictBatch.predictions).toHaveLength(256);
    expect(classes.size).toBe(1);
    expect(await captureCount(server)).toBe(before + 256);
  });

  it('refuses a batch whose distinct images decode to more than MAX_REQUEST_DECODED_BYTES, writing nothing', async () => {
    // four distinct 2000×1500 bombs: 4 × 9 MB of pixels, a few KB on the wire
    const before = await captureCount(server);
    const started = performance.now();
    const result = (await server.client.data(BATCH, { images: [0, 1, 2, 3].map((i) => b64(hugePng(2000 + i, 1500))) }))
      .predictBatch;
    expect(result).toMatchObject({ __typename: 'ValidationError', field: 'images' });
    expect(result.message).toMatch(/over the limit of 33,554,432 \(MAX_REQUEST_DECODED_BYTES\)/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await captureCount(server)).toBe(before);
    // three of them fit
    const fits = (await server.client.data(BATCH, { images: [0, 1, 2].map((i) => b64(hugePng(2000 + i, 1500))) }))
      .predictBatch;
    expect(fits.predictions.map((p: { __typename: string }) => p.__typename)).toEqual([
      'Prediction',
      'Prediction',
      'Prediction',
    ]);
  });

  it('classifies a 6 MP photo (reduced by libvips while it decodes) like the same photo at 1024 pixels', async () => {
    const big = await photo(3000, 2000, 7);
    const small = await sharp(big).resize(1024, 768, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer();
    const [fromBig, fromSmall] = [
      (await server.client.data(PREDICT, { image: b64(big) })).predict,
      (await server.client.data(PREDICT, { image: b64(small) })).predict,
    ];
    expect(fromBig.__typename).toBe('Prediction');
    expect(fromBig.predictedClass).toBe(fromSmall.predictedClass);
  });

  it('refuses a .npy whose header claims to be huge, at once', async () => {
    const npy = Buffer.alloc(64);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(npy);
    npy.writeUInt32LE(0x7fffffff, 8);
    const result = (await server.client.data(PREDICT, { image: { npy: npy.toString('base64') } })).predict;
    expect(result).toMatchObject({ __typename: 'InvalidImageError' });
    expect(result.message).toMatch(/header is 2147483647 bytes/);
  });

  it('refuses an includeRegex that backtracks catastrophically, on create and on update, and writes nothing', async () => {
    const create = await server.client.data(
      'mutation($regex: String!) { createEndpoint(input: { name: "hooked", debugHook: { enabled: true, includeRegex: $regex } }) { __typename ... on ValidationError { field message } } }',
      { regex: CATASTROPHIC },
    );
    expect(create.createEndpoint).toMatchObject({ __typename: 'ValidationError', field: 'debugHook.includeRegex' });
    expect(create.createEndpoint.message).toMatch(/did not finish within 200 ms/);
    expect(await server.app.database.prisma.endpoint.count({ where: { name: 'hooked' } })).toBe(0);

    const update = await server.client.data(
      'mutation($regex: String!) { updateEndpoint(name: "signs", input: { debugHook: { enabled: true, includeRegex: $regex } }) { __typename ... on ValidationError { field } } }',
      { regex: CATASTROPHIC },
    );
    expect(update.updateEndpoint).toMatchObject({ __typename: 'ValidationError', field: 'debugHook.includeRegex' });
    expect(
      (await server.app.database.prisma.endpoint.findUnique({ where: { name: 'signs' } }))!.hookIncludeRegex,
    ).toBeNull();
    // the server was never stuck
    expect(
      (await server.client.data(PREDICT, { image: b64(fixture('stop_like_octagon.png')) })).predict.__typename,
    ).toBe('Prediction');
  });

  it('resolves a saved includeRegex to names: requests only look names up', async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "hooked", debugHook: { enabled: true, includeRegex: ".*image" } }) { __typename } }',
    );
    const predicted = (
      await server.client.data(PREDICT, { endpoint: 'hooked', image: b64(fixture('stop_like_octagon.png')) })
    ).predict;
    const trial = await server.client.data(
      `{ trial(endpoint: "hooked") { ... on Trial { names: tensorNames(step: ${predicted.debugStep}) { ... on TensorNameList { names } } stuck: tensorNames(regex: "${CATASTROPHIC_SHORT}") { __typename ... on ValidationError { field message } } } } }`,
    );
    expect(trial.trial.names.names).toEqual(['input', 'input_grad', 'logits']);
    expect(trial.trial.stuck).toMatchObject({ __typename: 'ValidationError', field: 'regex' });
    expect(trial.trial.stuck.message).toMatch(/did not finish/);
  });

  it('serves an endpoint whose stored includeRegex predates the check: it selects nothing, requests do not hang', async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "legacy", debugHook: { enabled: true, collections: ["biases"] } }) { __typename } }',
    );
    await server.app.database.prisma.endpoint.update({
      where: { name: 'legacy' },
      data: { hookIncludeRegex: CATASTROPHIC },
    });
    await new Promise((r) => setTimeout(r, 2100)); // the cached snapshot expires
    const started = performance.now();
    const first = (
      await server.client.data(PREDICT, { endpoint: 'legacy', image: b64(fixture('stop_like_octagon.png')) })
    ).predict;
    expect(first.__typename).toBe('Prediction');
    const second = (
      await server.client.data(PREDICT, { endpoint: 'legacy', image: b64(fixture('stop_like_octagon.png')) })
    ).predict;
    expect(performance.now() - started).toBeLessThan(5000);
    const names = await server.client.data(
      `{ trial(endpoint: "legacy") { ... on Trial { tensorNames(step: ${second.debugStep}) { ... on TensorNameList { names } } } } }`,
    );
    expect(names.trial.tensorNames.names.every((n: string) => n.endsWith('.bias') || n === 'logits')).toBe(true);
  });

  it('lists captures without reading their images; reads them (or their size) only when selected', async () => {
    const page = (fields: string) =>
      server.client.data(
        `{ captures(endpoint: "signs", first: 20) { ... on CaptureConnection { edges { node { ${fields} } } } } }`,
      );
    const run = async (fields: string) => {
      statements.length = 0;
      recording = true;
      try {
        return await page(fields);
      } finally {
        recording = false;
      }
    };
    await run('id label confidence');
    expect(statements.filter((s) => s.includes('inputData'))).toEqual([]);
    const sized = await run('id inputBytes');
    expect(statements.filter((s) => s.includes('inputData'))).toHaveLength(1);
    expect(statements.find((s) => s.includes('inputData'))).toMatch(/LENGTH\("inputData"\)/i);
    const withData = await run('id inputBytes inputDataUrl');
    const edges = withData.captures.edges as { node: { inputBytes: number; inputDataUrl: string } }[];
    expect(edges.length).toBe(20);
    for (const { node } of edges)
      expect(Buffer.from(node.inputDataUrl.split(',')[1]!, 'base64').length).toBe(node.inputBytes);
    expect(sized.captures.edges[0].node.inputBytes).toBe(edges[0]!.node.inputBytes);
    // one query for the page's sizes, one for its images
    expect(statements.filter((s) => s.includes('inputData'))).toHaveLength(2);
  });
});
