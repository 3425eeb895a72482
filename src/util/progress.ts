// A progress bar with rate and ETA, no dependency. On a TTY it redraws one line on stderr; otherwise
// (logs, CI) it prints a plain line at most every `intervalMs` and once at the end.

export interface ProgressOptions {
  /** Number of steps in all (> 0). */
  total: number;
  /** Shown before the bar, e.g. 'features'. */
  label?: string;
  /** Where to draw; default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Minimum time between plain (non-TTY) lines, default 5000 ms; TTY redraws at most every 100 ms. */
  intervalMs?: number;
  /** Clock in ms, for tests; default Date.now. */
  now?: () => number;
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A progress bar.
 *
 * @example
 * const bar = new Progress({ total: files.length, label: 'features' });
 * for (const f of files) { work(f); bar.tick(); }
 * bar.done();
 */
export class Progress {
  readonly total: number;
  readonly label: string;
  #count = 0;
  #stream: NonNullable<ProgressOptions['stream']>;
  #tty: boolean;
  #interval: number;
  #now: () => number;
  #start: number;
  #lastDraw = -Infinity;
  #finished = false;

  constructor(opts: ProgressOptions) {
    if (!Number.isInteger(opts.total) || opts.total < 0)
      throw new RangeError(`Progress: total must be a non-negative integer, got ${opts.total}`);
    this.total = opts.total;
    this.label = opts.label ?? 'progress';
    this.#stream = opts.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
    this.#now = opts.now ?? Date.now;
    this.#interval = opts.intervalMs ?? (this.#tty ? 100 : 5000);
    this.#start = this.#now();
  }

  get count(): number {
    return this.#count;
  }

  /** Advances by `n` steps and redraws if enough time has passed. */
  tick(n = 1): void {
    this.#count = Math.min(this.total, this.#count + n);
    const t = this.#now();
    if (t - this.#lastDraw >= this.#interval) this.#draw(t);
  }

  /** Draws the final state and ends the line. Idempotent. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#draw(this.#now());
    if (this.#tty) this.#stream.write('\n');
  }

  /** The status text without the bar: '45% 450/1000 12.3/s ETA 0:45'. */
  status(t = this.#now()): string {
    const elapsed = (t - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#count / elapsed : 0;
    const pct = this.total === 0 ? 100 : Math.floor((100 * this.#count) / this.total);
    const left = this.total - this.#count;
    const eta =
      left === 0 ? `in ${formatDuration(elapsed)}` : rate > 0 ? `ETA ${formatDuration(left / rate)}` : 'ETA ?';
    const r = rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
    return `${pct}% ${this.#count}/${this.total} ${r}/s ${eta}`;
  }

  #draw(t: number): void {
    this.#lastDraw = t;
    const status = this.status(t);
    if (!this.#tty) {
      this.#stream.write(`${this.label}: ${status}\n`);
      return;
    }
    const columns = this.#stream.columns ?? 80;
    const width = Math.max(10, Math.min(40, columns - this.label.length - status.length - 6));
    const filled = this.total === 0 ? width : Math.round((width * this.#count) / this.total);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.#stream.write(`\r${this.label} [${bar}] ${status}\x1b[K`);
  }
}
