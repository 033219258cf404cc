import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, type ResultOf } from '../../src/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const CREATE = graphql(`
  mutation CreateSwapEndpoint {
    createEndpoint(input: { name: "swap", dataCapture: { enabled: true, samplingPercentage: 50 } }) { __typename }
  }
`);
const PREDICT = graphql(`
  mutation PredictSwap($image: ImageInput!) {
    predict(endpoint: "swap", image: $image) {
      __typename
      ... on Prediction { modelVersion captureId }
      ... on VigilError { code message }
    }
  }
`);
const UPDATE = graphql(`
  mutation SwapModelAndCapture {
    updateEndpoint(
      name: "swap"
      input: { model: "gtsrb-resnet18-b", dataCapture: { samplingPercentage: 100, captureMode: OUTPUT } }
    ) { __typename ... on Endpoint { model } }
  }
`);
type PredictAnswer = ResultOf<typeof PREDICT>['predict'];

/** a model folder holding the bundled model twice: as itself and as "-b" with another version */
function twoModels(): { dir: string; versionB: string } {
  const source = path.resolve('models/gtsrb-resnet18');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
  fs.symlinkSync(source, path.join(dir, 'gtsrb-resnet18'));
  const b = path.join(dir, 'gtsrb-resnet18-b');
  fs.mkdirSync(b);
  for (const f of fs.readdirSync(source))
    if (f !== 'manifest.json') fs.symlinkSync(path.join(source, f), path.join(b, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(source, 'manifest.json'), 'utf8'));
  const versionB = `${manifest.version}-b`;
  fs.writeFileSync(
    path.join(b, 'manifest.json'),
    JSON.stringify({ ...manifest, name: 'gtsrb-resnet18-b', version: versionB }),
  );
  return { dir, versionB };
}

describe('updateEndpoint under load', () => {
  let models: { dir: string; versionB: string };
  const server = useTestServer(() => {
    models = twoModels();
    return { env: { MODEL_DIR: models.dir, INFERENCE_DEVICE: 'cpu' } };
  });
  beforeAll(async () => {
    expect((await server.client.data(CREATE)).createEndpoint.__typename).toBe('Endpoint');
  });
  afterAll(() => fs.rmSync(models.dir, { recursive: true, force: true }));

  it('swaps the model and capture settings with requests in flight: none fails, each is served by the old or the new configuration', async () => {
    const versionA = (await server.app.services.runtimes.get('gtsrb-resnet18')).version;
    const image = { base64: fixture('warning_triangle.png').toString('base64') };
    const results: PredictAnswer[] = [];
    let updated = false;
    const afterUpdate: typeof results = [];
    const clients = Array.from({ length: 6 }, async () => {
      for (let i = 0; i < 12; i++) {
        const sentAfterUpdate = updated;
        const { predict } = await server.client.data(PREDICT, { image });
        (sentAfterUpdate ? afterUpdate : results).push(predict);
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const { updateEndpoint } = await server.client.data(UPDATE);
    updated = true;
    expect(updateEndpoint).toEqual({ __typename: 'Endpoint', model: 'gtsrb-resnet18-b' });
    await Promise.all(clients);

    const all = [...results, ...afterUpdate];
    expect(all.filter((r) => r.__typename !== 'Prediction')).toEqual([]);
    const predictions = all.flatMap((r) => (r.__typename === 'Prediction' ? [r] : []));
    expect(new Set(predictions.map((r) => r.modelVersion))).toEqual(new Set([versionA, models.versionB]));
    // requests sent after the update returned run the new configuration
    expect(afterUpdate.length).toBeGreaterThan(0);
    expect(
      afterUpdate.every((r) => r.__typename === 'Prediction' && r.modelVersion === models.versionB && r.captureId),
    ).toBe(true);

    const captured = predictions.flatMap((r) => (r.captureId ? [r.captureId] : []));
    const rows = await server.app.database.prisma.capture.findMany({ where: { id: { in: captured } } });
    expect(rows).toHaveLength(captured.length);
    for (const row of rows) {
      // a capture holds what its configuration said: OUTPUT-only captures carry no input
      if (row.modelVersion === models.versionB) expect(row.inputData).toBeNull();
    }
  }, 300_000);
});
