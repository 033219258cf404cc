/**
 * `vigil capture export --endpoint NAME [--from ISO] [--to ISO] [--out FILE] [--output full|class]`
 *
 * Writes an endpoint's captures in [from, to), oldest first, as SageMaker data-capture JSON Lines to
 * stdout or FILE, straight from the database that DATABASE_URL names (default file:./data/vigil.db);
 * no server needs to run. Progress goes to stderr every 10,000 rows. Resolves to the exit code:
 * 0 done, 1 failed (unknown endpoint, database error), 2 bad usage.
 */

import { once } from 'node:events';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type ExportOutput, prependLine, writeLines } from '../capture/export.ts';
import { parseOutput } from '../capture/http.ts';
import { parseIsoDate } from '../capture/queries.ts';
import { CaptureService } from '../capture/service.ts';
import { CaptureStore } from '../capture/store.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { parseDatabaseUrl } from '../db/url.ts';
import { endpointLookup } from '../endpoints/service.ts';
import { EndpointStore } from '../endpoints/store.ts';
import { messageOf, ValidationError, VigilError } from '../errors.ts';

export const CAPTURE_EXPORT_USAGE =
  'usage: vigil capture export --endpoint NAME [--from ISO] [--to ISO] [--out FILE] [--output full|class]';
const PROGRESS_EVERY = 10_000;

export const CAPTURE_EXPORT_HELP = `${CAPTURE_EXPORT_USAGE}

Writes the captures of an endpoint, oldest first, as SageMaker data-capture JSON Lines, straight from the
database: no server needs to run.

options:
  -e, --endpoint NAME   the endpoint (required)
      --from ISO        captures at or after this time: a date (2026-11-26) or a date-time (2026-11-26T08:00:00Z)
      --to ISO          captures before this time
  -o, --out FILE        write to FILE instead of stdout (created once the endpoint is found)
      --output class    endpointOutput.data as the write-up's [[<class>]] (its evaluation.py reads that);
                        default full: vigil's JSON output (class, label, probabilities, …)
  -h, --help            this help

prints one event a line, the shape Model Monitor reads:
  {"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"<base64>","encoding":"BASE64"},
   "endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"<JSON text>","encoding":"JSON"}},
   "eventMetadata":{"eventId":"…","inferenceTime":"2026-11-26T08:00:00.000Z"},"eventVersion":"0"}
(one line each; a capture without its input or output leaves that part out). Progress every ${PROGRESS_EVERY.toLocaleString('en')} rows and a
summary go to stderr.

exit status: 0 done, 1 failed (unknown endpoint, database error), 2 bad usage.
environment: DATABASE_URL, the server's database (default file:./data/vigil.db).

examples:
  vigil capture export --endpoint signs --from 2026-11-26 --to 2026-11-27 --out signs-2026-11-26.jsonl
  vigil capture export --endpoint signs | head -1`;

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}

/** `argv`: the arguments after `capture export` (a leading `capture export` is skipped too). */
export async function captureExportCommand(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const say = (line: string) => void io.stderr.write(`${line}\n`);
  let args = argv;
  if (args[0] === 'capture') args = args.slice(1);
  if (args[0] === 'export') args = args.slice(1);

  let options: { endpoint?: string; from?: string; to?: string; out?: string; output?: string; help?: boolean };
  try {
    options = parseArgs({
      args,
      options: {
        endpoint: { type: 'string', short: 'e' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string', short: 'o' },
        output: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    say(`${messageOf(error)}\n${CAPTURE_EXPORT_USAGE}\n(vigil capture export --help for more)`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(`${CAPTURE_EXPORT_HELP}\n`);
    return 0;
  }
  if (!options.endpoint) {
    say(`--endpoint is required\n${CAPTURE_EXPORT_USAGE}\n(vigil capture export --help for more)`);
    return 2;
  }
  let from: Date | undefined;
  let to: Date | undefined;
  let output: ExportOutput;
  try {
    from = parseIsoDate(options.from, '--from');
    to = parseIsoDate(options.to, '--to');
    output = parseOutput(options.output, '--output');
  } catch (error) {
    say(messageOf(error));
    return 2;
  }

  const url = io.env.DATABASE_URL?.trim() || 'file:./data/vigil.db';
  let database: Database;
  try {
    const target = parseDatabaseUrl(url);
    // opening a SQLite path that does not exist would create an empty database there
    if (target.provider === 'sqlite' && !fs.existsSync(target.file)) throw new Error(`no database at ${target.file}`);
    database = openDatabase(url);
  } catch (error) {
    say(`cannot open DATABASE_URL=${url}: ${messageOf(error)}`);
    return 1;
  }
  let file: fs.WriteStream | undefined;
  // A write error (a full disk, a closed pipe) destroys the stream, which stops writeLines.
  let writeError: NodeJS.ErrnoException | undefined;
  const onWriteError = (error: NodeJS.ErrnoException) => void (writeError ??= error);
  io.stdout.on('error', onWriteError);
  try {
    const endpoints = new EndpointStore(database.prisma);
    const captures = new CaptureService({
      store: new CaptureStore(database.prisma),
      endpoints: endpointLookup(endpoints),
    });
    const lines = captures.exportJsonLines(options.endpoint, { from, to }, output);
    // Validation and the endpoint lookup run on the first line: an --out file is only created after.
    const first = await lines.next();
    let out: Writable = io.stdout;
    if (options.out) {
      file = fs.createWriteStream(options.out);
      file.on('error', onWriteError);
      await once(file, 'open');
      out = file;
    }
    const count = first.done
      ? 0
      : await writeLines(out, prependLine(first.value, lines), (n) => {
          if (n % PROGRESS_EVERY === 0) say(`${n} rows written`);
        });
    if (file && !writeError) {
      file.end();
      await once(file, 'finish');
    }
    if (writeError) throw writeError;
    say(
      `exported ${count} capture${count === 1 ? '' : 's'} of '${options.endpoint}'${options.out ? ` to ${options.out}` : ''}`,
    );
    return 0;
  } catch (error) {
    file?.destroy();
    // a reader that went away (`| head`) is not a failure of the export
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if (error instanceof VigilError) {
      say(error.message);
      return error instanceof ValidationError ? 2 : 1;
    }
    say(`capture export failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    io.stdout.off('error', onWriteError);
    await database.close();
  }
}
