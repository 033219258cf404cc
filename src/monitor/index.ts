/**
 * The Model Monitor's services, built by the composition root from shared infrastructure: one store
 * per table group (baselines, schedules and their lease, executions, metrics, windows of captures),
 * and the services that take them.
 */
import type { PubSub } from 'graphql-yoga';
import type { Db } from '../db/prisma.ts';
import type { EndpointLookup } from '../endpoints/types.ts';
import type { LabelledWindows } from '../groundtruth/types.ts';
import type { DecodeLimits } from '../inference/preprocess.ts';
import type { Logger } from '../logger.ts';
import type { ModelCatalog } from '../models/catalog.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { EventMap } from '../pubsub/events.ts';
import type { AlertOutbox } from './alerts/types.ts';
import type { InputReferences } from './baselines/references.ts';
import { BaselineService } from './baselines/service.ts';
import { BaselineStore } from './baselines/store.ts';
import type { CaptureLines } from './checks/external/dataset.ts';
import { type ExternalCheckSettings, ExternalChecks } from './checks/external/runner.ts';
import { ExecutionService } from './executions/service.ts';
import { ExecutionStore } from './executions/store.ts';
import { MetricService } from './metrics/service.ts';
import { MetricStore } from './metrics/store.ts';
import { MonitorScheduler } from './schedules/scheduler.ts';
import { ScheduleService } from './schedules/service.ts';
import { ScheduleStore } from './schedules/store.ts';
import { InputSampleStore } from './windows/input-sample.ts';
import { WindowStore } from './windows/store.ts';

export interface Monitor {
  baselines: BaselineService;
  schedules: ScheduleService;
  executions: ExecutionService;
  metrics: MetricService;
  scheduler: MonitorScheduler;
  /** how windows are counted (the monitor benchmark compares the rollups with every capture) */
  windows: Pick<WindowStore, 'source'>;
}

export interface MonitorDeps {
  prisma: Db;
  provider: 'sqlite' | 'postgresql';
  endpoints: EndpointLookup;
  models: ModelCatalog;
  runtimes: ModelRegistry;
  pubsub: PubSub<EventMap>;
  logger: Logger;
  instanceId: string;
  schedulerIntervalMs: number;
  limits: DecodeLimits;
  baselineRoots: readonly string[];
  /** the labelled captures of a window (ground truth), for the model-quality check and baselines' accuracy */
  labelled: LabelledWindows;
  /** resolves once every capture this process stamped before the call is committed (or has failed) */
  barrier?: () => Promise<void>;
  /** schedule lease length; runs renew it every third of this */
  leaseMs?: number;
  /** how long after its cut-off a run waits for other replicas' captures to commit */
  commitGraceMs?: number;
  /** test only: a pause inside every run (VIGIL_TEST_EXECUTION_DELAY_MS) */
  testExecutionDelayMs?: number;
  /** where alerts are queued for delivery, in the transaction that finishes their execution */
  outbox?: AlertOutbox;
  /** the outlier scores' references (the inference service reads them), told of new and deleted baselines */
  references?: InputReferences;
  /** CHECKS_DIR and the external checks' limits */
  externalChecks: ExternalCheckSettings;
  /** the window's captures as JSON Lines, for the external checks' dataset_source */
  captures: CaptureLines;
}

export function createMonitor(deps: MonitorDeps): Monitor {
  const baselines = new BaselineStore(deps.prisma);
  const schedules = new ScheduleStore(deps.prisma);
  const windows = new WindowStore(deps.prisma, deps.provider);
  const inputs = new InputSampleStore(deps.prisma);
  const external = new ExternalChecks({
    settings: deps.externalChecks,
    captures: deps.captures,
    logger: deps.logger.child('external-checks'),
  });
  const executions = new ExecutionService({
    external,
    schedules,
    baselines,
    executions: new ExecutionStore(deps.prisma, deps.outbox),
    windows,
    inputs,
    endpoints: deps.endpoints,
    labelled: deps.labelled,
    pubsub: deps.pubsub,
    models: deps.models,
    logger: deps.logger,
    instanceId: deps.instanceId,
    barrier: deps.barrier,
    leaseMs: deps.leaseMs,
    commitGraceMs: deps.commitGraceMs,
    testDelayMs: deps.testExecutionDelayMs,
  });
  return {
    baselines: new BaselineService({
      baselines,
      windows,
      endpoints: deps.endpoints,
      runtimes: deps.runtimes,
      limits: deps.limits,
      baselineRoots: deps.baselineRoots,
      logger: deps.logger,
      labelled: deps.labelled,
      inputs,
      ...(deps.references && { references: deps.references }),
    }),
    schedules: new ScheduleService({ schedules, baselines, endpoints: deps.endpoints, external }),
    executions,
    metrics: new MetricService({ metrics: new MetricStore(deps.prisma), models: deps.models }),
    scheduler: new MonitorScheduler({
      schedules,
      executions,
      intervalMs: deps.schedulerIntervalMs,
      logger: deps.logger.child('scheduler'),
    }),
    windows,
  };
}
