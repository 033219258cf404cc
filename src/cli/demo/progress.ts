/**
 * Progress bars on stderr: redrawn in place on a terminal, else one line per tenth of the way (and at
 * the end), so that a log file stays short.
 */
export interface ProgressSink {
  write(text: string): void;
  isTTY?: boolean | undefined;
}

const WIDTH = 24;

export class ProgressBar {
  #done = 0;
  #lastTenth = -1;
  readonly #started = performance.now();

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
  ) {
    this.#draw();
  }

  /** one more item done, with an optional note (e.g. how many succeeded) */
  tick(note = ''): void {
    this.#done++;
    this.#draw(note);
  }

  #draw(note = ''): void {
    const total = Math.max(1, this.total);
    const share = Math.min(1, this.#done / total);
    const filled = Math.round(share * WIDTH);
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const line = `${this.label.padEnd(28)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${this.#done}/${this.total} ${seconds} s${note ? ` ${note}` : ''}`;
    if (this.sink.isTTY) {
      this.sink.write(`\r${line}\x1b[K${this.#done >= this.total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth !== this.#lastTenth || this.#done >= this.total) {
      if (tenth === this.#lastTenth && this.#done < this.total) return;
      this.#lastTenth = tenth;
      this.sink.write(`${line}\n`);
    }
  }
}
