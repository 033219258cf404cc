/** What resolvers reach through the GraphQL context: the services the composition root built. */
import type { PubSub } from 'graphql-yoga';
import type { CaptureService } from './capture/service.ts';
import type { SaliencyService } from './debugger/saliency.ts';
import type { TrialService } from './debugger/trial.ts';
import type { EndpointService } from './endpoints/service.ts';
import type { InferenceService } from './inference/service.ts';
import type { ModelRegistry } from './models/registry.ts';
import type { ModelCatalog } from './models/catalog.ts';
import type { Monitor } from './monitor/index.ts';
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
  /** saliency maps from stored tensors */
  saliency: SaliencyService;
}

export interface GraphQLContext {
  services: Services;
}
