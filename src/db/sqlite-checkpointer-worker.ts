/** The SqliteCheckpointer's thread: its own connection, a PASSIVE checkpoint every interval. */

import { parentPort, workerData } from 'node:worker_threads';
import Sqlite from 'better-sqlite3';
import type { CheckpointerOptions } from './sqlite-checkpointer.ts';

const { file, intervalMs } = workerData as CheckpointerOptions;
const connection = new Sqlite(file, { timeout: 5_000 });
connection.pragma('journal_mode = WAL');
parentPort!.postMessage('ready');
setInterval(() => {
  try {
    connection.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or locked: the next interval tries again
  }
}, intervalMs);
