/**
 * The GraphQL context: the services the composition root built (shared), the caller of the request
 * (its key and role, or anonymous), and the DataLoaders of one request (fresh per request), so that a
 * list of N rows loads each relation with one query, not N.
 */
import DataLoader from 'dataloader';
import type { PubSub } from 'graphql-yoga';
import type { Alerting } from './alerting/index.ts';
import type { AttackService } from './attack/service.ts';
import type { Identity } from './auth/roles.ts';
import type { ApiKeyService } from './auth/service.ts';
import type { CaptureService, CaptureView } from './capture/service.ts';
import type { SaliencyService } from './debugger/saliency.ts';
import type { StepRecord, TensorRecord } from './debugger/store.ts';
import type { TrialService } from './debugger/trial.ts';
import type { EndpointService } from './endpoints/service.ts';
import type { FigureService } from './figures/service.ts';
import type { GroundTruthService } from './groundtruth/service.ts';
import type { GroundTruthRecord } from './groundtruth/types.ts';
import type { InferenceService } from './inference/service.ts';
import type { ModelCatalog } from './models/catalog.ts';
import type { ModelRegistry } from './models/registry.ts';
import type { BaselineRecord } from './monitor/baselines/types.ts';
import type { Violation } from './monitor/checks/types.ts';
import type { ExecutionRecord } from './monitor/executions/types.ts';
import type { Monitor } from './monitor/index.ts';
import type { MetricPoint } from './monitor/metrics/types.ts';
import type { EventMap } from './pubsub/events.ts';

export interface ServerInfo {
  version: string;
  databaseProvider: string;
  eventBus: string;
  instanceId: string;
}

export interface Services {
  info: ServerInfo;
  endpoints: EndpointService;
  captures: CaptureService;
  inference: InferenceService;
  models: ModelCatalog;
  runtimes: ModelRegistry;
  pubsub: PubSub<EventMap>;
  /** Model Monitor: baselines, schedules, executions, metrics, scheduler */
  monitor: Monitor;
  /** the debugger's saved steps and tensors (smdebug's Trial) */
  trials: TrialService;
  /** API keys: created, revoked, listed; authentication reads them too */
  apiKeys: ApiKeyService;
  /** saliency maps from stored tensors */
  saliency: SaliencyService;
  /** alert channels and their deliveries */
  alerting: Alerting;
  /** the true classes of past predictions */
  groundTruth: GroundTruthService;
  /** adversarial images (createAdversarial), bounded by MAX_CONCURRENT_ATTACKS */
  attacks: AttackService;
  /** the write-up's figures as PNGs (saliency, adversarial, grid, comparison) */
  figures: FigureService;
}

/** one loader per relation that a list of rows resolves row by row */
export interface Loaders {
  capture: DataLoader<string, CaptureView | null>;
  /** a capture's request bytes: read only when a client selects them */
  captureInput: DataLoader<string, { data: Uint8Array; contentType: string | null } | null>;
  /** their size, without reading them */
  captureInputBytes: DataLoader<string, number | null>;
  debugStepOfCapture: DataLoader<string, StepRecord | null>;
  tensorsOfStep: DataLoader<string, TensorRecord[]>;
  baseline: DataLoader<string, BaselineRecord | null>;
  execution: DataLoader<string, ExecutionRecord | null>;
  violationsOfExecution: DataLoader<string, Violation[]>;
  metricsOfExecution: DataLoader<string, MetricPoint[]>;
  groundTruthOfCapture: DataLoader<string, GroundTruthRecord | null>;
}

export interface GraphQLContext {
  services: Services;
  /** who sent the request; the server's authorization plugin has checked its role for every root field */
  identity: Identity;
  /** aborted when the HTTP request's client disconnects: work not yet run for it is dropped */
  signal?: AbortSignal | undefined;
  loaders: Loaders;
}

export function createContext(services: Services, identity: Identity, signal?: AbortSignal): GraphQLContext {
  const { captures, trials, monitor, groundTruth } = services;
  return {
    services,
    identity,
    signal,
    loaders: {
      capture: batched((ids) => captures.getMany(ids), null),
      captureInput: batched((ids) => captures.inputsOf(ids), null),
      captureInputBytes: batched((ids) => captures.inputSizesOf(ids), null),
      debugStepOfCapture: batched((ids) => trials.stepsOfCaptures(ids), null),
      tensorsOfStep: batched((ids) => trials.tensorsOfSteps(ids), []),
      baseline: batched((ids) => monitor.baselines.getMany(ids), null),
      execution: batched((ids) => monitor.executions.getMany(ids), null),
      violationsOfExecution: batched((ids) => monitor.executions.violationsOf(ids), []),
      metricsOfExecution: batched((ids) => monitor.executions.metricsOf(ids), []),
      groundTruthOfCapture: batched((ids) => groundTruth.ofCaptures(ids), null),
    },
  };
}

/** a loader over a batch query that answers a map; keys it leaves out get `missing` */
function batched<Value, Missing extends Value | null>(
  load: (keys: readonly string[]) => Promise<Map<string, Value>>,
  missing: Missing,
): DataLoader<string, Value | Missing> {
  return new DataLoader(async (keys) => {
    const found = await load(keys);
    return keys.map((key) => found.get(key) ?? missing);
  });
}
