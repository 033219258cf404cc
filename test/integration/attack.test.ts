/**
 * createAdversarial through the real server: the attack's PNG comes back as a data: URL and at its
 * stable URL, and predict on the endpoint classifies it as the target; attacks beyond
 * MAX_CONCURRENT_ATTACKS are refused at once with UNAVAILABLE; only the newest MAX_STORED_ADVERSARIALS
 * stay stored.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture, fixturePrediction } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';
import { until } from '../helpers/wait.ts';

const ATTACK = graphql(`
  mutation Attack($input: CreateAdversarialInput!) {
    createAdversarial(input: $input) {
      __typename
      ... on Adversarial {
        id url dataUrl model endpoint method target originalClass adversarialClass targetConfidence l2 linf iterations success
      }
      ... on VigilError { code message }
    }
  }
`);
const PREDICT = graphql(`
  mutation PredictAdversarial($image: String!) {
    predict(endpoint: "signs", image: { base64: $image }) { __typename ... on Prediction { predictedClass captureId } }
  }
`);

const b64 = (name: string) => fixture(name).toString('base64');

describe('createAdversarial', () => {
  const server = useTestServer({
    env: { INFERENCE_DEVICE: 'cpu', MAX_CONCURRENT_ATTACKS: '1', MAX_STORED_ADVERSARIALS: '3' },
  });

  it("makes a PNG the endpoint's predict classifies as the target, served at its URL", async () => {
    await server.client.data('mutation { createEndpoint(input: { name: "signs" }) { __typename } }');
    const { createAdversarial: adversarial } = await server.client.data(ATTACK, {
      input: { image: { base64: b64('noise.png') }, target: 14, endpoint: 'signs', method: 'DEEPFOOL' },
    });
    expectTypename(adversarial, 'Adversarial');
    expect(adversarial).toMatchObject({
      model: 'gtsrb-resnet18',
      endpoint: 'signs',
      method: 'DEEPFOOL',
      target: 14,
      originalClass: fixturePrediction('noise.png').predictedClass,
      adversarialClass: 14,
      success: true,
    });
    expect(adversarial.url).toBe(`/adversarial/${adversarial.id}.png`);
    const png = Buffer.from(adversarial.dataUrl.slice('data:image/png;base64,'.length), 'base64');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 128, 128]);

    const served = await fetch(`${server.url}${adversarial.url}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);

    const { predict } = await server.client.data(PREDICT, { image: png.toString('base64') });
    expectTypename(predict, 'Prediction');
    expect(predict.predictedClass).toBe(14);
    expect((await fetch(`${server.url}/adversarial/${crypto.randomUUID()}.png`)).status).toBe(404);
  });

  it('refuses an attack beyond MAX_CONCURRENT_ATTACKS at once with UNAVAILABLE', async () => {
    // a DeepFool that runs its 100 iterations (warning_triangle.png does not reach Stop): seconds
    const long = server.client.data(ATTACK, {
      input: { image: { base64: b64('warning_triangle.png') }, target: 14, model: 'gtsrb-resnet18' },
    });
    await until('the first attack to run', async () => server.app.services.attacks.running === 1);
    const { createAdversarial: refused } = await server.client.data(ATTACK, {
      input: { image: { base64: b64('noise.png') }, target: 14, model: 'gtsrb-resnet18', method: 'FGSM' },
    });
    expectTypename(refused, 'UnavailableError');
    expect(refused.message).toMatch(/MAX_CONCURRENT_ATTACKS is 1/);
    const { createAdversarial: finished } = await long;
    expectTypename(finished, 'Adversarial');
    expect(finished).toMatchObject({ success: false, iterations: 100 });
    expect(server.app.services.attacks.running).toBe(0);
  });

  it('keeps the newest MAX_STORED_ADVERSARIALS', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { createAdversarial: made } = await server.client.data(ATTACK, {
        input: { image: { base64: b64('stop_like_octagon.png') }, target: 14, model: 'gtsrb-resnet18' },
      });
      expectTypename(made, 'Adversarial');
      ids.push(made.id);
    }
    expect(await server.app.database.prisma.adversarial.count()).toBe(3);
    expect((await fetch(`${server.url}/adversarial/${ids[0]}.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/adversarial/${ids[3]}.png`)).status).toBe(200);
  });
});
