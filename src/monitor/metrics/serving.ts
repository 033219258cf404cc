/**
 * The serving metrics in /metrics, read at scrape time from the state each part already keeps (request
 * counters, queue lengths, histograms): GraphQL operations, errors by code and latency; inference
 * queue, shed images, batch sizes and run times; the debugger's encoder queue; the capture writer's
 * backlog, commit latency and lag; subscriptions and connections; readiness and the event bus.
 * docs/operations.md describes each family, with alert rules.
 */
import type { StepEncoder } from '../../debugger/step-encoder.ts';
import type { WriterStats } from '../../inference/recorder.ts';
import type { InferenceService } from '../../inference/service.ts';
import type { EventBusMetrics } from '../../pubsub/bus.ts';
import type { RequestMetrics } from '../../server/request-metrics.ts';
import type { Exposition, MetricSource } from './prometheus.ts';

export interface ServingSources {
  requests: RequestMetrics;
  server: { readonly requestsInFlight: number; readonly draining: boolean; readonly webSocketConnections: number };
  inference: Pick<InferenceService, 'queuedImages' | 'maxQueuedImages' | 'shedImages' | 'batchers'>;
  encoder: Pick<StepEncoder, 'pending' | 'maxPending'>;
  writer: WriterStats;
  /** each readiness check's answer (checks read state the server holds: cheap at scrape time) */
  readiness: () => Promise<readonly { name: string; ok: boolean }[]>;
  eventBus: { readonly metrics: Readonly<EventBusMetrics> };
}

export function servingMetrics(sources: ServingSources): MetricSource {
  return {
    async collect(out: Exposition) {
      collectRequests(out, sources.requests);
      const { server } = sources;
      out.add(
        'vigil_http_requests_in_flight',
        'HTTP requests in progress (open SSE streams included)',
        {},
        server.requestsInFlight,
      );
      out.add('vigil_websocket_connections', 'graphql-ws connections open', {}, server.webSocketConnections);
      for (const [transport, open] of Object.entries(sources.requests.subscriptions))
        out.add('vigil_subscriptions_active', 'Subscriptions open, by transport', { transport }, open);
      collectInference(out, sources.inference);
      out.add(
        'vigil_debugger_encoder_queued_steps',
        'Debug steps waiting for or in tensor encoding',
        {},
        sources.encoder.pending,
      );
      out.add(
        'vigil_debugger_encoder_queued_steps_limit',
        'Debug steps the encoder holds before refusing with UNAVAILABLE (MAX_QUEUED_STEPS)',
        {},
        sources.encoder.maxPending,
      );
      collectWriter(out, sources.writer);
      const checks = await sources.readiness();
      const ready = !server.draining && checks.every((c) => c.ok);
      out.add('vigil_ready', 'Whether /readyz answers 200 (1) or 503 (0)', {}, ready ? 1 : 0);
      for (const check of checks)
        out.add(
          'vigil_readiness_check',
          'Each readiness check: passing (1) or failing (0)',
          { check: check.name },
          check.ok ? 1 : 0,
        );
      out.add('vigil_shutting_down', 'Whether the server is draining after SIGTERM (1)', {}, server.draining ? 1 : 0);
      collectEventBus(out, sources.eventBus.metrics);
    },
  };
}

function collectRequests(out: Exposition, requests: RequestMetrics): void {
  for (const s of requests.operations()) {
    const labels = { operation: s.operation, type: s.type };
    out.add('vigil_graphql_requests_total', 'GraphQL operations executed or subscribed', labels, s.requests, 'counter');
  }
  for (const e of requests.errors()) {
    out.add(
      'vigil_graphql_errors_total',
      'GraphQL errors by operation and code: top-level errors and the typed errors root fields answer',
      { operation: e.operation, code: e.code },
      e.count,
      'counter',
    );
  }
  for (const s of requests.operations()) {
    if (s.type === 'subscription') continue;
    out.histogram(
      'vigil_graphql_request_duration_seconds',
      'Execution time of GraphQL queries and mutations',
      { operation: s.operation, type: s.type },
      s.seconds,
    );
  }
  out.add('vigil_graphql_operations_executing', 'GraphQL queries and mutations executing now', {}, requests.executing);
}

function collectInference(out: Exposition, inference: ServingSources['inference']): void {
  out.add(
    'vigil_inference_queued_images',
    'Images admitted and waiting for a model run (decoding, planning, in a batch queue)',
    {},
    inference.queuedImages,
  );
  out.add(
    'vigil_inference_queued_images_limit',
    'Images the inference queue holds before refusing with UNAVAILABLE (MAX_QUEUED_IMAGES)',
    {},
    inference.maxQueuedImages,
  );
  out.add(
    'vigil_inference_shed_images_total',
    'Images refused with UNAVAILABLE because the inference queue was full',
    {},
    inference.shedImages,
    'counter',
  );
  const batchers = [...inference.batchers()];
  for (const b of batchers)
    out.histogram(
      'vigil_inference_batch_size',
      'Images per onnxruntime run',
      { model: b.model, graph: b.graph },
      b.sizes,
    );
  for (const b of batchers) {
    out.histogram(
      'vigil_inference_batch_duration_seconds',
      'Time of one onnxruntime run',
      { model: b.model, graph: b.graph },
      b.seconds,
    );
  }
}

function collectWriter(out: Exposition, writer: ServingSources['writer']): void {
  out.add(
    'vigil_capture_writes_pending',
    "Requests' capture and debug rows waiting for their commit",
    {},
    writer.pending,
  );
  out.add(
    'vigil_capture_writes_pending_limit',
    'Uncommitted requests the capture writer holds before refusing with UNAVAILABLE (MAX_QUEUED_WRITES)',
    {},
    writer.maxPending,
  );
  // the group commit keeps these itself (db/group-commit.ts): read, not measured twice
  const commits = writer.commitStats();
  out.histogramSnapshot(
    'vigil_capture_commit_duration_seconds',
    'Time of each capture commit: a group transaction, or one request when a failed group is retried one by one',
    {},
    commits.commitSeconds,
  );
  out.add(
    'vigil_capture_commit_lag_seconds',
    'Seconds since the oldest request not yet committed handed its rows over (0 when none)',
    {},
    commits.lagSeconds,
  );
  out.add('vigil_capture_commits_total', 'Requests whose rows were committed', {}, commits.committed, 'counter');
  out.add('vigil_capture_write_failures_total', 'Requests whose rows failed to commit', {}, commits.failed, 'counter');
}

/** the bus keeps these itself (pubsub/bus.ts): read at scrape time */
function collectEventBus(out: Exposition, bus: Readonly<EventBusMetrics>): void {
  out.add('vigil_event_bus_info', 'The event bus subscriptions use (memory or redis)', { kind: bus.kind }, 1);
  out.add(
    'vigil_event_bus_state',
    'The event bus state: 1 for the current one (in-process, or the Redis connection state)',
    { state: bus.state },
    1,
  );
  out.add(
    'vigil_event_bus_redis_outages_total',
    'Times the connection to Redis was lost',
    {},
    bus.redisOutages,
    'counter',
  );
  out.add('vigil_event_bus_published_total', 'Events published on this replica', {}, bus.published, 'counter');
  out.add(
    'vigil_event_bus_fanned_out_total',
    'Events sent to Redis for the other replicas',
    {},
    bus.fannedOut,
    'counter',
  );
  out.add(
    'vigil_event_bus_fanout_failures_total',
    'Events not sent to Redis (unreachable): they reached this replica only',
    {},
    bus.fanoutFailed,
    'counter',
  );
  out.add('vigil_event_bus_received_total', 'Events received from other replicas', {}, bus.received, 'counter');
  out.add('vigil_event_bus_delivered_total', 'Events handed to subscribers', {}, bus.delivered, 'counter');
  out.add(
    'vigil_event_bus_dropped_subscribers_total',
    'Subscribers dropped as too slow (SUBSCRIBER_BUFFER_EVENTS / _BYTES)',
    {},
    bus.droppedSubscribers,
    'counter',
  );
  out.add('vigil_event_bus_subscribers', 'Subscribers now', {}, bus.subscribers);
  out.add('vigil_event_bus_buffered_events', "Events waiting in subscribers' queues", {}, bus.bufferedEvents);
  out.add(
    'vigil_event_bus_buffered_bytes',
    "Bytes of the events waiting in subscribers' queues",
    {},
    bus.bufferedBytes,
  );
}
