/** Starts the real vigil server (HTTP + WebSocket) on a random port over a fresh database. */
import { createApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
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

export async function startTestServer(
  options: { env?: Record<string, string>; database?: TestDatabase; config?: Partial<Config> } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const config = {
    ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: process.env.VIGIL_TEST_LOG_LEVEL ?? 'error', ...options.env, DATABASE_URL: database.url, PORT: '0' }),
    host: '127.0.0.1',
    ...options.config,
  };
  const app = await createApp(config, createLogger(config.logLevel, 'test-server'));
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
