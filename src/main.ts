/**
 * `npm start`: runs vigil until SIGINT/SIGTERM, then shuts down gracefully (app.close: drain, commit,
 * close) and exits 0; if that has not finished within SHUTDOWN_TIMEOUT_MS, or a second signal comes,
 * it exits 1 at once, whatever still runs.
 */
import { createApp } from './app.ts';
import { anonymousWarning } from './auth/binding.ts';
import { type Config, ConfigError, checkModelDir, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { installProcessFaultHandlers } from './process-faults.ts';

function refuse(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`vigil: invalid configuration: ${error.message}`);
  process.exit(2);
}

let config: Config;
try {
  config = loadConfig();
  checkModelDir(config);
} catch (error) {
  refuse(error);
}

// an unhandled rejection is logged and the process serves on; an uncaught exception is logged and the
// process exits 1 to be restarted clean (process-faults.ts says why)
installProcessFaultHandlers(createLogger(config.logLevel, 'process'));

// createApp refuses, with a ConfigError, an address others can reach when no API key exists
const app = await createApp(config).catch(refuse);
const port = await app.listen();
if (!(await app.services.apiKeys.anyKey())) app.logger.warn(anonymousWarning(config));
app.logger.info(`vigil listening on http://localhost:${port}/graphql`, {
  database: app.database.provider,
  eventBus: app.services.info.eventBus,
  models: app.services.models.list().map((m) => m.name),
});

// the dashboard's bundle is built now rather than on its first visitor's request
app.dashboard().then(
  (bundle) =>
    app.logger.info(`dashboard at http://localhost:${port}/dashboard`, { builtMs: Math.round(bundle.builtMs) }),
  (error) => app.logger.error('the dashboard could not be built', { error }),
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    const requestsInFlight = app.server.requestsInFlight;
    // close() shuts the listening socket before its first await: once this line is written, new
    // connections are refused (a supervisor, or a test, may act on the line)
    const closed = app.close();
    app.logger.info(`${signal}: closing`, { timeoutMs: config.shutdownTimeoutMs, requestsInFlight });
    setTimeout(() => {
      app.logger.error(`shutdown did not finish within SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms): exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    closed.then(
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
