// Shared by the bench sections: a median-of-repeats timer, and the one table `npm run bench` prints.
import type { BenchRow } from './types.js';

export interface TimingOptions {
  /** Untimed calls first, to fill caches, JIT and libtorch's thread pool (default 2). */
  warmup?: number;
  /** Timed runs; the median is reported (default 7). */
  repeats?: number;
  /** Calls per timed run, for work too short to time one by one (default 1). */
  iters?: number;
}

export interface Timing {
  /** Median seconds per call over the timed runs: the number to report. */
  median: number;
  /** Fastest run's seconds per call: what the code does when no other process competes for the cores. */
  best: number;
}

/**
 * Seconds per call of `fn` over `repeats` runs of `iters` calls, after `warmup` calls.
 * @example const { median } = measure(() => tidy(() => a.matmul(b)), { iters: 5 });
 */
export function measure(fn: () => void, opts: TimingOptions = {}): Timing {
  const { warmup = 2, repeats = 7, iters = 1 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  const perCall: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - t0) / 1e9 / iters);
  }
  return { median: median(perCall), best: Math.min(...perCall) };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median: 'xs' is empty");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Three significant digits, without exponent notation for the magnitudes benchmarks produce. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/**
 * A plain-text table of rows, one column per BenchRow field, values right-aligned.
 * @example console.log(formatTable([{ section: 'engine', name: 'matmul 1024²', value: 97.1, unit: 'GFLOP/s', target: '>= 100' }]));
 */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['section', 'benchmark', 'value', 'unit', 'PyTorch', 'time/PyTorch', 'target', 'note'];
  const right = new Set([2, 4, 5]);
  const cells = rows.map((r) => [
    r.section,
    r.name,
    formatValue(r.value),
    r.unit,
    r.peer === undefined ? '' : formatValue(r.peer),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.note ?? '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
