/**
 * The soak's clients: closed loops of `predict` (single images) and `predictBatch` (2–5 images), each
 * request sent to the replicas in turn. Every answer is recorded: the capture ids it acknowledged
 * (with the replica that served it and when), or why it failed (a refused or reset connection while a
 * replica is down, UNAVAILABLE when the server sheds or its database is away, anything else by code).
 */
import { graphql } from '../../src/graphql.ts';
import { GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { sleep } from '../helpers/wait.ts';
import type { Replica } from './cluster.ts';

export const ENDPOINT = 'soak';

const PREDICT = graphql(`
  mutation SoakPredict($image: String!) {
    predict(endpoint: "soak", image: { base64: $image }) {
      __typename
      ... on Prediction { captureId }
      ... on VigilError { code message }
    }
  }
`);
const PREDICT_BATCH = graphql(`
  mutation SoakPredictBatch($images: [ImageInput!]!) {
    predictBatch(endpoint: "soak", images: $images) {
      __typename
      ... on PredictBatch { predictions { __typename ... on Prediction { captureId } ... on VigilError { code } } }
      ... on VigilError { code message }
    }
  }
`);

/** different classes, so that the windows are not one class */
const IMAGES = ['warning_triangle.png', 'stop_like_octagon.png', 'blue_arrow_circle.jpg', 'speed_ring.ppm'].map((f) =>
  fixture(f).toString('base64'),
);

/** an acknowledged capture: answered with its id by `instanceId`, sent at `sentAt`, answered at `answeredAt` */
export interface Acknowledged {
  captureId: string;
  instanceId: string;
  sentAt: number;
  answeredAt: number;
}

export interface TrafficStats {
  requests: number;
  ok: number;
  /** images answered with a prediction */
  predictions: number;
  acknowledged: Acknowledged[];
  /** failed requests by cause */
  failed: Record<string, number>;
  /** images of requests whose connection broke before an answer (stored or not: nobody knows) */
  unansweredImages: number;
  /** not sent: the replica's process was down (no connection to make) */
  skipped: number;
}

export function newTrafficStats(): TrafficStats {
  return { requests: 0, ok: 0, predictions: 0, acknowledged: [], failed: {}, unansweredImages: 0, skipped: 0 };
}

export function failedCount(stats: TrafficStats): number {
  return Object.values(stats.failed).reduce((a, b) => a + b, 0);
}

/** why a fetch threw: the connection's error code (ECONNREFUSED, ECONNRESET, …) or its message */
function connectionCause(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return `connection ${cause?.code ?? (error instanceof Error ? error.message : String(error))}`;
}

/** Starts `clients` loops; the returned function stops them and resolves when the last answer is in. */
export function startTraffic(replicas: readonly Replica[], clients: number, stats: TrafficStats): () => Promise<void> {
  let stopped = false;
  const fail = (cause: string) => (stats.failed[cause] = (stats.failed[cause] ?? 0) + 1);
  const loop = async (client: number) => {
    for (let n = client; !stopped; n++) {
      const live = replicas[n % replicas.length]!.live;
      if (!live) {
        stats.skipped++;
        await sleep(50);
        continue;
      }
      const graphqlClient = new GraphQLClient(`${live.server.url}/graphql`);
      const batch = n % 3 === 2; // a third of the requests are batches
      const size = batch ? 2 + (n % 4) : 1;
      const sentAt = Date.now();
      stats.requests++;
      try {
        const ids: (string | null)[] = [];
        let code: string | undefined;
        if (batch) {
          const images = Array.from({ length: size }, (_, i) => ({ base64: IMAGES[(n + i) % IMAGES.length]! }));
          const result = await graphqlClient.request(PREDICT_BATCH, { images });
          const answer = result.data?.predictBatch;
          if (answer?.__typename === 'PredictBatch') {
            for (const item of answer.predictions) {
              if (item.__typename === 'Prediction') ids.push(item.captureId);
              else code = `item ${item.__typename}`;
            }
          } else code = answer && 'code' in answer ? answer.code : topLevel(result.errors);
        } else {
          const result = await graphqlClient.request(PREDICT, { image: IMAGES[n % IMAGES.length]! });
          const answer = result.data?.predict;
          if (answer?.__typename === 'Prediction') ids.push(answer.captureId);
          else code = answer && 'code' in answer ? answer.code : topLevel(result.errors);
        }
        const answeredAt = Date.now();
        stats.predictions += ids.length;
        for (const captureId of ids)
          if (captureId) stats.acknowledged.push({ captureId, instanceId: live.instanceId, sentAt, answeredAt });
        if (code) {
          fail(code);
          if (code === 'UNAVAILABLE') await sleep(200);
        } else stats.ok++;
      } catch (error) {
        fail(connectionCause(error));
        stats.unansweredImages += size;
        await sleep(50);
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, i) => loop(i));
  return async () => {
    stopped = true;
    await Promise.all(loops);
  };
}

function topLevel(errors: { extensions?: Record<string, unknown> }[] | undefined): string {
  const code = errors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : `no answer ${JSON.stringify(errors)?.slice(0, 80)}`;
}
