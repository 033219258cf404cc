/**
 * Environment variables, parsed and validated once at start. Every setting has a documented default
 * (README "Configuration"); a bad value stops the process with a message naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseHostList } from './alerting/destination.ts';
import { parseRateLimit, type RateLimit, type RateLimits } from './auth/rate-limit.ts';
import { type EnvironmentKey, parseApiKeys } from './auth/secrets.ts';
import { DURABILITY_LEVELS, type Durability } from './db/durability.ts';
import { isOneOf } from './guards.ts';

export type InferenceDevice = 'auto' | 'cpu' | 'cuda' | 'webgpu';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * onnxruntime's intra-op threads: how many (its default: one per core) and whether they spin-wait
 * for the next parallel section. Spinning wins for back-to-back runs alone on a machine (raw
 * throughput ~5 % higher here) but steals a core from decoding and HTTP between a server's batches,
 * so a server does not spin by default (bench/inference.ts measures both).
 */
export interface SessionTuning {
  threads?: number | undefined;
  spinWait?: boolean;
}

export interface Config {
  port: number;
  /** listen address: 127.0.0.1 unless HOST says otherwise (another address needs a key, src/auth/binding.ts) */
  host: string;
  /** keys of API_KEYS, validated */
  apiKeys: EnvironmentKey[];
  /** ALLOW_ANONYMOUS=true: serve anonymous callers on a non-loopback HOST while no key exists */
  allowAnonymous: boolean;
  /** per role (and per address for anonymous callers); null: no limit */
  rateLimits: RateLimits;
  databaseUrl: string;
  /** what an acknowledged write survives (db/durability.ts): `normal` a process crash, `strict` also power loss */
  durability: Durability;
  /** how long a write waits for a lock another connection holds before failing with UNAVAILABLE */
  databaseLockTimeoutMs: number;
  redisUrl: string | undefined;
  modelDir: string;
  defaultModel: string;
  inferenceDevice: InferenceDevice;
  /** onnxruntime's threads per session and whether they spin between runs */
  inferenceTuning: SessionTuning;
  logLevel: LogLevel;
  /** GraphiQL (NODE_ENV is not `production`) */
  development: boolean;
  /** schema introspection: in development, or INTROSPECTION=true */
  introspection: boolean;
  /** browser origins allowed to call the API cross-origin (CORS) and to open its WebSocket; exact matches */
  corsOrigins: string[];
  maxBodyBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
  /** a GraphQL document of more UTF-8 bytes than this is refused before it is parsed */
  maxDocumentBytes: number;
  /** a GraphQL document of more tokens than this is refused while it is parsed */
  maxQueryTokens: number;
  /** the parsed-document cache: entries, and their estimated bytes */
  parseCache: { maxEntries: number; maxBytes: number };
  /** graphql-ws: connections in all and per remote address, operations at once per connection */
  webSocket: {
    maxConnections: number;
    maxConnectionsPerAddress: number;
    maxConnectionsPerKey: number;
    maxOperationsPerConnection: number;
  };
  batch: { maxSize: number; maxWaitMs: number };
  /**
   * Bounds on queued work, each refused beyond with UNAVAILABLE (503, Retry-After): images waiting for a
   * model run, debug steps waiting for the tensor encoder, requests' rows waiting for their commit.
   */
  queues: { maxImages: number; maxSteps: number; maxWrites: number };
  /**
   * createAdversarial: attacks running at once (each holds the model for up to its iterations' runs; one
   * more is refused with UNAVAILABLE), and the adversarial images kept (older ones are deleted)
   */
  attacks: { maxConcurrent: number; maxStored: number };
  /** SIGTERM: in-flight requests may finish for this long; then the process exits whatever still runs */
  shutdownTimeoutMs: number;
  /** events (and their serialized bytes) waiting for one subscriber before it is dropped as too slow */
  subscriberBuffer: { maxEvents: number; maxBytes: number };
  /** image decode guard: width × height above this is rejected before decoding */
  maxImagePixels: number;
  /** the RGB bytes the distinct images of one request decode to, at most (from their headers) */
  maxRequestDecodedBytes: number;
  /** the only directories (and their subdirectories) a baseline may read images from */
  baselineRoots: string[];
  /**
   * external checks (src/monitor/checks/external): CHECKS_DIR, the one directory whose scripts a
   * schedule may run (null, unset: external checks are off), and each run's limits
   */
  externalChecks: { dir: string | null; timeoutMs: number; maxOutputBytes: number; maxCaptures: number };
  schedulerIntervalMs: number;
  /**
   * the retention sweeper: how often it runs, the rows one DELETE statement removes at most, and the
   * pause after each statement (src/retention/sweeper.ts)
   */
  retention: { sweepIntervalMs: number; batchSize: number; batchPauseMs: number };
  monitor: {
    /** a schedule lease's length; a run renews it every third of this, and a stopped run's lease expires after it */
    leaseMs: number;
    /**
     * how long after its cut-off a run waits before counting, for captures other replicas stamped before
     * the cut-off to commit; undefined: 0 on SQLite, 1000 on PostgreSQL (where replicas share the database)
     */
    commitGraceMs: number | undefined;
    /** test only (VIGIL_TEST_EXECUTION_DELAY_MS): a pause inside every run, to make runs long */
    testExecutionDelayMs: number;
  };
  /** alert channels' deliveries (src/alerting) */
  alerts: {
    /**
     * ALERT_URL_ALLOWLIST: empty, a channel may send to any host whose every address is public, over
     * https; set, only to the hosts listed (over http or https), which may be private or loopback
     */
    urlAllowlist: string[];
    /** one request's time limit */
    timeoutMs: number;
    /** attempts per delivery, the first included */
    maxAttempts: number;
    /** no attempt starts later than this after the alert */
    maxAgeMs: number;
    /** the delay after the first failure; it doubles per attempt (with jitter) up to retryMaxMs */
    retryBaseMs: number;
    retryMaxMs: number;
    /** how often each replica looks for due deliveries */
    pollIntervalMs: number;
  };
  /** identifies this process in scheduler leases */
  instanceId: string;
  /** called with each SQL statement sent to the database (tests count queries); never read from the environment */
  onQuery?: (sql: string, durationMs: number) => void;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!isOneOf(allowed, raw)) throw new ConfigError(`${key}=${raw}: expected one of ${allowed.join(', ')}`);
  return raw;
}

/**
 * CORS_ORIGINS: comma-separated origins (`https://dashboard.example.com`), each compared exactly with a
 * request's Origin header. A wildcard is refused: it would let any page call the API with the caller's
 * credentials.
 */
function corsOrigins(env: Env): string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((origin) => {
      if (origin === '*' || origin.includes('*'))
        throw new ConfigError(`CORS_ORIGINS=${raw}: list each origin exactly (no wildcard)`);
      const parsed = URL.canParse(origin) ? new URL(origin) : undefined;
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
        throw new ConfigError(
          `CORS_ORIGINS: '${origin}' is not an origin: expected scheme://host[:port], e.g. https://dashboard.example.com`,
        );
      }
      return origin;
    });
}

function databaseUrl(env: Env): string {
  const raw = env.DATABASE_URL?.trim() || 'file:./data/vigil.db';
  if (!/^(file:|postgres(ql)?:\/\/)/.test(raw)) {
    throw new ConfigError(`DATABASE_URL=${raw}: expected file:<path> (SQLite) or postgresql://… (PostgreSQL)`);
  }
  return raw;
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  if (!/^rediss?:\/\//.test(raw)) throw new ConfigError(`REDIS_URL=${raw}: expected redis://host:port`);
  return raw;
}

function apiKeys(env: Env): EnvironmentKey[] {
  try {
    return parseApiKeys(env.API_KEYS);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** RATE_LIMIT_<ROLE>: see RATE_LIMIT_SYNTAX; the defaults admit any reasonable client and stop floods */
export const DEFAULT_RATE_LIMITS: Readonly<Record<keyof RateLimits, string>> = {
  admin: '50/s,burst=100',
  invoke: '200/s,burst=400',
  read: '100/s,burst=200',
  anonymous: '1000/s,burst=2000',
};

function rateLimit(env: Env, limitClass: keyof RateLimits): RateLimit | null {
  const key = `RATE_LIMIT_${limitClass.toUpperCase()}`;
  const raw = env[key]?.trim() || DEFAULT_RATE_LIMITS[limitClass];
  try {
    return parseRateLimit(raw);
  } catch (error) {
    throw new ConfigError(`${key}=${raw}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** BASELINE_ROOTS: `:`-separated directories; by default the model folder and ./data/baselines */
function baselineRoots(env: Env): string[] {
  const raw = env.BASELINE_ROOTS?.trim();
  const roots = raw
    ? raw.split(':').filter(Boolean)
    : [env.MODEL_DIR?.trim() || 'models', path.join('data', 'baselines')];
  return roots.map((root) => path.resolve(root));
}

/**
 * CHECKS_DIR: the directory of external checks' scripts, which must exist; unset, external checks are
 * off (running code is something an administrator turns on)
 */
function checksDir(env: Env): string | null {
  const raw = env.CHECKS_DIR?.trim();
  if (!raw) return null;
  const dir = path.resolve(raw);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new ConfigError(`CHECKS_DIR=${raw}: not a directory (it must exist: it holds the scripts)`);
  return dir;
}

function alerts(env: Env): Config['alerts'] {
  let urlAllowlist: string[];
  try {
    urlAllowlist = parseHostList(env.ALERT_URL_ALLOWLIST);
  } catch (error) {
    throw new ConfigError(`ALERT_URL_ALLOWLIST=${env.ALERT_URL_ALLOWLIST}: ${(error as Error).message}`);
  }
  const retryBaseMs = integer(env, 'ALERT_RETRY_BASE_MS', 5000, 10, 3_600_000);
  const retryMaxMs = integer(env, 'ALERT_RETRY_MAX_MS', 15 * 60_000, 10, 24 * 3_600_000);
  if (retryMaxMs < retryBaseMs)
    throw new ConfigError(`ALERT_RETRY_MAX_MS=${retryMaxMs}: expected at least ALERT_RETRY_BASE_MS (${retryBaseMs})`);
  return {
    urlAllowlist,
    timeoutMs: integer(env, 'ALERT_TIMEOUT_MS', 10_000, 100, 120_000),
    maxAttempts: integer(env, 'ALERT_MAX_ATTEMPTS', 12, 1, 100),
    maxAgeMs: integer(env, 'ALERT_MAX_AGE_MS', 24 * 3_600_000, 1000, 30 * 24 * 3_600_000),
    retryBaseMs,
    retryMaxMs,
    pollIntervalMs: integer(env, 'ALERT_POLL_INTERVAL_MS', 1000, 20, 60_000),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const development = env.NODE_ENV !== 'production';
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    apiKeys: apiKeys(env),
    allowAnonymous: oneOf(env, 'ALLOW_ANONYMOUS', ['true', 'false'] as const, 'false') === 'true',
    rateLimits: {
      admin: rateLimit(env, 'admin'),
      invoke: rateLimit(env, 'invoke'),
      read: rateLimit(env, 'read'),
      anonymous: rateLimit(env, 'anonymous'),
    },
    databaseUrl: databaseUrl(env),
    durability: oneOf(env, 'DURABILITY', DURABILITY_LEVELS, 'normal'),
    databaseLockTimeoutMs: integer(env, 'DATABASE_LOCK_TIMEOUT_MS', 10_000, 100, 600_000),
    redisUrl: redisUrl(env),
    modelDir: path.resolve(env.MODEL_DIR?.trim() || 'models'),
    defaultModel: env.DEFAULT_MODEL?.trim() || 'gtsrb-resnet18',
    inferenceDevice: oneOf(env, 'INFERENCE_DEVICE', ['auto', 'cpu', 'cuda', 'webgpu'] as const, 'auto'),
    inferenceTuning: {
      threads: integer(env, 'INFERENCE_THREADS', 0, 0, 1024) || undefined,
      spinWait: oneOf(env, 'INFERENCE_SPIN_WAIT', ['true', 'false'] as const, 'false') === 'true',
    },
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    development,
    introspection: oneOf(env, 'INTROSPECTION', ['true', 'false'] as const, 'false') === 'true' || development,
    corsOrigins: corsOrigins(env),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxQueryDepth: integer(env, 'MAX_QUERY_DEPTH', 12, 2, 100),
    maxQueryCost: integer(env, 'MAX_QUERY_COST', 20000, 100, 10_000_000),
    maxDocumentBytes: integer(env, 'MAX_DOCUMENT_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    maxQueryTokens: integer(env, 'MAX_QUERY_TOKENS', 2000, 100, 1_000_000),
    parseCache: {
      maxEntries: integer(env, 'PARSE_CACHE_ENTRIES', 1000, 0, 1_000_000),
      maxBytes: integer(env, 'PARSE_CACHE_BYTES', 16 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    },
    webSocket: {
      maxConnections: integer(env, 'WS_MAX_CONNECTIONS', 1000, 1, 1_000_000),
      maxConnectionsPerAddress: integer(env, 'WS_MAX_CONNECTIONS_PER_ADDRESS', 50, 1, 1_000_000),
      maxConnectionsPerKey: integer(env, 'WS_MAX_CONNECTIONS_PER_KEY', 100, 1, 1_000_000),
      maxOperationsPerConnection: integer(env, 'WS_MAX_OPERATIONS_PER_CONNECTION', 32, 1, 100_000),
    },
    subscriberBuffer: {
      maxEvents: integer(env, 'SUBSCRIBER_BUFFER_EVENTS', 256, 1, 1_000_000),
      maxBytes: integer(env, 'SUBSCRIBER_BUFFER_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    },
    batch: {
      maxSize: integer(env, 'BATCH_MAX_SIZE', 16, 1, 1024),
      maxWaitMs: integer(env, 'BATCH_MAX_WAIT_MS', 3, 0, 1000),
    },
    // ~2 s of work at the ~150 images/s two cores serve (ARCHITECTURE.md, Benchmarks): a request admitted
    // behind a full queue is still answered well inside a client's timeout. Scale with throughput.
    queues: {
      maxImages: integer(env, 'MAX_QUEUED_IMAGES', 256, 1, 1_000_000),
      // a debug step holds ~3.4 MB of outputs until encoded (~10 ms each): 64 ≈ 220 MB, 0.6 s of encoding
      maxSteps: integer(env, 'MAX_QUEUED_STEPS', 64, 1, 100_000),
      maxWrites: integer(env, 'MAX_QUEUED_WRITES', 512, 1, 1_000_000),
    },
    // an attack is up to 100 debug-graph runs (~6 s on two cores): one at a time keeps predict served
    attacks: {
      maxConcurrent: integer(env, 'MAX_CONCURRENT_ATTACKS', 1, 1, 64),
      maxStored: integer(env, 'MAX_STORED_ADVERSARIALS', 1000, 1, 1_000_000),
    },
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    // Phone cameras save 12 MP (binned 48/50 MP sensors) to 24 MP; 25 MP takes them all and refuses the
    // 40 MP decompression bomb a 129 KB PNG can be.
    maxImagePixels: integer(env, 'MAX_IMAGE_PIXELS', 25_000_000, 1, 1_000_000_000),
    maxRequestDecodedBytes: integer(env, 'MAX_REQUEST_DECODED_BYTES', 256 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
    baselineRoots: baselineRoots(env),
    externalChecks: {
      dir: checksDir(env),
      timeoutMs: integer(env, 'EXTERNAL_CHECK_TIMEOUT_MS', 60_000, 100, 3_600_000),
      maxOutputBytes: integer(env, 'EXTERNAL_CHECK_MAX_OUTPUT_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxCaptures: integer(env, 'EXTERNAL_CHECK_MAX_CAPTURES', 100_000, 1, 100_000_000),
    },
    schedulerIntervalMs: integer(env, 'SCHEDULER_INTERVAL_MS', 5000, 50, 3_600_000),
    retention: {
      sweepIntervalMs: integer(env, 'RETENTION_SWEEP_INTERVAL_MS', 60_000, 50, 86_400_000),
      batchSize: integer(env, 'RETENTION_BATCH_SIZE', 500, 1, 10_000),
      batchPauseMs: integer(env, 'RETENTION_BATCH_PAUSE_MS', 10, 0, 60_000),
    },
    monitor: {
      leaseMs: integer(env, 'MONITOR_LEASE_MS', 5 * 60_000, 300, 24 * 3_600_000),
      commitGraceMs: env.MONITOR_COMMIT_GRACE_MS ? integer(env, 'MONITOR_COMMIT_GRACE_MS', 0, 0, 600_000) : undefined,
      testExecutionDelayMs: integer(env, 'VIGIL_TEST_EXECUTION_DELAY_MS', 0, 0, 3_600_000),
    },
    alerts: alerts(env),
    instanceId: env.INSTANCE_ID?.trim() || `${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  };
}

/**
 * What the environment alone does not tell: MODEL_DIR must be a folder. A missing one is a typo or the wrong
 * working directory, and a server started without it would serve no model; `npm start` stops instead.
 */
export function checkModelDir(config: Pick<Config, 'modelDir'>, env: Env = process.env): void {
  const stat = fs.statSync(config.modelDir, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return;
  const what = stat ? 'not a directory' : 'no such directory';
  const raw = env.MODEL_DIR?.trim();
  if (!raw) {
    throw new ConfigError(
      `MODEL_DIR is not set and its default, ${config.modelDir}, ${stat ? 'is not a directory' : 'does not exist'}: ` +
        "start vigil from the repository's folder or set MODEL_DIR",
    );
  }
  throw new ConfigError(`MODEL_DIR=${raw}: ${what}${raw === config.modelDir ? '' : ` (${config.modelDir})`}`);
}
