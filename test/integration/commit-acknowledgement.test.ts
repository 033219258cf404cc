/**
 * An acknowledged prediction is a committed one, whatever the client selected: a predictBatch that
 * selects only `__typename` is answered after every sampled capture of the batch has committed, so a
 * separate connection counts them all the moment the answer arrives. And the commit queue reports
 * its depth, lag and commit latency (GroupCommitStats, for /metrics).
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { graphql } from '../../src/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { useTestServer } from '../helpers/server.ts';

const CREATE = graphql(`
  mutation CreateAcknowledgedEndpoint($name: String!) {
    createEndpoint(input: { name: $name, dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename }
  }
`);
const PREDICT_BATCH_TYPENAME = graphql(`
  mutation PredictBatchTypenameOnly($endpoint: String!, $images: [ImageInput!]!) {
    predictBatch(endpoint: $endpoint, images: $images) { __typename }
  }
`);
const PREDICT_TYPENAME = graphql(`
  mutation PredictTypenameOnly($endpoint: String!, $image: ImageInput!) {
    predict(endpoint: $endpoint, image: $image) { __typename }
  }
`);

const IMAGES = ['warning_triangle.png', 'stop_like_octagon.png', 'noise.png', 'blue_arrow_circle.jpg'].map((name) => ({
  base64: fixture(name).toString('base64'),
}));

describe('acknowledged means committed', () => {
  const server = useTestServer();

  it('commits every capture of a predictBatch selecting only __typename before answering', async () => {
    await server.client.data(CREATE, { name: 'ack' });
    const endpoint = await server.app.database.prisma.endpoint.findUniqueOrThrow({ where: { name: 'ack' } });
    // a connection of its own: it sees committed rows only
    const reader = openDatabase(server.database.url);
    try {
      const images = Array.from({ length: 36 }, (_, i) => IMAGES[i % IMAGES.length]!);
      const { predictBatch } = await server.client.data(PREDICT_BATCH_TYPENAME, { endpoint: 'ack', images });
      expect(predictBatch.__typename).toBe('PredictBatch');
      expect(await reader.prisma.capture.count({ where: { endpointId: endpoint.id } })).toBe(36);

      const { predict } = await server.client.data(PREDICT_TYPENAME, { endpoint: 'ack', image: IMAGES[0]! });
      expect(predict.__typename).toBe('Prediction');
      expect(await reader.prisma.capture.count({ where: { endpointId: endpoint.id } })).toBe(37);
    } finally {
      await reader.close();
    }
  });

  it('reports the commit queue: depth, lag and a commit-latency histogram', async () => {
    const stats = server.app.commitStats();
    expect(stats).toMatchObject({ queued: 0, committing: 0, lagSeconds: 0, failed: 0, isolatedGroups: 0 });
    expect(stats.committed).toBeGreaterThanOrEqual(37);
    const { upperBounds, cumulativeCounts, count, sum } = stats.commitSeconds;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(count).toBeLessThanOrEqual(stats.committed);
    expect(sum).toBeGreaterThan(0);
    expect(cumulativeCounts.length).toBe(upperBounds.length);
    // cumulative: never decreasing, never above the count
    expect(cumulativeCounts.every((c, i) => c >= (cumulativeCounts[i - 1] ?? 0) && c <= count)).toBe(true);
  });
});
