/** `npm start`: runs vigil until SIGINT/SIGTERM. */
import { createApp } from './app.ts';
import { type Config, ConfigError, checkModelDir, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { installProcessFaultHandlers } from './process-faults.ts';

let config: Config;
try {
  config = loadConfig();
  checkModelDir(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`vigil: invalid configuration: ${error.message}`);
  process.exit(2);
}

// an unhandled rejection is logged and the process serves on; an uncaught exception is logged and the
// process exits 1 to be restarted clean (process-faults.ts says why)
installProcessFaultHandlers(createLogger(config.logLevel, 'process'));

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
    app.logger.info(`${signal}: closing`);
    app.close().then(
      () => process.exit(0),
      (error) => {
        app.logger.error('close failed', { error });
        process.exit(1);
      },
    );
  });
}
