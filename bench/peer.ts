// The PyTorch peer of `npm run bench`: bench/peers/peer.py in /usr/bin/python3 (or EARMARK_PEER_PYTHON), kept
// running for the whole bench and asked to time the same work as earmark's rows, alternately with earmark,
// so each row prints PyTorch's figure from the same run and the median of the per-repetition time ratios.
// Where the Python has no torch, every row prints earmark's figure alone and the header says why.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { getNumThreads, noGrad } from '../src/tensor/index.js';
import { repoRoot } from '../src/util/paths.js';
import { median, type Timing, type TimingOptions } from './format.js';
import type { BenchRow } from './types.js';

/** One case of bench/peers (module.function) with its arguments, threads and grad mode (for both sides). */
export interface PeerCase {
  case: string;
  args?: Record<string, unknown>;
  threads?: number;
  /** false: timed under torch.no_grad(), as earmark's side under noGrad (default true). */
  grad?: boolean;
}

interface Reply {
  id: number;
  seconds?: number;
  error?: string;
}

export class Peer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #next = 1;
  /** torch.__version__ of the peer. */
  readonly torch: string;

  private constructor(child: ChildProcessWithoutNullStreams, torch: string, lines: AsyncIterator<string>) {
    this.#child = child;
    this.torch = torch;
    void (async () => {
      for (let r = await lines.next(); !r.done; r = await lines.next()) {
        const reply = JSON.parse(r.value) as Reply;
        this.#waiting.get(reply.id)?.(reply);
        this.#waiting.delete(reply.id);
      }
      for (const resolve of this.#waiting.values()) resolve({ id: -1, error: 'the PyTorch peer exited' });
    })();
  }

  /** Start the peer with `env` added to this process's environment; a string says why it cannot run. */
  static async open(env: Record<string, string> = {}): Promise<Peer | string> {
    const python = process.env.EARMARK_PEER_PYTHON ?? '/usr/bin/python3';
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      const why = probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`;
      return `${python} cannot import torch (${why}); install python3-torch or set EARMARK_PEER_PYTHON`;
    }
    const script = path.join(repoRoot(), 'bench/peers/peer.py');
    const child = spawn(python, [script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[pytorch peer] ${d.toString()}`));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const hello = await lines.next();
    if (hello.done) return `${script} exited before it was ready`;
    return new Peer(child, (JSON.parse(hello.value) as { torch: string }).torch, lines);
  }

  /** Seconds per call of `c`, over `iters` calls after `warmup` untimed ones. Throws the peer's error. */
  time(c: PeerCase, iters: number, warmup = 0): Promise<number> {
    const id = this.#next++;
    const reply = new Promise<Reply>((resolve) => this.#waiting.set(id, resolve));
    this.#child.stdin.write(`${JSON.stringify({ id, threads: getNumThreads(), ...c, iters, warmup })}\n`);
    return reply.then((r) => {
      if (r.seconds === undefined) throw new Error(`PyTorch peer, case ${c.case}: ${r.error}`);
      return r.seconds;
    });
  }

  close(): void {
    this.#child.stdin.end();
  }
}

/**
 * glibc's malloc gives large blocks fresh pages from the kernel in some heap states, so PyTorch's stft of a
 * 10 s clip takes 9-16 ms here with glibc's defaults instead of 0.5-1 ms. earmark caches large blocks
 * (native/src/cpu_allocator.cc); the peer gets glibc's best policy short of a code change (blocks under
 * 32 MiB stay in the heap), so that rows compare the engines, not glibc's luck. EARMARK_PEER_MALLOC=default
 * runs the peer with glibc's defaults instead.
 */
export const PEER_MALLOC: Record<string, string> =
  process.env.EARMARK_PEER_MALLOC === 'default'
    ? {}
    : { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456' };

let shared: Promise<Peer | string> | undefined;

/** The bench's peer, started on first use (earmark's thread wait policies; threads are set per request). */
export function pytorch(): Promise<Peer | string> {
  shared ??= Peer.open({
    ...PEER_MALLOC,
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    OPENBLAS_THREAD_TIMEOUT: process.env.OPENBLAS_THREAD_TIMEOUT ?? '4',
  });
  return shared;
}

export async function closePytorch(): Promise<void> {
  const p = await shared;
  if (p instanceof Peer) p.close();
}

export interface Versus {
  earmark: Timing;
  /** PyTorch's timing and the median over repetitions of earmark's time ÷ PyTorch's; absent without a peer. */
  peer?: Timing;
  ratio?: number;
  /** Why there is no PyTorch figure. */
  missing?: string;
}

/**
 * Time `fn` and the peer's `c` alternately, `repeats` times each (which goes first alternates too).
 * @example const v = await versus(() => { a.matmul(b).dispose(); }, { case: 'engine.matmul' }, { iters: 3 });
 */
export async function versus(
  fn: () => void,
  c: PeerCase | null,
  opts: TimingOptions = {},
  peer = pytorch(),
): Promise<Versus> {
  const { warmup = 2, repeats = 7, iters = 1 } = opts;
  const p = c === null ? 'no PyTorch peer for this row' : await peer;
  // earmark's side runs under noGrad exactly where the peer's runs under torch.no_grad()
  const mode = c?.grad === false ? noGrad : <T>(f: () => T): T => f();
  const timeEarmark = (): number =>
    mode(() => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) fn();
      return Number(process.hrtime.bigint() - t0) / 1e9 / iters;
    });
  mode(() => {
    for (let i = 0; i < warmup; i++) fn();
  });
  const e: number[] = [];
  const q: number[] = [];
  let missing = typeof p === 'string' ? p : undefined;
  if (typeof p !== 'string') {
    try {
      await p.time(c!, 0, warmup);
    } catch (err) {
      missing = (err as Error).message;
    }
  }
  for (let r = 0; r < repeats; r++) {
    if (missing !== undefined || typeof p === 'string') {
      e.push(timeEarmark());
    } else if (r % 2 === 0) {
      e.push(timeEarmark());
      q.push(await p.time(c!, iters));
    } else {
      q.push(await p.time(c!, iters));
      e.push(timeEarmark());
    }
  }
  const earmark = { median: median(e), best: Math.min(...e) };
  if (q.length === 0) return { earmark, missing };
  return { earmark, peer: { median: median(q), best: Math.min(...q) }, ratio: median(e.map((x, i) => x / q[i]!)) };
}

/** A row in `unit`, `scale` converting seconds (1e3 for ms, 1e6 for µs), with PyTorch's figure where there is one. */
export function timeRow(
  section: string,
  name: string,
  v: Versus,
  unit: string,
  scale: number,
  extra: Partial<BenchRow> = {},
): BenchRow {
  const peer = v.peer === undefined ? {} : { peer: v.peer.median * scale, ratio: v.ratio };
  return { section, name, value: v.earmark.median * scale, unit, ...peer, ...extra };
}

/** A throughput row: `work` units per second at the median, with PyTorch's figure where there is one. */
export function rateRow(
  section: string,
  name: string,
  work: number,
  v: Versus,
  unit: string,
  extra: Partial<BenchRow> = {},
): BenchRow {
  const peer = v.peer === undefined ? {} : { peer: work / v.peer.median, ratio: v.ratio };
  return { section, name, value: work / v.earmark.median, unit, ...peer, ...extra };
}
