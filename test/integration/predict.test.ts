import { print } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql, type ResultOf, type VariablesOf } from '../../src/graphql.ts';
import { expectTypename, type GraphQLResponse, WsSubscription } from '../helpers/graphql.ts';
import { asNpy, fixture, hugePng } from '../helpers/images.ts';
import { type TestServer, useTestServer } from '../helpers/server.ts';

const PREDICTION = graphql(`
  fragment PredictionFields on Prediction {
    predictedClass label confidence captureId modelVersion latencyMs batchSize provider
    top { classId label probability }
  }
`);
const ERROR = graphql(`fragment PredictErrorFields on VigilError { code message }`);
const PREDICT = graphql(
  `
  mutation Predict($endpoint: String!, $image: ImageInput!, $topK: Int) {
    predict(endpoint: $endpoint, image: $image, topK: $topK) { __typename ...PredictionFields ...PredictErrorFields }
  }
`,
  [PREDICTION, ERROR],
);
const PREDICT_BATCH = graphql(
  `
  mutation PredictSignsBatch($images: [ImageInput!]!) {
    predictBatch(endpoint: "signs", images: $images) {
      __typename
      ... on PredictBatch {
        predictions { __typename ... on Prediction { predictedClass } ...PredictErrorFields }
      }
      ...PredictErrorFields
    }
  }
`,
  [ERROR],
);
const CREATE = graphql(`
  mutation CreateSigns {
    createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const SIGNS_PREDICTIONS = graphql(`
  subscription SignsPredictions { predictions(endpoint: "signs") { endpoint predictedClass label confidence captureId } }
`);

/** a GraphQL multipart request (graphql-multipart-request-spec) carrying one file */
async function predictUpload(server: TestServer, endpoint: string, file: Buffer, type = 'image/png') {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: print(PREDICT), variables: { endpoint, image: { file: null } } }));
  form.set('map', JSON.stringify({ 0: ['variables.image.file'] }));
  form.set('0', new Blob([new Uint8Array(file)], { type }), 'image');
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    body: form,
    headers: { 'graphql-require-preflight': '1' },
  });
  return (await response.json()) as GraphQLResponse<ResultOf<typeof PREDICT>>;
}

async function captureCount(server: TestServer): Promise<number> {
  return server.app.database.prisma.capture.count();
}

describe('predict over HTTP', () => {
  // a wait long enough that concurrent requests arriving over HTTP reliably meet in one batch
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu', BATCH_MAX_WAIT_MS: '50' } });
  beforeAll(async () => {
    expect((await server.client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
  });

  it('gives the same class for an upload, base64 and a .npy array, with a capture for each', async () => {
    const png = fixture('stop_like_octagon.png');
    const viaBase64 = (
      await server.client.data(PREDICT, { endpoint: 'signs', image: { base64: png.toString('base64') }, topK: 5 })
    ).predict;
    const viaNpy = (
      await server.client.data(PREDICT, { endpoint: 'signs', image: { npy: (await asNpy(png)).toString('base64') } })
    ).predict;
    const viaUpload = (await predictUpload(server, 'signs', png)).data?.predict;
    expectTypename(viaBase64, 'Prediction');
    expectTypename(viaNpy, 'Prediction');
    expectTypename(viaUpload, 'Prediction');
    for (const p of [viaBase64, viaNpy, viaUpload]) {
      expect(p.predictedClass).toBe(viaBase64.predictedClass);
      expect(p.confidence).toBeCloseTo(viaBase64.confidence, 5);
      expect(p.captureId).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.provider).toBe('cpu');
    }
    expect(viaBase64.top).toHaveLength(5);
    expect(viaBase64.top[0]).toMatchObject({ classId: viaBase64.predictedClass, label: viaBase64.label });
    const probabilities = viaBase64.top.map((s) => s.probability);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    expect(viaBase64.confidence).toBe(probabilities[0]);
    const ids = [viaBase64, viaNpy, viaUpload].flatMap((p) => (p.captureId ? [p.captureId] : []));
    const rows = await server.app.database.prisma.capture.findMany({ where: { id: { in: ids } } });
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.id === viaNpy.captureId)!.inputContentType).toBe('application/x-npy');
    expect(rows.every((r) => r.predictedClass === viaBase64.predictedClass)).toBe(true);
  });

  it('answers every supported format (PNG, JPEG, WebP, PPM) with a class', async () => {
    for (const name of [
      'warning_triangle.png',
      'blue_arrow_circle.jpg',
      'yield_like_97x61.webp',
      'speed_ring.ppm',
      'grey_31x23.png',
    ]) {
      const { predict } = await server.client.data(PREDICT, {
        endpoint: 'signs',
        image: { base64: fixture(name).toString('base64') },
      });
      expect(predict.__typename, name).toBe('Prediction');
      expectTypename(predict, 'Prediction');
      expect(predict.predictedClass).toBeGreaterThanOrEqual(0);
      expect(predict.predictedClass).toBeLessThan(43);
    }
  });

  it('predicts a batch, one result per image in order, and a bad image fails only its own item', async () => {
    const images = ['stop_like_octagon.png', 'warning_triangle.png', 'noise.png'].map((n) => ({
      base64: fixture(n).toString('base64'),
    }));
    images.splice(1, 0, { base64: Buffer.from('not an image').toString('base64') });
    const { predictBatch } = await server.client.data(PREDICT_BATCH, { images });
    expectTypename(predictBatch, 'PredictBatch');
    const items = predictBatch.predictions;
    expect(items.map((i) => i.__typename)).toEqual(['Prediction', 'InvalidImageError', 'Prediction', 'Prediction']);
    const single = (await server.client.data(PREDICT, { endpoint: 'signs', image: images[2]! })).predict;
    expectTypename(single, 'Prediction');
    expectTypename(items[2], 'Prediction');
    expect(items[2].predictedClass).toBe(single.predictedClass);
  });

  it.each([
    ['an empty image', () => Buffer.alloc(0), 'INVALID_IMAGE', /empty/],
    ['bytes that are not an image', () => Buffer.from('hello, world'), 'INVALID_IMAGE', /Unsupported or unrecognised/],
    [
      'a truncated PNG',
      () => fixture('stop_like_octagon.png').subarray(0, 300),
      'INVALID_IMAGE',
      /Cannot decode|truncated/i,
    ],
    ['a truncated PPM', () => fixture('speed_ring.ppm').subarray(0, 500), 'INVALID_IMAGE', /truncated/],
    ['a 30,000×30,000-pixel PNG', () => hugePng(30_000, 30_000), 'INVALID_IMAGE', /30000×30000 pixels.*over the limit/],
  ])('rejects %s with a typed error, writes no capture and keeps serving', async (_name, make, code, message) => {
    const before = await captureCount(server);
    const { predict } = await server.client.data(PREDICT, {
      endpoint: 'signs',
      image: { base64: make().toString('base64') },
    });
    expectTypename(predict, 'InvalidImageError');
    expect(predict.code).toBe(code);
    expect(predict.message).toMatch(message);
    expect(await captureCount(server)).toBe(before);
    const ok = await server.client.data(PREDICT, {
      endpoint: 'signs',
      image: { base64: fixture('noise.png').toString('base64') },
    });
    expect(ok.predict.__typename).toBe('Prediction');
  });

  it("rejects invalid base64, an unknown endpoint and a topK outside 1 to the model's 43 classes", async () => {
    const before = await captureCount(server);
    const png = fixture('noise.png').toString('base64');
    const cases: [VariablesOf<typeof PREDICT>, 'InvalidImageError' | 'NotFoundError' | 'ValidationError', string][] = [
      [{ endpoint: 'signs', image: { base64: '***' } }, 'InvalidImageError', 'image.base64 is not valid base64'],
      [{ endpoint: 'signs', image: { npy: 'AAAA=A' } }, 'InvalidImageError', 'image.npy is not valid base64'],
      [{ endpoint: 'signs', image: { base64: 'data:text/plain,hello' } }, 'InvalidImageError', "without ';base64,'"],
      [{ endpoint: 'nowhere', image: { base64: png } }, 'NotFoundError', "Endpoint 'nowhere' does not exist"],
      [{ endpoint: 'signs', image: { base64: png }, topK: 0 }, 'ValidationError', 'topK must be from 1 to 43'],
      [{ endpoint: 'signs', image: { base64: png }, topK: 44 }, 'ValidationError', 'topK must be from 1 to 43'],
    ];
    for (const [variables, typename, message] of cases) {
      const { predict } = await server.client.data(PREDICT, variables);
      expect(predict.__typename, JSON.stringify(variables).slice(0, 80)).toBe(typename);
      expectTypename(predict, typename);
      expect(predict.message).toContain(message);
    }
    expect(await captureCount(server)).toBe(before);
  });

  it('refuses zero or two image fields before running (ImageInput is @oneOf)', async () => {
    const png = fixture('noise.png').toString('base64');
    for (const image of [{}, { base64: png, npy: png }]) {
      // posted as it is: ImageInput's type (one field of three) forbids these variables, the server must too
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(PREDICT), variables: { endpoint: 'signs', image } }),
      });
      const result = (await response.json()) as GraphQLResponse<ResultOf<typeof PREDICT>>;
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.message).toMatch(/Exactly one key must be specified for OneOf type "ImageInput"/);
    }
  });

  it("accepts a data: URL, as a browser's FileReader makes, and lists exactly topK classes", async () => {
    const png = fixture('warning_triangle.png').toString('base64');
    const plain = (await server.client.data(PREDICT, { endpoint: 'signs', image: { base64: png }, topK: 43 })).predict;
    const fromUrl = (
      await server.client.data(PREDICT, {
        endpoint: 'signs',
        image: { base64: `data:image/png;base64,${png}` },
        topK: 43,
      })
    ).predict;
    expectTypename(plain, 'Prediction');
    expectTypename(fromUrl, 'Prediction');
    expect(fromUrl.predictedClass).toBe(plain.predictedClass);
    expect(fromUrl.top).toHaveLength(43);
  });

  it('refuses a 50 MB body with PAYLOAD_TOO_LARGE before reading it, and keeps serving', async () => {
    const before = await captureCount(server);
    const body = JSON.stringify({
      query: print(PREDICT),
      variables: { endpoint: 'signs', image: { base64: 'A'.repeat(50 * 1024 * 1024) } },
    });
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(413);
    const json = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(json.errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(json.errors[0]!.message).toMatch(/exceeds the limit/);
    expect(await captureCount(server)).toBe(before);
    const ok = await server.client.data(PREDICT, {
      endpoint: 'signs',
      image: { base64: fixture('noise.png').toString('base64') },
    });
    expect(ok.predict.__typename).toBe('Prediction');
  });

  it('gathers concurrent requests into batches and routes each result back to its request', async () => {
    const names = [
      'stop_like_octagon.png',
      'warning_triangle.png',
      'blue_arrow_circle.jpg',
      'noise.png',
      'gradient_128.png',
    ];
    const expected = new Map<string, number>();
    for (const name of names) {
      const { predict } = await server.client.data(PREDICT, {
        endpoint: 'signs',
        image: { base64: fixture(name).toString('base64') },
      });
      expectTypename(predict, 'Prediction');
      expected.set(name, predict.predictedClass);
    }
    const requests = Array.from({ length: 40 }, (_, i) => names[i % names.length]!);
    const results = await Promise.all(
      requests.map((name) =>
        server.client.data(PREDICT, { endpoint: 'signs', image: { base64: fixture(name).toString('base64') } }),
      ),
    );
    const predictions = results.map(({ predict }) => {
      expectTypename(predict, 'Prediction');
      return predict;
    });
    predictions.forEach((p, i) => expect(p.predictedClass, requests[i]).toBe(expected.get(requests[i]!)));
    expect(Math.max(...predictions.map((p) => p.batchSize))).toBeGreaterThan(1);
  });

  it('streams predictions to subscribers of the endpoint', async () => {
    const sub = new WsSubscription(server.wsUrl, SIGNS_PREDICTIONS);
    await sub.ready();
    const { predict } = await server.client.data(PREDICT, {
      endpoint: 'signs',
      image: { base64: fixture('noise.png').toString('base64') },
    });
    expectTypename(predict, 'Prediction');
    const [event] = await sub.waitFor(1);
    expect(event?.predictions).toMatchObject({
      endpoint: 'signs',
      predictedClass: predict.predictedClass,
      captureId: predict.captureId,
    });
    await sub.close();
  });
});
