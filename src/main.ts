/**
 * `npm start`: runs vigil until SIGINT/SIGTERM, then shuts down gracefully (app.close: drain, commit,
 * close) and exits 0; if that has not finished within SHUTDOWN_TIMEOUT_MS, or a second signal comes,
 * it exits 1 at once, whatever still runs.
 */
import { createApp } from './app.ts';
import { type Config, ConfigError, checkModelDir, loadConfig } from './config.ts';

let config: Config;
try {
  config = loadConfig();
  checkModelDir(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`vigil: invalid configuration: ${error.message}`);
  process.exit(2);
}

const app = await createApp(config);
const port = await app.listen();
app.logger.info(`vigil listening on http://localhost:${port}/graphql`, {
  database: app.database.provider,
  eventBus: app.services.info.eventBus,
  models: app.services.models.list().map((m) => m.name),
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    app.logger.info(`${signal}: closing`, {
      timeoutMs: config.shutdownTimeoutMs,
      requestsInFlight: app.server.requestsInFlight,
    });
    setTimeout(() => {
      app.logger.error(`shutdown did not finish within SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms): exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    app.close().then(
      () => {
        app.logger.info('closed');
        process.exit(0);
      },
      (error) => {
        app.logger.error('close failed', { error });
        process.exit(1);
      },
    );
  });
}
