/**
 * Alerting: channels that carry monitoring alerts to people (webhooks, Slack), the outbox the monitor
 * writes deliveries into when an execution finishes with violations, and the worker that sends them.
 * Built by the composition root; `outbox` is what the monitor's execution store is handed.
 */
import type { Db } from '../db/prisma.ts';
import type { EndpointLookup } from '../endpoints/types.ts';
import type { Logger } from '../logger.ts';
import type { AlertOutbox } from '../monitor/alerts/types.ts';
import type { MetricSource } from '../monitor/metrics/prometheus.ts';
import { alertMetrics } from './metrics.ts';
import { AlertChannelService } from './service.ts';
import { AlertStore } from './store.ts';
import { type DeliverySettings, DeliveryWorker } from './worker.ts';

export interface Alerting {
  channels: AlertChannelService;
  worker: DeliveryWorker;
  outbox: AlertOutbox;
  /** per-channel backlog for /metrics */
  metrics: MetricSource;
}

export interface AlertingDeps {
  prisma: Db;
  endpoints: Pick<EndpointLookup, 'get'>;
  settings: DeliverySettings;
  logger: Logger;
  instanceId: string;
  userAgent: string;
}

export function createAlerting(deps: AlertingDeps): Alerting {
  const store = new AlertStore(deps.prisma);
  const worker = new DeliveryWorker({
    store,
    settings: deps.settings,
    logger: deps.logger,
    owner: deps.instanceId,
    userAgent: deps.userAgent,
  });
  return {
    channels: new AlertChannelService({
      store,
      worker,
      endpoints: deps.endpoints,
      destinations: deps.settings.destinations,
      owner: deps.instanceId,
    }),
    worker,
    outbox: { enqueue: (tx, alert) => store.enqueue(tx, alert, new Date(alert.at)) },
    metrics: alertMetrics(store),
  };
}
