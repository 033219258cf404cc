/**
 * The write-up's SageMaker side, unchanged, against vigil: its client posting to the invocation route
 * (answered `[[class]]`, captured like predict), its evaluation.py reading the capture export with
 * `output=class` (`endpointOutput.data` is `[[class]]`), and its smdebug regexes selecting tensors
 * through trial.tensorNames.
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { asNpy, fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const TENSOR_NAMES = graphql(`
  query WriteUpRegex($regex: String!) {
    trial(endpoint: "signs") {
      __typename
      ... on Trial { tensorNames(regex: $regex) { __typename ... on TensorNameList { names } } }
    }
  }
`);
const PREDICT = graphql(`
  mutation PredictForComparison($image: String!) {
    predict(endpoint: "signs", image: { base64: $image }) { __typename ... on Prediction { predictedClass } }
  }
`);

describe("the write-up's SageMaker scripts against vigil", () => {
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu' } });
  const invoke = (body: Buffer, headers: Record<string, string>, endpoint = 'signs') =>
    fetch(`${server.url}/endpoints/${endpoint}/invocations`, { method: 'POST', headers, body: new Uint8Array(body) });

  it('answers the invocation route with [[class]] and captures it, for PNG and .npy bodies', async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "signs", dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, collections: ["fullgrad"] } }) { __typename } }',
    );
    const png = fixture('blue_arrow_circle.jpg');
    const { predict } = await server.client.data(PREDICT, { image: png.toString('base64') });
    expectTypename(predict, 'Prediction');
    const before = await server.app.database.prisma.capture.count();

    const jpeg = await invoke(png, { 'content-type': 'image/jpeg', accept: 'application/json' });
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('application/json');
    expect(await jpeg.json()).toEqual([[predict.predictedClass]]);

    const npy = await invoke(await asNpy(png), { 'content-type': 'application/x-npy' });
    expect(npy.status).toBe(200);
    expect(await npy.json()).toEqual([[predict.predictedClass]]);
    expect(await server.app.database.prisma.capture.count()).toBe(before + 2);

    expect((await invoke(png, { 'content-type': 'text/plain' })).status).toBe(400);
    expect((await invoke(png, { 'content-type': 'image/png', accept: 'text/html' })).status).toBe(406);
    expect((await invoke(png, { 'content-type': 'image/png' }, 'nope')).status).toBe(404);
    expect((await invoke(Buffer.from('not an image'), { 'content-type': 'image/png' })).status).toBe(400);
  });

  it("exports endpointOutput.data as [[class]] with output=class, which the write-up's evaluation reads", async () => {
    const classes = (await server.app.database.prisma.capture.findMany({ orderBy: { inferenceTime: 'asc' } })).map(
      (c) => c.predictedClass,
    );
    const response = await fetch(`${server.url}/captures/export?endpoint=signs&output=class`);
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(classes.length);
    // evaluation.py: json.loads(line)["captureData"]["endpointOutput"]["data"] → json.loads → [[class]]
    const read = lines.map((line) => {
      const output = (JSON.parse(line) as { captureData: { endpointOutput: { data: string; encoding: string } } })
        .captureData.endpointOutput;
      expect(output.encoding).toBe('JSON');
      const data = JSON.parse(output.data) as unknown;
      expect(data).toEqual([[expect.any(Number)]]);
      return (data as number[][])[0]![0];
    });
    expect(read.sort()).toEqual([...classes].sort());
    expect((await fetch(`${server.url}/captures/export?endpoint=signs&output=probabilities`)).status).toBe(400);
  });

  it("selects with the write-up's smdebug regexes what they selected there", async () => {
    const names = async (regex: string) => {
      const { trial } = await server.client.data(TENSOR_NAMES, { regex });
      expectTypename(trial, 'Trial');
      expectTypename(trial.tensorNames, 'TensorNameList');
      return trial.tensorNames.names;
    };
    const sites = server.app.services.models.get('gtsrb-resnet18')!.manifest.tensorSites;
    const gradients = await names('.*gradient.*bn.*output|.*gradient.*downsample.1.*output');
    expect(gradients.sort()).toEqual(sites.map((s) => `${s.name}.output_grad`).sort());
    const biases = await names('^(?=.*bias)(?:(?!fc).)*$');
    expect(biases.sort()).toEqual(sites.map((s) => `${s.name}.bias`).sort());
  });
});
