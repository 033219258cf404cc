/** The Model Monitor's services, built by the composition root from shared infrastructure. */
import type { PubSub } from 'graphql-yoga';
import type { Db } from '../db/prisma.ts';
import type { EndpointService } from '../endpoints/service.ts';
import type { DecodeLimits } from '../inference/preprocess.ts';
import type { Logger } from '../logger.ts';
import type { ModelCatalog } from '../models/catalog.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { EventMap } from '../pubsub/events.ts';
import { BaselineService } from './baselines/service.ts';
import { ExecutionStore } from './executions/store.ts';
import { ExecutionService } from './executions/service.ts';
import { MetricService } from './metrics/service.ts';
import { MonitorScheduler } from './schedules/scheduler.ts';
import { ScheduleService } from './schedules/service.ts';
import { MonitorStore } from './schedules/store.ts';

export interface Monitor {
  baselines: BaselineService;
  schedules: ScheduleService;
  executions: ExecutionService;
  metrics: MetricService;
  scheduler: MonitorScheduler;
}

export interface MonitorDeps {
  prisma: Db;
  provider: 'sqlite' | 'postgresql';
  endpoints: Pick<EndpointService, 'get'>;
  models: ModelCatalog;
  runtimes: ModelRegistry;
  pubsub: PubSub<EventMap>;
  logger: Logger;
  instanceId: string;
  schedulerIntervalMs: number;
  limits: DecodeLimits;
  baselineRoots: readonly string[];
  /** resolves once this process's pending capture writes are committed */
  flush?: () => Promise<void>;
}

export function createMonitor(deps: MonitorDeps): Monitor {
  const store = new MonitorStore(deps.prisma);
  const executions = new ExecutionService({
    prisma: deps.prisma,
    provider: deps.provider,
    store,
    executions: new ExecutionStore(deps.prisma),
    pubsub: deps.pubsub,
    models: deps.models,
    logger: deps.logger,
    instanceId: deps.instanceId,
    flush: deps.flush,
  });
  return {
    baselines: new BaselineService({
      prisma: deps.prisma,
      provider: deps.provider,
      store,
      endpoints: deps.endpoints,
      runtimes: deps.runtimes,
      limits: deps.limits,
      baselineRoots: deps.baselineRoots,
      logger: deps.logger,
    }),
    schedules: new ScheduleService({ store, endpoints: deps.endpoints }),
    executions,
    metrics: new MetricService({ prisma: deps.prisma, models: deps.models }),
    scheduler: new MonitorScheduler({ store, executions, intervalMs: deps.schedulerIntervalMs, logger: deps.logger.child('scheduler') }),
  };
}
