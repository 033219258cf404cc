/**
 * A failing row fails only its own request: the group commit's transaction fails whole, then its
 * requests are committed one by one, each whole or not at all. Shown on the commit queue itself (a
 * group that gathers valid rows and rows naming an endpoint that does not exist) and through the
 * server (requests for two endpoints in one group, one endpoint deleted while they are in flight).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CAPTURE_TABLE, captureOf } from '../../src/capture/record.ts';
import { GroupCommit } from '../../src/db/group-commit.ts';
import type { TableRows } from '../../src/db/insert.ts';
import { STEP_TABLE, stepTableRows, TENSOR_TABLE } from '../../src/debugger/step-rows.ts';
import { graphql } from '../../src/graphql.ts';
import { createLogger } from '../../src/logger.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const CREATE = graphql(`
  mutation CreateIsolatedEndpoint($name: String!) {
    createEndpoint(input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT = graphql(`
  mutation PredictIsolated($endpoint: String!, $image: String!) {
    predict(endpoint: $endpoint, image: { base64: $image }) {
      __typename
      ... on Prediction { captureId }
      ... on VigilError { code message }
    }
  }
`);
const PREDICT_BOTH = graphql(`
  mutation PredictTwoEndpoints($images: [ImageInput!]!) {
    a: predictBatch(endpoint: "iso-a", images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId } } }
      ... on VigilError { code message }
    }
    b: predictBatch(endpoint: "iso-b", images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId } } }
      ... on VigilError { code message }
    }
  }
`);
const DELETE = graphql(`mutation DeleteIsolated($name: String!) { deleteEndpoint(name: $name) { __typename } }`);

const PNG = fixture('warning_triangle.png').toString('base64');

function captureRows(endpointId: string): { id: string; rows: TableRows } {
  const capture = captureOf({
    endpoint: { id: endpointId, dataCapture: { enabled: true, samplingPercentage: 100, captureMode: 'OUTPUT' } },
    payload: { bytes: new Uint8Array([1]), contentType: 'image/png' },
    prediction: {
      top: [{ classId: 1, probability: 0.75, label: 'one' }],
      probabilities: Float64Array.of(0.25, 0.75),
      modelVersion: 'v',
      inferenceTime: new Date(),
    },
  });
  if (!capture) throw new Error('sampling 100 % captures every request');
  return { id: capture.id, rows: CAPTURE_TABLE.rows([capture]) };
}

describe('group commit isolation', () => {
  // a longer batching wait, so that the requests of both endpoints share one model run, then one group
  const server = useTestServer({ env: { BATCH_MAX_WAIT_MS: '30' } });

  it('commits the valid requests of a group whose transaction failed, each whole; fails only the invalid ones', async () => {
    const prisma = server.app.database.prisma;
    const endpointId = randomUUID();
    await prisma.endpoint.create({ data: { id: endpointId, name: 'iso-direct', model: 'gtsrb-resnet18' } });
    const commit = new GroupCommit(prisma, createLogger('silent'), {
      tables: [CAPTURE_TABLE.name, STEP_TABLE.name, TENSOR_TABLE.name],
    });
    const good = () => captureRows(endpointId);
    // a capture and a step naming an endpoint that does not exist: the capture is valid on its own,
    // but the request's rows are stored whole or not at all
    const partial = () => {
      const capture = good();
      const stepId = randomUUID();
      const step = { id: stepId, endpointId: randomUUID(), step: 1, mode: 'PREDICT' as const, captureId: capture.id };
      const tensor = { id: randomUUID(), stepId, name: 't', shape: '[1]', dtype: 'float32', encoding: 'f32' };
      return {
        id: capture.id,
        unit: [
          capture.rows,
          ...stepTableRows({
            step: { ...step, createdAt: new Date() },
            tensors: [{ ...tensor, data: new Uint8Array(4) }],
          }),
        ],
      };
    };
    const orphan = () => captureRows(randomUUID());

    // the first write starts a commit; the others gather into the next group while it runs
    const units = [good(), good(), orphan(), good(), partial(), good()].map((u) =>
      'unit' in u ? u : { id: u.id, unit: [u.rows] },
    );
    const settled = await Promise.allSettled(units.map((u) => commit.write(u.unit)));
    expect(commit.groupSizes).toEqual([1, 5]);
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const stored = await prisma.capture.findMany({
      where: { id: { in: units.map((u) => u.id) } },
      select: { id: true },
    });
    expect(new Set(stored.map((c) => c.id))).toEqual(new Set([units[0]!.id, units[1]!.id, units[3]!.id, units[5]!.id]));
    expect(commit.stats()).toMatchObject({
      queued: 0,
      committing: 0,
      lagSeconds: 0,
      committed: 4,
      failed: 2,
      isolatedGroups: 1,
    });
  });

  it('answers every request of the other endpoint when one endpoint is deleted while requests for both are in flight', async () => {
    for (const name of ['iso-a', 'iso-b']) await server.client.data(CREATE, { name });
    const before = server.app.commitStats();
    // iso-b's row goes behind the server's back: its cached snapshot still names it, so its requests
    // run the model and reach the commit, as those in flight when an endpoint is deleted do
    await server.app.services.endpoints.snapshot('iso-b');
    await server.app.database.prisma.endpoint.delete({ where: { name: 'iso-b' } });
    const { a, b } = await server.client.data(PREDICT_BOTH, { images: Array(8).fill({ base64: PNG }) });

    if (a.__typename !== 'PredictBatch') throw new Error(`iso-a failed: ${JSON.stringify(a)}`);
    const ids = a.predictions.map((p) => (p.__typename === 'Prediction' ? p.captureId : null));
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    const stored = await server.app.database.prisma.capture.count({
      where: { id: { in: ids.filter((id) => id !== null) } },
    });
    expect(stored).toBe(8);
    expect(b).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(b.__typename === 'NotFoundError' && b.message).toMatch(/deleted while this request was in flight/);

    const after = server.app.commitStats();
    expect(after.committed - before.committed).toBe(8);
    expect(after.failed - before.failed).toBe(8);
    // a group held requests of both endpoints: its transaction failed, and iso-a's were committed one by one
    expect(after.isolatedGroups - before.isolatedGroups).toBeGreaterThanOrEqual(1);
  });

  it('keeps answering one endpoint while another is deleted through the API under load', async () => {
    for (const name of ['load-a', 'load-b']) await server.client.data(CREATE, { name });
    const outcomes: Record<string, string[]> = { 'load-a': [], 'load-b': [] };
    let stop = false;
    const clients = ['load-a', 'load-b', 'load-a', 'load-b', 'load-a', 'load-b'].map(async (endpoint) => {
      while (!stop) {
        const { predict } = await server.client.data(PREDICT, { endpoint, image: PNG });
        outcomes[endpoint]!.push(predict.__typename);
      }
    });
    await new Promise((r) => setTimeout(r, 800));
    expect((await server.client.data(DELETE, { name: 'load-b' })).deleteEndpoint.__typename).toBe('Endpoint');
    await new Promise((r) => setTimeout(r, 800));
    stop = true;
    await Promise.all(clients);

    expect(outcomes['load-a']!.length).toBeGreaterThan(0);
    expect(new Set(outcomes['load-a'])).toEqual(new Set(['Prediction']));
    expect(outcomes['load-b']).toContain('NotFoundError');
    expect(outcomes['load-b']!.every((t) => t === 'Prediction' || t === 'NotFoundError')).toBe(true);
  });
});
