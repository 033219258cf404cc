import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Logger } from '../../src/logger.ts';
import { createTestDatabase } from '../helpers/database.ts';

/** a Logger that keeps its lines */
function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

describe('start without the default model', () => {
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
  afterAll(() => fs.rmSync(modelDir, { recursive: true, force: true }));

  it('starts, and warns naming DEFAULT_MODEL and the folder it is not in', async () => {
    const database = await createTestDatabase();
    const lines: string[] = [];
    const config = {
      ...loadConfig({ DATABASE_URL: database.url, MODEL_DIR: modelDir, LOG_LEVEL: 'silent' }),
      port: 0,
      host: '127.0.0.1',
    };
    const app = await createApp(config, recordingLogger(lines));
    try {
      expect(lines.filter((line) => line.startsWith('warn '))).toEqual([
        `warn DEFAULT_MODEL 'gtsrb-resnet18' is not in ${modelDir}: no model is loaded, and endpoints created without one are refused until it is there {"models":[]}`,
      ]);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
