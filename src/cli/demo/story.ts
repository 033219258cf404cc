/**
 * The write-up's story against a vigil server, step by step, through its public API only (GraphQL and
 * the figure URLs), so that it runs the same against the in-process server and a remote one:
 *
 *  1. an endpoint capturing a share of its requests, N clean images sent, a baseline of them, a
 *     schedule with the class-share check, run by hand → Completed;
 *  2. adversarial images toward Stop made from the clean ones (createAdversarial, DeepFool), sent,
 *     the schedule run again → CompletedWithViolations "Class 14 (Stop) predicted …", while a
 *     graphql-ws subscription receives the alert;
 *  3. the debugger hook turned on (updateEndpoint), one clean and one adversarial image sent, both
 *     explained (the adversarial one for Stop and for the clean image's class), the figures fetched.
 */
import { graphql, type ResultOf } from '../../graphql.ts';
import type { DemoClient } from './client.ts';
import { ProgressBar, type ProgressSink } from './progress.ts';

export const STOP = 14;

const CREATE_ENDPOINT = graphql(`
  mutation DemoCreateEndpoint($name: String!, $model: String, $sampling: Float!) {
    createEndpoint(input: { name: $name, model: $model, dataCapture: { enabled: true, samplingPercentage: $sampling } }) {
      __typename
      ... on Endpoint { name model }
      ... on VigilError { code message }
    }
  }
`);
const PREDICT = graphql(`
  mutation DemoPredict($endpoint: String!, $image: String!) {
    predict(endpoint: $endpoint, image: { base64: $image }) {
      __typename
      ... on Prediction { captureId predictedClass label confidence }
      ... on VigilError { code message }
    }
  }
`);
const CREATE_BASELINE = graphql(`
  mutation DemoCreateBaseline($endpoint: String!, $name: String!) {
    createBaseline(input: { endpoint: $endpoint, name: $name }) {
      __typename
      ... on Baseline { id name }
      ... on VigilError { code message }
    }
  }
`);
const CREATE_SCHEDULE = graphql(`
  mutation DemoCreateSchedule($name: String!, $endpoint: String!, $baseline: String!, $minSampleSize: Int!) {
    createMonitoringSchedule(input: {
      name: $name, endpoint: $endpoint, cron: "0 * * * *", baseline: $baseline,
      checks: {
        classShare: { enabled: true, threshold: 0.5 }
        lowConfidence: { enabled: false }
        drift: { enabled: false }
        minSampleSize: $minSampleSize
      }
    }) {
      __typename
      ... on MonitoringSchedule { name }
      ... on VigilError { code message }
    }
  }
`);
const RUN_SCHEDULE = graphql(`
  mutation DemoRunSchedule($name: String!) {
    runMonitoringSchedule(name: $name) {
      __typename
      ... on MonitoringExecution {
        id status message recordCount windowStart windowEnd insufficientData
        violations { check featureName constraintCheckType description }
        classes { classId label count share }
        classesChartUrl constraintViolations
      }
      ... on VigilError { code message }
    }
  }
`);
const ALERTS = graphql(`
  subscription DemoAlerts($endpoint: String!) {
    monitorAlerts(endpoint: $endpoint) {
      at schedule executionId status message recordCount windowStart windowEnd
      violations { check description }
    }
  }
`);
const ATTACK = graphql(`
  mutation DemoAttack($endpoint: String!, $image: String!, $method: AttackMethod!) {
    createAdversarial(input: { image: { base64: $image }, target: 14, endpoint: $endpoint, method: $method }) {
      __typename
      ... on Adversarial { id url figureUrl originalClass adversarialClass targetConfidence l2 linf iterations success }
      ... on UnavailableError { code message }
      ... on VigilError { code message }
    }
  }
`);
const HOOK_ON = graphql(`
  mutation DemoHookOn($name: String!) {
    updateEndpoint(name: $name, input: { debugHook: { enabled: true, collections: ["fullgrad"] } }) {
      __typename
      ... on Endpoint { name debugHook { enabled } }
      ... on VigilError { code message }
    }
  }
`);
const SALIENCY = graphql(`
  query DemoSaliency($id: ID!, $classId: Int) {
    saliency(captureId: $id, classId: $classId) {
      __typename
      ... on SaliencyMap {
        classId label figureUrl completenessResidual
        background { flagged max message }
      }
      ... on VigilError { code message }
    }
  }
`);
const COMPARE = graphql(`
  query DemoCompare($left: ComparisonSideInput!, $right: ComparisonSideInput!) {
    saliencyComparison(left: $left, right: $right) {
      __typename
      ... on Figure { url }
      ... on VigilError { code message }
    }
  }
`);
const GRID = graphql(`
  query DemoGrid($ids: [ID!]!, $columns: Int!) {
    predictionGrid(captureIds: $ids, columns: $columns) {
      __typename
      ... on Figure { url }
      ... on VigilError { code message }
    }
  }
`);

export type Execution = Extract<
  ResultOf<typeof RUN_SCHEDULE>['runMonitoringSchedule'],
  { __typename: 'MonitoringExecution' }
>;
export type Alert = ResultOf<typeof ALERTS>['monitorAlerts'];
type Explained = Extract<ResultOf<typeof SALIENCY>['saliency'], { __typename: 'SaliencyMap' }>;

export interface SourceImage {
  path: string;
  bytes: Buffer;
}

export interface StoryOptions {
  endpoint: string;
  model?: string | undefined;
  /** share of requests captured, 0–100 */
  sampling: number;
  method: 'DEEPFOOL' | 'PGD' | 'BIM' | 'FGSM';
  /** the images sent, in order (a file may repeat) */
  images: SourceImage[];
  /** distinct images attacked at most (spread over them); the adversarial traffic repeats the successful ones */
  attacks: number;
  /** requests in flight at once while sending */
  concurrency: number;
}

export interface Prediction {
  path: string;
  captureId: string | null;
  predictedClass: number;
  label: string;
  confidence: number;
}

/** an attack's answer, with the file attacked */
export type AttackOutcome = Extract<ResultOf<typeof ATTACK>['createAdversarial'], { __typename: 'Adversarial' }> & {
  path: string;
};

/** a figure the story fetched: where it is served, and a name for the report's file */
export interface FigureRef {
  name: string;
  url: string;
  title: string;
}

export interface StoryResult {
  endpoint: string;
  clean: Prediction[];
  adversarial: Prediction[];
  attacks: AttackOutcome[];
  executions: { clean: Execution; adversarial: Execution };
  alerts: Alert[];
  explained: {
    clean: Explained | null;
    adversarial: Explained | null;
    adversarialForCleanClass: Explained | null;
  };
  figures: FigureRef[];
  /** seconds per step */
  timings: Record<string, number>;
}

type Typed = { __typename: string; message?: string };

/** the value of a result union, or an Error with the server's message */
function expectType<T extends Typed, N extends T['__typename']>(value: T, name: N): Extract<T, { __typename: N }> {
  if (value.__typename !== name) throw new Error(`expected ${name}, got ${value.__typename}: ${value.message ?? ''}`);
  return value as Extract<T, { __typename: N }>;
}

/** runs `work` over items, `concurrency` at a time, results in item order */
async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

export async function runStory(client: DemoClient, options: StoryOptions, stderr: ProgressSink): Promise<StoryResult> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round((performance.now() - started) / 10) / 100;
    }
  };
  const say = (line: string) => stderr.write(`${line}\n`);
  const { endpoint } = options;
  const schedule = `${endpoint}-class-share`;

  const send = async (label: string, images: readonly SourceImage[]): Promise<Prediction[]> => {
    const bar = new ProgressBar(stderr, label, images.length);
    let captured = 0;
    return pool(images, options.concurrency, async (image) => {
      const { predict } = await client.request(PREDICT, { endpoint, image: image.bytes.toString('base64') });
      const p = expectType(predict, 'Prediction');
      if (p.captureId) captured++;
      bar.tick(`(${captured} captured)`);
      return {
        path: image.path,
        captureId: p.captureId,
        predictedClass: p.predictedClass,
        label: p.label,
        confidence: p.confidence,
      };
    });
  };

  // 1. the endpoint, clean traffic, a baseline, the schedule, the first run
  await timed('setup', async () => {
    const { createEndpoint } = await client.request(CREATE_ENDPOINT, {
      name: endpoint,
      model: options.model ?? null,
      sampling: options.sampling,
    });
    expectType(createEndpoint, 'Endpoint');
    say(`endpoint ${endpoint}: ${options.sampling}% of requests captured`);
  });
  const clean = await timed('sendClean', () => send('clean images', options.images));
  const expectedCaptures = Math.round((options.images.length * options.sampling) / 100);
  const minSampleSize = Math.max(1, Math.min(30, Math.floor(expectedCaptures / 2)));
  await timed('baselineAndSchedule', async () => {
    const { createBaseline } = await client.request(CREATE_BASELINE, { endpoint, name: `${endpoint}-baseline` });
    const baseline = expectType(createBaseline, 'Baseline');
    const { createMonitoringSchedule } = await client.request(CREATE_SCHEDULE, {
      name: schedule,
      endpoint,
      baseline: baseline.name,
      minSampleSize,
    });
    expectType(createMonitoringSchedule, 'MonitoringSchedule');
    say(`baseline ${baseline.name} of the clean captures; schedule ${schedule}: class share over 50% is a violation`);
  });
  const cleanRun = await timed('runClean', async () => {
    const { runMonitoringSchedule } = await client.request(RUN_SCHEDULE, { name: schedule });
    return expectType(runMonitoringSchedule, 'MonitoringExecution');
  });
  say(`run 1 (clean traffic): ${cleanRun.status}, ${cleanRun.recordCount} captures: ${cleanRun.message}`);

  // 2. the alert subscription, the attack, adversarial traffic, the second run
  const alerts: Alert[] = [];
  let alertArrived!: () => void;
  const firstAlert = new Promise<void>((resolve) => (alertArrived = resolve));
  const unsubscribe = await client.subscribe(
    ALERTS,
    { endpoint },
    ({ monitorAlerts }) => {
      alerts.push(monitorAlerts);
      say(`ALERT (graphql-ws monitorAlerts) ${monitorAlerts.message}`);
      alertArrived();
    },
    (error) => say(`alert subscription: ${error instanceof Error ? error.message : String(error)}`),
  );

  const all = [...new Map(options.images.map((image) => [image.path, image])).values()];
  const distinct =
    all.length <= options.attacks
      ? all
      : Array.from({ length: options.attacks }, (_, i) => all[Math.floor((i * all.length) / options.attacks)]!);
  const attacks = await timed('attack', async () => {
    const bar = new ProgressBar(stderr, `adversarial (${options.method.toLowerCase()})`, distinct.length);
    let reached = 0;
    // one at a time: the server runs MAX_CONCURRENT_ATTACKS (default 1) and refuses more
    return pool(distinct, 1, async (image) => {
      for (;;) {
        const { createAdversarial } = await client.request(ATTACK, {
          endpoint,
          image: image.bytes.toString('base64'),
          method: options.method,
        });
        if (createAdversarial.__typename === 'UnavailableError') {
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        const a = expectType(createAdversarial, 'Adversarial');
        if (a.success) reached++;
        bar.tick(`(${reached} reached Stop)`);
        return { path: image.path, ...a };
      }
    });
  });
  const successful = attacks.filter((a) => a.success);
  if (!successful.length) throw new Error('no adversarial image reached class 14: nothing to send');
  const adversarialImages = await timed('fetchAdversarial', async () => {
    const bytes = new Map(await Promise.all(successful.map(async (a) => [a.path, await client.get(a.url)] as const)));
    // as many adversarial requests as clean ones, made from the successful images in turn
    return options.images.map((_, i) => {
      const a = successful[i % successful.length]!;
      return { path: a.url, bytes: bytes.get(a.path)! };
    });
  });
  const adversarial = await timed('sendAdversarial', () => send('adversarial images', adversarialImages));
  const attackedRun = await timed('runAdversarial', async () => {
    const { runMonitoringSchedule } = await client.request(RUN_SCHEDULE, { name: schedule });
    return expectType(runMonitoringSchedule, 'MonitoringExecution');
  });
  say(
    `run 2 (adversarial traffic): ${attackedRun.status}, ${attackedRun.recordCount} captures: ${attackedRun.message}`,
  );
  if (attackedRun.status === 'CompletedWithViolations')
    await Promise.race([firstAlert, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  unsubscribe();

  // 3. the hook on, one clean and one adversarial image captured with their tensors, explained
  const explained = await timed('explain', async () => {
    const { updateEndpoint } = await client.request(HOOK_ON, { name: endpoint });
    expectType(updateEndpoint, 'Endpoint');
    say('debugger hook on (collection fullgrad)');
    // the smallest successful perturbation of an image the model was sure of (≥ 90%), and not Stop already
    const confidence = new Map(clean.map((p) => [p.path, p.confidence]));
    const candidates = successful.filter((a) => a.originalClass !== STOP).sort((a, b) => a.l2 - b.l2);
    const chosen = candidates.find((a) => (confidence.get(a.path) ?? 0) >= 0.9) ?? candidates[0] ?? successful[0]!;
    const cleanBytes = options.images.find((image) => image.path === chosen.path)!.bytes;
    const adversarialBytes = adversarialImages[successful.indexOf(chosen)]!.bytes;
    const capturedOnce = async (bytes: Buffer): Promise<string | null> => {
      // sampled at the endpoint's share: sent again until one is captured
      for (let attempt = 0; attempt < 30; attempt++) {
        const { predict } = await client.request(PREDICT, { endpoint, image: bytes.toString('base64') });
        const id = expectType(predict, 'Prediction').captureId;
        if (id) return id;
      }
      return null;
    };
    const cleanId = await capturedOnce(cleanBytes);
    const adversarialId = await capturedOnce(adversarialBytes);
    const explain = async (id: string | null, classId?: number) => {
      if (!id) return null;
      const { saliency } = await client.request(SALIENCY, { id, classId: classId ?? null });
      return expectType(saliency, 'SaliencyMap');
    };
    const result = {
      chosen,
      cleanId,
      adversarialId,
      clean: await explain(cleanId),
      adversarial: await explain(adversarialId),
      adversarialForCleanClass: await explain(adversarialId, chosen.originalClass),
    };
    say(
      `explained: clean image as '${result.clean?.classId}' (${result.clean?.label}), adversarial as '${result.adversarial?.classId}' (${result.adversarial?.label})`,
    );
    return result;
  });

  const figures = await timed('figures', async () => {
    const list: FigureRef[] = [];
    const gridOf = async (predictions: Prediction[], name: string, title: string) => {
      // one capture of each distinct image, at most 12
      const byImage = new Map<string, string>();
      for (const p of predictions) if (p.captureId && !byImage.has(p.path)) byImage.set(p.path, p.captureId);
      const ids = [...byImage.values()].slice(0, 12);
      if (!ids.length) return;
      const { predictionGrid } = await client.request(GRID, { ids, columns: 6 });
      list.push({ name, url: expectType(predictionGrid, 'Figure').url!, title });
    };
    await gridOf(clean, 'grid-clean.png', 'Clean test images, titled with the predicted sign');
    list.push({
      name: 'class-counts-clean.png',
      url: cleanRun.classesChartUrl,
      title: 'Predicted classes in the first window (clean traffic)',
    });
    list.push({
      name: 'adversarial.png',
      url: explained.chosen.figureUrl,
      title: 'Original | adversarial | difference (symmetric scale)',
    });
    await gridOf(adversarial, 'grid-adversarial.png', 'Adversarial images, titled with the predicted sign');
    list.push({
      name: 'class-counts-adversarial.png',
      url: attackedRun.classesChartUrl,
      title: 'Predicted classes in the second window (adversarial traffic)',
    });
    if (explained.clean?.figureUrl)
      list.push({ name: 'saliency-clean.png', url: explained.clean.figureUrl, title: 'Saliency of the clean image' });
    if (explained.adversarial?.figureUrl)
      list.push({
        name: 'saliency-adversarial.png',
        url: explained.adversarial.figureUrl,
        title: 'Saliency of the adversarial image (for Stop)',
      });
    if (explained.cleanId && explained.adversarialId) {
      const { saliencyComparison } = await client.request(COMPARE, {
        left: { captureId: explained.cleanId, classId: explained.chosen.originalClass, heading: 'Clean' },
        right: { captureId: explained.adversarialId, classId: STOP, heading: 'Adversarial' },
      });
      list.push({
        name: 'comparison.png',
        url: expectType(saliencyComparison, 'Figure').url!,
        title: 'Clean (its class) versus adversarial (Stop), side by side',
      });
    }
    return list;
  });

  return {
    endpoint,
    clean,
    adversarial,
    attacks,
    executions: { clean: cleanRun, adversarial: attackedRun },
    alerts,
    explained: {
      clean: explained.clean,
      adversarial: explained.adversarial,
      adversarialForCleanClass: explained.adversarialForCleanClass,
    },
    figures,
    timings,
  };
}
