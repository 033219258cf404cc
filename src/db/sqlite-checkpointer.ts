/**
 * WAL checkpoints off the request path. In WAL mode every page is written twice: appended to the log
 * at commit, then copied into the database file by a checkpoint, which SQLite by default runs inside
 * the commit that crosses 1000 log pages — on the main thread, since better-sqlite3 is synchronous.
 * With the debugger hook storing ~0.7 MB a step that copy was ~60 % of a commit's time. Here the
 * server's connection stops checkpointing (wal_autocheckpoint = 0) and a worker thread with its own
 * connection runs PASSIVE checkpoints, which never block the writer, every `intervalMs`. Should the
 * worker fail, the connection checkpoints by itself again.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.ts';
import { startTypeScriptWorker } from '../worker-threads.ts';
import type { Database } from './client.ts';

export const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export interface CheckpointerOptions {
  file: string;
  intervalMs: number;
}

export class SqliteCheckpointer {
  #worker: Worker | undefined;

  private constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  /** never fails: without a worker, the server connection keeps checkpointing by itself */
  static async start(database: Database, options: CheckpointerOptions, logger: Logger): Promise<SqliteCheckpointer> {
    const checkpointer = new SqliteCheckpointer(database, logger);
    const worker = startTypeScriptWorker(new URL('./sqlite-checkpointer-worker.ts', import.meta.url), {
      workerData: options,
    });
    checkpointer.#worker = worker;
    // the server's connection hands checkpoints over only once the worker's connection is open
    const started = await new Promise<boolean>((resolve) => {
      worker.once('message', () => resolve(true));
      worker.once('error', (error) => {
        logger.warn('WAL checkpointer did not start: the server connection checkpoints by itself', {
          error: error.message,
        });
        resolve(false);
      });
      worker.once('exit', () => resolve(false));
    });
    if (!started) {
      checkpointer.#worker = undefined;
      await worker.terminate();
      return checkpointer;
    }
    worker.on('error', (error) => checkpointer.#fallBack(error));
    worker.on('exit', (code) => {
      if (checkpointer.#worker === worker) checkpointer.#fallBack(new Error(`exited with code ${code}`));
    });
    await database.prisma.$queryRawUnsafe('PRAGMA wal_autocheckpoint = 0');
    // a failure between the worker's start and that pragma: undo it
    if (checkpointer.#worker !== worker) await checkpointer.#restoreAutocheckpoint();
    worker.unref();
    return checkpointer;
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
  }

  #fallBack(error: Error): void {
    this.#worker = undefined;
    this.logger.warn('WAL checkpointer stopped: the server connection checkpoints by itself again', {
      error: error.message,
    });
    void this.#restoreAutocheckpoint();
  }

  #restoreAutocheckpoint(): Promise<void> {
    return this.database.prisma.$queryRawUnsafe(`PRAGMA wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`).then(
      () => undefined,
      () => undefined,
    );
  }
}
