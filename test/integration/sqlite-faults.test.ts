/**
 * SQLite locked by another writer beyond the lock timeout, or full (`max_page_count` set low on the
 * server's own connection): requests get a typed UNAVAILABLE error (a result-union member where the
 * field lists it; HTTP 503 with Retry-After where the whole request fails), the process stays up, no
 * request's rows are stored in part, and service resumes once the lock is released or space freed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { TEST_DB } from '../helpers/database.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';
import { holdWriteLock } from '../helpers/write-lock.ts';

const CREATE = graphql(`
  mutation CreateFaultEndpoint($input: CreateEndpointInput!) { createEndpoint(input: $input) { __typename } }
`);
const PREDICT = graphql(`
  mutation PredictUnderFault($endpoint: String!, $image: String!) {
    predict(endpoint: $endpoint, image: { base64: $image }) {
      __typename
      ... on Prediction { captureId debugStep }
      ... on UnavailableError { code message retryAfterSeconds }
      ... on VigilError { code message }
    }
  }
`);

/** an image whose capture (input bytes included) takes a few pages */
const NOISE = fixture('noise.png').toString('base64');
const CAPTURE = { enabled: true, samplingPercentage: 100 };

describe.runIf(TEST_DB === 'sqlite')('SQLite locked or full', () => {
  const server = useTestServer({ env: { DATABASE_LOCK_TIMEOUT_MS: '300' } });
  const predict = async (endpoint: string) => (await server.client.data(PREDICT, { endpoint, image: NOISE })).predict;

  beforeAll(async () => {
    await server.client.data(CREATE, { input: { name: 'plain', dataCapture: CAPTURE } });
    await server.client.data(CREATE, {
      input: { name: 'hooked', dataCapture: CAPTURE, debugHook: { enabled: true, collections: ['biases'] } },
    });
  });

  it('answers UNAVAILABLE while another connection holds the write lock, stores nothing, and serves again after', async () => {
    const prisma = server.app.database.prisma;
    const captures = await prisma.capture.count();
    const release = await holdWriteLock(server.database.url);
    try {
      expect(await predict('plain')).toMatchObject({ __typename: 'UnavailableError', code: 'UNAVAILABLE' });
      expect(await predict('hooked')).toMatchObject({ __typename: 'UnavailableError', retryAfterSeconds: 5 });
      // a field whose result does not list UnavailableError: the request fails whole, 503 with Retry-After
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: 'mutation { createEndpoint(input: { name: "late" }) { __typename } }' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('UNAVAILABLE');
    } finally {
      await release();
    }
    expect(await prisma.capture.count()).toBe(captures);
    expect(await predict('plain')).toMatchObject({ __typename: 'Prediction' });
  });

  it('answers UNAVAILABLE when the database is full, keeps no partial rows, and serves again once space is freed', async () => {
    const prisma = server.app.database.prisma;
    const reference = await predict('hooked');
    if (reference.__typename !== 'Prediction' || reference.debugStep === null) throw new Error('expected a step');
    const tensorsPerStep = await prisma.tensor.count({
      where: { step: { step: reference.debugStep, endpoint: { name: 'hooked' } } },
    });
    expect(tensorsPerStep).toBeGreaterThan(0);
    const before = new Set((await prisma.capture.findMany({ select: { id: true } })).map((c) => c.id));

    // the server's one connection may grow the file by a few pages only (max_page_count is per connection)
    const [{ page_count: pages } = { page_count: 0n }] =
      await prisma.$queryRawUnsafe<{ page_count: bigint }[]>('PRAGMA page_count');
    await prisma.$queryRawUnsafe(`PRAGMA max_page_count = ${Number(pages) + 6}`);
    let outcomes: Awaited<ReturnType<typeof predict>>[];
    try {
      outcomes = [];
      for (let round = 0; round < 6; round++) {
        outcomes.push(
          ...(await Promise.all(['plain', 'hooked', 'plain', 'hooked', 'plain', 'plain'].map((e) => predict(e)))),
        );
      }
    } finally {
      await prisma.$queryRawUnsafe('PRAGMA max_page_count = 1073741823');
    }

    const unavailable = outcomes.filter((o) => o.__typename === 'UnavailableError');
    expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable[0]).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 60 });
    expect(unavailable[0]?.message).toMatch(/storage is full/);
    expect(outcomes.every((o) => o.__typename === 'Prediction' || o.__typename === 'UnavailableError')).toBe(true);

    // exactly the acknowledged captures were stored, each hooked one with its step and all its tensors
    const acknowledged = outcomes.flatMap((o) => (o.__typename === 'Prediction' && o.captureId ? [o.captureId] : []));
    const stored = (await prisma.capture.findMany({ select: { id: true } }))
      .map((c) => c.id)
      .filter((id) => !before.has(id));
    expect(new Set(stored)).toEqual(new Set(acknowledged));
    const steps = await prisma.debugStep.findMany({
      where: { captureId: { in: stored } },
      select: { captureId: true, _count: { select: { tensors: true } } },
    });
    expect(steps.every((s) => s._count.tensors === tensorsPerStep)).toBe(true);
    const orphanSteps = await prisma.debugStep.count({ where: { endpoint: { name: 'hooked' }, captureId: null } });
    expect(orphanSteps).toBe(0);

    expect(await predict('hooked')).toMatchObject({ __typename: 'Prediction' });
  });
});
