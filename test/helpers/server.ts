/** Starts the real vigil server (HTTP + WebSocket) on a random port over a fresh database. */
import { afterAll, beforeAll } from 'vitest';
import { type App, createApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { GraphQLClient } from './graphql.ts';

export interface TestServer {
  app: App;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  client: GraphQLClient;
  database: TestDatabase;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  database?: TestDatabase;
  config?: Partial<Config>;
  /** the app's logger (default: stderr at VIGIL_TEST_LOG_LEVEL, else error) */
  logger?: Logger;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.VIGIL_TEST_LOG_LEVEL ?? 'error',
      // one replica per database here (captures of other replicas are inserted already committed):
      // runs need not wait for another replica's commits (tests of that set it)
      MONITOR_COMMIT_GRACE_MS: '0',
      ...options.env,
      DATABASE_URL: database.url,
      PORT: '0',
    }),
    host: '127.0.0.1',
    ...options.config,
  };
  const app = await createApp(config, options.logger ?? createLogger(config.logLevel, 'test-server'));
  const port = await app.listen();
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    client: new GraphQLClient(`${url}/graphql`),
    database,
    async close() {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}

/**
 * A server for the tests of one `describe`: started before them, closed after. The object is filled in
 * when the server has started, so test code reads `server.client`, `server.app`, … as usual. `options`
 * may be a function, evaluated when the server starts.
 */
export function useTestServer(options: StartOptions | (() => StartOptions) = {}): TestServer {
  const server = {} as TestServer;
  beforeAll(async () => {
    Object.assign(server, await startTestServer(typeof options === 'function' ? options() : options));
  });
  afterAll(() => server.close?.());
  return server;
}

/** A logger that keeps every line (message and fields), for tests that read what was logged. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  scope: string;
  message: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(lines: LogLine[] = [], scope = 'test'): Logger & { lines: LogLine[] } {
  const at =
    (level: LogLine['level']) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, scope, message, fields });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (child) => recordingLogger(lines, `${scope}:${child}`),
  };
}
