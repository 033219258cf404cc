/**
 * The composition root: config → database (migrated) → event bus → models → services → schema →
 * server. main.ts runs it for the process; tests run it on a fresh database and a random port.
 */
import { readFileSync } from 'node:fs';
import { createAlerting } from './alerting/index.ts';
import { attackRoutes } from './attack/http.ts';
import { AttackService } from './attack/service.ts';
import { AdversarialStore } from './attack/store.ts';
import { anonymousPermitted, checkBinding } from './auth/binding.ts';
import { Gate } from './auth/gate.ts';
import { RateLimiter } from './auth/rate-limit.ts';
import { ApiKeyService } from './auth/service.ts';
import { ApiKeyStore } from './auth/store.ts';
import { captureRoutes } from './capture/http.ts';
import { CaptureService } from './capture/service.ts';
import { CaptureStore } from './capture/store.ts';
import type { Config } from './config.ts';
import { createContext, type Services } from './context.ts';
import { type DashboardBundle, dashboardBundler } from './dashboard/bundle.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { type Database, openDatabase } from './db/client.ts';
import { type Durability, SQLITE_SYNCHRONOUS } from './db/durability.ts';
import type { GroupCommitStats } from './db/group-commit.ts';
import { migrateDeploy } from './db/migrate/index.ts';
import { SqliteCheckpointer } from './db/sqlite-checkpointer.ts';
import { DebugHook } from './debugger/hook.ts';
import { saliencyRoutes } from './debugger/http.ts';
import { IncludeRegexResolver } from './debugger/include-regex.ts';
import { RegexGuard } from './debugger/regex-guard.ts';
import { SaliencyService } from './debugger/saliency.ts';
import { StepEncoder } from './debugger/step-encoder.ts';
import { TensorStore } from './debugger/store.ts';
import { TrialService } from './debugger/trial.ts';
import { EndpointService } from './endpoints/service.ts';
import { EndpointStore } from './endpoints/store.ts';
import { figureRoutes } from './figures/http.ts';
import { FigureService } from './figures/service.ts';
import { groundTruthRoutes } from './groundtruth/http.ts';
import { GroundTruthService } from './groundtruth/service.ts';
import { GroundTruthStore } from './groundtruth/store.ts';
import { invocationRoutes } from './inference/http.ts';
import { PredictionRecorder } from './inference/recorder.ts';
import { InferenceService } from './inference/service.ts';
import { createLogger, type Logger } from './logger.ts';
import { ModelCatalog } from './models/catalog.ts';
import { ModelRegistry } from './models/registry.ts';
import { InputReferences } from './monitor/baselines/references.ts';
import { BaselineStore } from './monitor/baselines/store.ts';
import { monitorRoutes } from './monitor/http.ts';
import { createMonitor } from './monitor/index.ts';
import { metricsRoutes } from './monitor/metrics/http.ts';
import { servingMetrics } from './monitor/metrics/serving.ts';
import { createEventBus, type EventBus } from './pubsub/bus.ts';
import type { EventMap } from './pubsub/events.ts';
import { StorageStore } from './retention/storage.ts';
import { RetentionStore } from './retention/store.ts';
import { RetentionSweeper } from './retention/sweeper.ts';
import { buildSchema } from './schema/index.ts';
import { createServer, type VigilServer } from './server/app.ts';
import { BackgroundProbe, type ReadinessCheck, readinessResults } from './server/health.ts';
import { RequestMetrics } from './server/request-metrics.ts';
import { settlesBefore } from './server/shutdown.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

export interface App {
  config: Config;
  logger: Logger;
  services: Services;
  database: Database;
  /** the event bus; `bus.metrics` has its counters and state for /metrics */
  bus: EventBus<EventMap>;
  server: VigilServer;
  /** deletes expired rows and deleted endpoints' data in the background; `sweep()` runs one sweep now */
  retention: RetentionSweeper;
  /** the capture writer's queue, commit latency and lag (for /metrics) */
  commitStats(): GroupCommitStats;
  /** the dashboard's browser bundle, built on first use (main.ts starts it after listening) */
  dashboard(): Promise<DashboardBundle>;
  /** starts listening; resolves to the bound port */
  listen(): Promise<number>;
  /**
   * Shuts down within SHUTDOWN_TIMEOUT_MS: readiness 503 and no new connections at once (the listening
   * socket is closed before the returned promise is, synchronously), subscriptions
   * ended, requests in flight answered (their captures committed), the scheduler stopped (a running
   * execution finishes, or is left to its lease if it does not by the deadline), then everything closed.
   */
  close(): Promise<void>;
}

/** of SHUTDOWN_TIMEOUT_MS, what is kept for closing the workers, the bus and the database after draining */
const CLOSE_RESERVE_MS = 1000;
/** how often the database is pinged for /readyz */
const DATABASE_PROBE_INTERVAL_MS = 2000;

export async function createApp(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<App> {
  const { applied } = await migrateDeploy(config.databaseUrl, { log: (line) => logger.debug(line) });
  if (applied.length) logger.info('applied migrations', { applied });
  const dbLogger = logger.child('database');
  const database = openDatabase(config.databaseUrl, {
    onQuery: config.onQuery,
    durability: config.durability,
    lockTimeoutMs: config.databaseLockTimeoutMs,
    onConnectionError: (error) =>
      dbLogger.warn('a database connection failed; the pool opens a new one', { cause: error.message }),
  });
  const checkpointer =
    database.target.provider === 'sqlite'
      ? await tuneSqlite(database, database.target.file, config.durability, logger.child('sqlite'))
      : undefined;

  const bus: EventBus<EventMap> = await createEventBus<EventMap>({
    redisUrl: config.redisUrl,
    logger: logger.child('pubsub'),
    subscriberLimits: config.subscriberBuffer,
  });
  const apiKeys = new ApiKeyService({
    store: new ApiKeyStore(database.prisma),
    pubsub: bus.pubsub,
    logger: logger.child('auth'),
    environmentKeys: config.apiKeys,
  });
  // Refuse an address others can reach before anything else starts, when no key would guard it.
  try {
    checkBinding(config, await apiKeys.anyKey());
  } catch (error) {
    await bus.close();
    await checkpointer?.stop();
    await database.close();
    throw error;
  }
  apiKeys.start();

  const models = new ModelCatalog(config.modelDir);
  const runtimes = new ModelRegistry(models, config.inferenceDevice, logger.child('models'), config.inferenceTuning);

  // user regular expressions run on this guard's worker thread, under a time limit
  const regexes = new RegexGuard();
  const includes = new IncludeRegexResolver({ guard: regexes, logger: logger.child('debugger') });
  const storage = new StorageStore(database.prisma);
  const endpoints = new EndpointService({
    store: new EndpointStore(database.prisma),
    measureStorage: (ids) => storage.usage(ids),
    pubsub: bus.pubsub,
    logger: logger.child('endpoints'),
    defaultModel: config.defaultModel,
    prepareModel: (model) => runtimes.prepare(model),
    resolveIncludeRegex: async (model, pattern) => {
      const entry = models.get(model);
      if (entry) await includes.resolve(entry.manifest, pattern);
    },
  });
  endpoints.start();
  // The default model loads at start: the first request does not pay for it, and /readyz reports it.
  if (models.has(config.defaultModel)) await runtimes.prepare(config.defaultModel);
  else {
    const found = models.list().map((m) => m.name);
    logger.warn(
      `DEFAULT_MODEL '${config.defaultModel}' is not in ${config.modelDir}: no model is loaded, and endpoints created without one are refused until it is there`,
      { models: found },
    );
  }
  const captureStore = new CaptureStore(database.prisma);
  const captures = new CaptureService({ store: captureStore, endpoints, models });
  const stepEncoder = new StepEncoder({ maxPending: config.queues.maxSteps });
  const recorder = new PredictionRecorder({
    prisma: database.prisma,
    logger: logger.child('capture'),
    hook: new DebugHook(database.prisma, stepEncoder),
    includedTensors: (model, pattern) => includes.stored(model, pattern),
    encoder: stepEncoder,
    maxPendingWrites: config.queues.maxWrites,
  });
  const references = new InputReferences(new BaselineStore(database.prisma));
  const inference = new InferenceService({
    endpoints,
    outliers: references,
    models: runtimes,
    recorder,
    pubsub: bus.pubsub,
    limits: { maxPixels: config.maxImagePixels, maxRequestDecodedBytes: config.maxRequestDecodedBytes },
    batch: config.batch,
    maxQueuedImages: config.queues.maxImages,
  });

  const tensorStore = new TensorStore(database.prisma);
  const trials = new TrialService({ store: tensorStore, endpoints, regexes, models });
  const saliency = new SaliencyService({
    store: tensorStore,
    captures: captureStore,
    models,
    runtimes,
    maxInputPixels: config.maxImagePixels,
  });

  const alerting = createAlerting({
    prisma: database.prisma,
    endpoints,
    settings: {
      retry: {
        baseMs: config.alerts.retryBaseMs,
        maxDelayMs: config.alerts.retryMaxMs,
        maxAttempts: config.alerts.maxAttempts,
        maxAgeMs: config.alerts.maxAgeMs,
      },
      timeoutMs: config.alerts.timeoutMs,
      pollIntervalMs: config.alerts.pollIntervalMs,
      destinations: { allowlist: config.alerts.urlAllowlist },
    },
    logger: logger.child('alerts'),
    instanceId: config.instanceId,
    userAgent: `vigil/${VERSION}`,
  });
  const groundTruthStore = new GroundTruthStore(database.prisma, database.provider);
  const groundTruth = new GroundTruthService({ store: groundTruthStore, models });
  const attacks = new AttackService({
    endpoints,
    runtimes,
    store: new AdversarialStore(database.prisma, config.attacks.maxStored),
    limits: { maxPixels: config.maxImagePixels },
    maxConcurrent: config.attacks.maxConcurrent,
  });

  const figures = new FigureService({
    saliency,
    captures,
    attacks,
    runtimes,
    maxInputPixels: config.maxImagePixels,
  });

  const monitor = createMonitor({
    prisma: database.prisma,
    labelled: groundTruthStore,
    provider: database.provider,
    endpoints,
    models,
    runtimes,
    pubsub: bus.pubsub,
    logger: logger.child('monitor'),
    instanceId: config.instanceId,
    schedulerIntervalMs: config.schedulerIntervalMs,
    limits: { maxPixels: config.maxImagePixels },
    baselineRoots: config.baselineRoots,
    barrier: () => recorder.barrier(),
    references,
    leaseMs: config.monitor.leaseMs,
    commitGraceMs: config.monitor.commitGraceMs ?? (database.provider === 'postgresql' ? 1000 : 0),
    testExecutionDelayMs: config.monitor.testExecutionDelayMs,
    outbox: alerting.outbox,
    externalChecks: config.externalChecks,
    captures,
  });

  const services: Services = {
    endpoints,
    captures,
    inference,
    models,
    runtimes,
    pubsub: bus.pubsub,
    monitor,
    trials,
    saliency,
    attacks,
    figures,
    apiKeys,
    alerting,
    groundTruth,
    info: {
      version: VERSION,
      databaseProvider: database.provider,
      eventBus: bus.kind,
      instanceId: config.instanceId,
    },
  };

  // /readyz reads the database's last answer; the question is asked in the background
  const databaseProbe = new BackgroundProbe(
    async () => ((await database.ping()) ? { ok: true } : { ok: false, detail: 'the database does not answer' }),
    { intervalMs: DATABASE_PROBE_INTERVAL_MS },
    logger.child('readiness'),
  );
  await databaseProbe.start();
  const readiness: ReadinessCheck[] = [
    { name: 'database', check: () => databaseProbe.current() },
    // migrateDeploy above applied every migration or the app did not start; the migrations folder is
    // fixed for the process's life, so this stays true without asking the schema engine again.
    {
      name: 'migrations',
      check: () => ({
        ok: true,
        detail: applied.length ? `applied at start: ${applied.join(', ')}` : 'none pending at start',
      }),
    },
    // degraded, not failed, without Redis: this replica still serves (bus.ts says why)
    { name: 'eventBus', check: () => bus.health() },
    {
      name: 'models',
      check: async () => {
        const loaded = await runtimes.loaded();
        return {
          ok: loaded.length > 0,
          detail: loaded.map((r) => `${r.entry.name} on ${r.provider}`).join(', ') || 'no model loaded',
        };
      },
    },
  ];
  const requests = new RequestMetrics();
  const serving = servingMetrics({
    requests,
    server: {
      get requestsInFlight() {
        return server.requestsInFlight;
      },
      get draining() {
        return server.draining;
      },
      get webSocketConnections() {
        return server.webSocket.connections;
      },
    },
    inference,
    encoder: stepEncoder,
    writer: recorder,
    readiness: () => readinessResults(readiness, logger.child('readiness')),
    eventBus: bus,
  });
  const dashboard = dashboardBundler();
  const server: VigilServer = createServer({
    ...config,
    schema: buildSchema(),
    // a subscription's events are bounded per connection: the bus disconnects it through its transport
    context: (identity, transport, signal) =>
      createContext(
        transport ? { ...services, pubsub: bus.pubsubFor(transport, services.pubsub) } : services,
        identity,
        signal,
      ),
    gate: new Gate(apiKeys, new RateLimiter(config.rateLimits), anonymousPermitted(config)),
    routes: [
      ...captureRoutes(captures),
      ...groundTruthRoutes(groundTruth, config),
      ...monitorRoutes(monitor),
      ...metricsRoutes([monitor.metrics, serving, alerting.metrics]),
      ...saliencyRoutes(trials, saliency),
      ...dashboardRoutes(dashboard),
      ...attackRoutes(attacks),
      ...figureRoutes(figures),
      ...invocationRoutes(inference, config.maxBodyBytes),
    ],
    readiness,
    metrics: requests,
    logger: logger.child('http'),
  });

  const retention = new RetentionSweeper({
    store: new RetentionStore(database.prisma),
    logger: logger.child('retention'),
    pubsub: bus.pubsub,
    intervalMs: config.retention.sweepIntervalMs,
    batchSize: config.retention.batchSize,
    pauseMs: config.retention.batchPauseMs,
  });

  monitor.scheduler.start();
  alerting.worker.start();
  retention.start();

  return {
    config,
    logger,
    services,
    database,
    bus,
    server,
    retention,
    commitStats: () => recorder.commitStats(),
    dashboard,
    listen: () => server.listen(config.port, config.host),
    async close() {
      const timeout = config.shutdownTimeoutMs;
      const deadline = performance.now() + Math.max(timeout - CLOSE_RESERVE_MS, timeout / 2);
      endpoints.stop();
      databaseProbe.stop();
      // the scheduler stops beside the drain: a running execution neither holds up requests nor the exit
      const schedulerStopped = monitor.scheduler.stop(Math.max(0, deadline - performance.now()));
      // the listening socket closes first (synchronously, inside server.close): a sweep in progress
      // must not keep accepting connections while it finishes
      const drained = server.close({ deadline });
      await retention.stop();
      await alerting.worker.stop();
      await drained;
      await apiKeys.stop();
      await recorder.idle();
      if (!(await settlesBefore(schedulerStopped, deadline)))
        logger.warn('shutdown: the running monitoring execution did not finish in time; its lease will expire');
      await stepEncoder.close();
      await regexes.close();
      await runtimes.close();
      await bus.close();
      await checkpointer?.stop();
      await database.close();
    },
  };
}

/**
 * WAL lets readers run beside the writer; `synchronous` follows DURABILITY (db/durability.ts: NORMAL
 * keeps committed data across a process kill, FULL across power loss); checkpoints run on a thread of
 * their own (sqlite-checkpointer.ts).
 */
async function tuneSqlite(
  database: Database,
  file: string,
  durability: Durability,
  logger: Logger,
): Promise<SqliteCheckpointer> {
  await database.prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await database.prisma.$executeRawUnsafe(`PRAGMA synchronous = ${SQLITE_SYNCHRONOUS[durability].name}`);
  return SqliteCheckpointer.start(database, { file, intervalMs: 200 }, logger);
}
