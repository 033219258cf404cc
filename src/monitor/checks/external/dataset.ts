/**
 * dataset_source: the window's captures written as one JSON Lines file in SageMaker's data-capture
 * format, by the capture export's writer (capture/export.ts), streamed from the database page by page
 * to the file at the pace the disk takes it, never held whole. At most `maxCaptures` are written (the
 * oldest of the window); the run's record says when the window held more.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { writeLines } from '../../../capture/export.ts';
import type { CaptureService } from '../../../capture/service.ts';
import type { ExternalCheckOutput } from './config.ts';

/** the file's name inside dataset_source (Model Monitor's scripts walk the folder for `.jsonl` files) */
export const DATASET_FILE = 'captures.jsonl';

export type CaptureLines = Pick<CaptureService, 'exportJsonLines'>;

export interface DatasetWindow {
  endpointName: string;
  /** inclusive */
  from: Date;
  /** exclusive */
  to: Date;
  output: ExternalCheckOutput;
}

/** writes the window into `dir`; the number of captures written, and whether the window held more */
export async function writeDataset(
  captures: CaptureLines,
  window: DatasetWindow,
  dir: string,
  maxCaptures: number,
): Promise<{ written: number; truncated: boolean }> {
  const out = createWriteStream(path.join(dir, DATASET_FILE), { flags: 'wx', mode: 0o600 });
  const lines = captures.exportJsonLines(
    window.endpointName,
    { from: window.from, to: window.to },
    window.output === 'CLASS' ? 'class' : 'full',
  );
  let truncated = false;
  async function* bounded(): AsyncGenerator<string, void, undefined> {
    let count = 0;
    try {
      for await (const line of lines) {
        if (count === maxCaptures) {
          truncated = true;
          return;
        }
        count++;
        yield line;
      }
    } finally {
      await lines.return();
    }
  }
  try {
    const written = await writeLines(out, bounded());
    out.end();
    await once(out, 'finish');
    return { written, truncated };
  } finally {
    out.destroy();
  }
}
