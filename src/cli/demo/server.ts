/**
 * The demo's in-process server: the real app (createApp) on a temporary SQLite database and a random
 * loopback port, removed again when the demo ends. No API key exists on it, so loopback callers are
 * anonymous admins, as on a fresh install.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../logger.ts';

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function startLocalServer(env: NodeJS.ProcessEnv = process.env): Promise<LocalServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-demo-'));
  try {
    const config = {
      ...loadConfig({
        ...env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'error',
        DATABASE_URL: `file:${path.join(dir, 'demo.db')}`,
        PORT: '0',
        // the demo runs its schedule by hand; the scheduler would only add runs to the story
        SCHEDULER_INTERVAL_MS: '3600000',
        MONITOR_COMMIT_GRACE_MS: '0',
        API_KEYS: '',
      }),
      host: '127.0.0.1',
    };
    const app = await createApp(config, createLogger('error', 'demo'));
    const port = await app.listen();
    return {
      url: `http://127.0.0.1:${port}`,
      async close() {
        await app.close();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
