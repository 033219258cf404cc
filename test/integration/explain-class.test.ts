/**
 * Explaining any class: a capture's saliency for a class its step did not store is recomputed by the
 * debug graph from the captured image; `explain` does the same for an uploaded image without storing
 * anything. Each map's completeness (the class's logit = Σ input·input_grad + Σ bias terms + fc.bias)
 * holds to 1e-3, and the two paths agree on the same image.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const PREDICT = graphql(`
  mutation PredictHooked($image: String!) {
    predict(endpoint: "hooked", image: { base64: $image }) { __typename ... on Prediction { captureId predictedClass } }
  }
`);
const SALIENCY = graphql(`
  query SaliencyOfClass($id: ID!, $classId: Int, $method: SaliencyMethod) {
    saliency(captureId: $id, classId: $classId, method: $method) {
      __typename
      ... on SaliencyMap { classId label completenessResidual values overlayUrl }
      ... on VigilError { code message }
    }
  }
`);
const EXPLAIN = graphql(`
  query ExplainImage($image: String!, $classId: Int) {
    explain(image: { base64: $image }, model: "gtsrb-resnet18", classId: $classId) {
      __typename
      ... on ImageExplanation { classId label completenessResidual values overlayPng }
      ... on VigilError { code message }
    }
  }
`);

const TRUSTED = graphql(`
  query TrustedSaliency($id: ID!, $method: SaliencyMethod, $steps: Int, $baseline: IntegratedGradientsBaseline, $classId: Int) {
    saliency(captureId: $id, method: $method, steps: $steps, baseline: $baseline, classId: $classId) {
      __typename
      ... on SaliencyMap {
        method classId width height values overlayUrl completenessResidual
        integratedGradients { steps baseline logit baselineLogit attributionSum residual tolerance withinTolerance }
        sanity { blankRankCorrelation noiseRankCorrelation dependsOnInput threshold }
      }
      ... on VigilError { code message }
    }
  }
`);
const EXPLAIN_TRUSTED = graphql(`
  query ExplainTrusted($image: String!, $method: SaliencyMethod, $steps: Int) {
    explain(image: { base64: $image }, model: "gtsrb-resnet18", method: $method, steps: $steps, sanityThreshold: 0.6) {
      __typename
      ... on ImageExplanation {
        method classId values
        integratedGradients { steps residual }
        sanity { blankRankCorrelation noiseRankCorrelation dependsOnInput threshold }
      }
      ... on VigilError { code message }
    }
  }
`);

const STOP = 14;

describe('explaining a chosen class', () => {
  const server = useTestServer({ env: { INFERENCE_DEVICE: 'cpu' } });

  it("recomputes a capture's map for another class, complete to 1e-3, and explain agrees on the same image", async () => {
    await server.client.data(
      'mutation { createEndpoint(input: { name: "hooked", dataCapture: { enabled: true, samplingPercentage: 100 }, debugHook: { enabled: true, collections: ["fullgrad"] } }) { __typename } }',
    );
    const image = fixture('warning_triangle.png').toString('base64');
    const { predict } = await server.client.data(PREDICT, { image });
    expectTypename(predict, 'Prediction');
    expect(predict.predictedClass).not.toBe(STOP);
    const id = predict.captureId!;

    const { saliency: stored } = await server.client.data(SALIENCY, { id });
    expectTypename(stored, 'SaliencyMap');
    expect(stored.classId).toBe(predict.predictedClass);

    const { saliency: stop } = await server.client.data(SALIENCY, { id, classId: STOP });
    expectTypename(stop, 'SaliencyMap');
    expect(stop).toMatchObject({ classId: STOP, label: 'Stop' });
    expect(stop.completenessResidual).not.toBeNull();
    expect(stop.completenessResidual!).toBeLessThanOrEqual(1e-3);
    expect(stop.values).not.toEqual(stored.values);
    expect(stop.overlayUrl).toContain(`classId=${STOP}`);
    const png = await fetch(`${server.url}${stop.overlayUrl}`);
    expect(png.status).toBe(200);
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format).toBe('png');

    // the stored class, asked for by number, is the stored map
    const { saliency: same } = await server.client.data(SALIENCY, { id, classId: predict.predictedClass });
    expectTypename(same, 'SaliencyMap');
    expect(same.values).toEqual(stored.values);

    // an uploaded image: the same preprocessing and the same run, nothing stored
    const captures = await server.app.database.prisma.capture.count();
    const { explain } = await server.client.data(EXPLAIN, { image, classId: STOP });
    expectTypename(explain, 'ImageExplanation');
    expect(explain.classId).toBe(STOP);
    expect(explain.completenessResidual!).toBeLessThanOrEqual(1e-3);
    expect(explain.values).toEqual(stop.values);
    expect(explain.overlayPng).toMatch(/^data:image\/png;base64,/);
    expect(await server.app.database.prisma.capture.count()).toBe(captures);

    // without a class: the predicted one
    const { explain: predicted } = await server.client.data(EXPLAIN, { image });
    expectTypename(predicted, 'ImageExplanation');
    expect(predicted.classId).toBe(predict.predictedClass);
    expect(predicted.completenessResidual!).toBeLessThanOrEqual(1e-3);
  });

  it('GRAD_CAM and INTEGRATED_GRADIENTS on a capture and on an uploaded image, with their sanity checks and image URLs', async () => {
    const image = fixture('stop_like_octagon.png').toString('base64');
    const { predict } = await server.client.data(PREDICT, { image });
    expectTypename(predict, 'Prediction');
    const id = predict.captureId!;

    const { saliency: cam } = await server.client.data(TRUSTED, { id, method: 'GRAD_CAM' });
    expectTypename(cam, 'SaliencyMap');
    expect(cam).toMatchObject({ method: 'GRAD_CAM', classId: predict.predictedClass, width: 128, height: 128 });
    expect(Math.max(...cam.values)).toBeCloseTo(1, 5);
    expect(cam.integratedGradients).toBeNull();
    expect(cam.sanity!.threshold).toBe(0.5);
    expect(cam.sanity!.dependsOnInput).toBe(
      Math.max(cam.sanity!.blankRankCorrelation, cam.sanity!.noiseRankCorrelation) < 0.5,
    );

    const { saliency: ig } = await server.client.data(TRUSTED, {
      id,
      method: 'INTEGRATED_GRADIENTS',
      steps: 8,
      baseline: 'BLUR',
      classId: STOP,
    });
    expectTypename(ig, 'SaliencyMap');
    expect(ig.integratedGradients).toMatchObject({ steps: 8, baseline: 'BLUR', tolerance: 0.05 });
    const c = ig.integratedGradients!;
    expect(c.residual).toBeCloseTo(
      Math.abs(c.attributionSum - (c.logit - c.baselineLogit)) / Math.abs(c.logit - c.baselineLogit),
      6,
    );
    expect(c.withinTolerance).toBe(c.residual <= c.tolerance);
    expect(ig.sanity).not.toBeNull();
    expect(ig.overlayUrl).toContain('method=INTEGRATED_GRADIENTS');
    expect(ig.overlayUrl).toContain('steps=8&baseline=BLUR');
    const png = await fetch(`${server.url}${ig.overlayUrl}`);
    expect(png.status).toBe(200);
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format).toBe('png');

    // the uploaded image: the same map as the capture's (same bytes, same preprocessing)
    const { explain } = await server.client.data(EXPLAIN_TRUSTED, { image, method: 'GRAD_CAM' });
    expectTypename(explain, 'ImageExplanation');
    expect(explain.values).toEqual(cam.values);
    expect(explain.sanity).toMatchObject({
      threshold: 0.6,
      blankRankCorrelation: cam.sanity!.blankRankCorrelation,
      noiseRankCorrelation: cam.sanity!.noiseRankCorrelation,
    });
  });

  it('refuses a class the model does not have', async () => {
    const image = fixture('noise.png').toString('base64');
    const { explain } = await server.client.data(EXPLAIN, { image, classId: 43 });
    expectTypename(explain, 'ValidationError');
  });
});
