/**
 * Figures through the real server: the URLs GraphQL returns serve PNGs of the stated sizes (a capture's
 * saliency figure, an adversarial image's difference figure, a grid of captures, a comparison of two
 * captures), uploads are drawn as data URLs, and unknown ids and bad parameters get their statuses.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  ADVERSARIAL_FIGURE_HEIGHT,
  ADVERSARIAL_FIGURE_WIDTH,
  COMPARISON_FIGURE_HEIGHT,
  COMPARISON_FIGURE_WIDTH,
  predictionGridSize,
  SALIENCY_FIGURE_HEIGHT,
  SALIENCY_FIGURE_WIDTH,
} from '../../src/figures/render.ts';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const PREDICT = graphql(`
  mutation PredictForFigures($image: String!) {
    predict(endpoint: "figures", image: { base64: $image }) { __typename ... on Prediction { captureId predictedClass } }
  }
`);
const SALIENCY_FIGURE = graphql(`
  query SaliencyFigure($id: ID!, $classId: Int) {
    saliency(captureId: $id, classId: $classId) {
      __typename
      ... on SaliencyMap { classId figureUrl figurePng }
      ... on VigilError { code message }
    }
  }
`);
const GRID = graphql(`
  query Grid($ids: [ID!]!) {
    predictionGrid(captureIds: $ids, columns: 2) {
      __typename
      ... on Figure { url dataUrl width height }
      ... on VigilError { code message }
    }
  }
`);
const COMPARE = graphql(`
  query Compare($left: ComparisonSideInput!, $right: ComparisonSideInput!) {
    saliencyComparison(left: $left, right: $right, model: "gtsrb-resnet18") {
      __typename
      ... on Figure { url dataUrl width height }
      ... on VigilError { code message }
    }
  }
`);
const ATTACK = graphql(`
  mutation AttackForFigure($image: String!) {
    createAdversarial(input: { image: { base64: $image }, target: 14, endpoint: "figures", method: FGSM, epsilon: 8 }) {
      __typename
      ... on Adversarial { id figureUrl }
      ... on VigilError { code message }
    }
  }
`);

async function size(png: Buffer): Promise<[string | undefined, number | undefined, number | undefined]> {
  const meta = await sharp(png).metadata();
  return [meta.format, meta.width, meta.height];
}

const fromDataUrl = (url: string) => Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');

describe('figures', () => {
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu' } });

  async function get(path: string): Promise<{ status: number; body: Buffer; type: string | null }> {
    const response = await fetch(`${server.url}${path}`);
    return {
      status: response.status,
      body: Buffer.from(await response.arrayBuffer()),
      type: response.headers.get('content-type'),
    };
  }

  it('serves the figures GraphQL names, at their sizes', async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "figures", dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, collections: ["fullgrad"] } }) { __typename } }',
    );
    const ids: string[] = [];
    for (const name of ['stop_like_octagon.png', 'warning_triangle.png', 'blue_arrow_circle.jpg']) {
      const { predict } = await server.client.data(PREDICT, { image: fixture(name).toString('base64') });
      expectTypename(predict, 'Prediction');
      ids.push(predict.captureId!);
    }

    // a capture's three-panel figure, for its class and for Stop
    const { saliency } = await server.client.data(SALIENCY_FIGURE, { id: ids[1]! });
    expectTypename(saliency, 'SaliencyMap');
    expect(saliency.figureUrl).toMatch(
      /^\/figures\/saliency\/[^/]+\.png\?method=FULLGRAD&colormap=JET&opacity=0\.5&classId=\d+$/,
    );
    const figure = await get(saliency.figureUrl!);
    expect(figure.status).toBe(200);
    expect(figure.type).toBe('image/png');
    expect(await size(figure.body)).toEqual(['png', SALIENCY_FIGURE_WIDTH, SALIENCY_FIGURE_HEIGHT]);
    expect(await size(fromDataUrl(saliency.figurePng))).toEqual(['png', SALIENCY_FIGURE_WIDTH, SALIENCY_FIGURE_HEIGHT]);
    const { saliency: stop } = await server.client.data(SALIENCY_FIGURE, { id: ids[1]!, classId: 14 });
    expectTypename(stop, 'SaliencyMap');
    expect(stop.figureUrl).toContain('classId=14');
    const stopFigure = await get(stop.figureUrl!);
    expect(stopFigure.status).toBe(200);
    expect(stopFigure.body.equals(figure.body)).toBe(false);

    // the grid
    const { predictionGrid } = await server.client.data(GRID, { ids });
    expectTypename(predictionGrid, 'Figure');
    const expected = predictionGridSize(3, 2);
    expect([predictionGrid.width, predictionGrid.height]).toEqual([expected.width, expected.height]);
    const grid = await get(predictionGrid.url!);
    expect(grid.status).toBe(200);
    expect(await size(grid.body)).toEqual(['png', expected.width, expected.height]);
    expect(grid.body.equals(fromDataUrl(predictionGrid.dataUrl))).toBe(true);

    // two captures compared (a URL), and two uploads (a data URL only)
    const { saliencyComparison: captured } = await server.client.data(COMPARE, {
      left: { captureId: ids[1]!, heading: 'Clean' },
      right: { captureId: ids[0]!, classId: 14, heading: 'Stop-like' },
    });
    expectTypename(captured, 'Figure');
    expect(captured.url).toContain('rightClass=14');
    const comparison = await get(captured.url!);
    expect(await size(comparison.body)).toEqual(['png', COMPARISON_FIGURE_WIDTH, COMPARISON_FIGURE_HEIGHT]);
    const { saliencyComparison: uploaded } = await server.client.data(COMPARE, {
      left: { image: { base64: fixture('warning_triangle.png').toString('base64') } },
      right: { image: { base64: fixture('noise.png').toString('base64') }, classId: 14 },
    });
    expectTypename(uploaded, 'Figure');
    expect(uploaded.url).toBeNull();
    expect(await size(fromDataUrl(uploaded.dataUrl))).toEqual([
      'png',
      COMPARISON_FIGURE_WIDTH,
      COMPARISON_FIGURE_HEIGHT,
    ]);

    // an adversarial image's original | adversarial | difference
    const { createAdversarial } = await server.client.data(ATTACK, {
      image: fixture('warning_triangle.png').toString('base64'),
    });
    expectTypename(createAdversarial, 'Adversarial');
    expect(createAdversarial.figureUrl).toBe(`/figures/adversarial/${createAdversarial.id}.png`);
    const adversarial = await get(createAdversarial.figureUrl);
    expect(adversarial.status).toBe(200);
    expect(await size(adversarial.body)).toEqual(['png', ADVERSARIAL_FIGURE_WIDTH, ADVERSARIAL_FIGURE_HEIGHT]);

    // what does not exist, and what is not valid
    expect((await get('/figures/saliency/00000000-0000-4000-8000-000000000000.png')).status).toBe(404);
    expect((await get('/figures/adversarial/00000000-0000-4000-8000-000000000000.png')).status).toBe(404);
    expect((await get(`/figures/grid.png?captures=${ids[0]},nope`)).status).toBe(404);
    expect((await get(`/figures/grid.png?captures=${ids[0]}&columns=0`)).status).toBe(400);
    expect((await get(`/figures/saliency/${ids[0]}.png?method=NOPE`)).status).toBe(400);
    expect((await get(`/figures/saliency/${ids[0]}.png?classId=43`)).status).toBe(400);
    expect((await get(`/figures/comparison.png?left=${ids[0]}`)).status).toBe(400);

    // figures of stored things are cached: asking again does not draw again
    const misses = server.app.services.figures.cache.misses;
    expect((await get(saliency.figureUrl!)).body.equals(figure.body)).toBe(true);
    expect(server.app.services.figures.cache.misses).toBe(misses);
  });
});
