// `npm run bench`: runs every section below in one process and prints one table.
// A section is `async function benchX(): Promise<BenchRow[]>` in bench/<x>.ts; add it to SECTIONS.
// Threads: 2 (the reference machine's cores), or EARMARK_THREADS. `--json` prints the rows as JSON;
// `--only engine,target` runs the sections whose names (benchX without 'bench', any case) are listed.
// Rows with a PyTorch twin (bench/peers/*.py) print its figure and the time ratio from this same run.
import os from 'node:os';
import { native } from '../src/binding/native.js';
import { getNumThreads, libtorchVersion, setNumThreads } from '../src/tensor/index.js';
import { benchAudio } from './audio.js';
import { benchCorpus } from './corpus.js';
import { benchDistributed } from './distributed.js';
import { benchEdge } from './edge.js';
import { benchEngine } from './engine.js';
import { benchObfuscator } from './obfuscator.js';
import { benchTarget } from './target.js';
import { benchWeb } from './web.js';
import { formatTable } from './format.js';
import { closePytorch, Peer, PEER_MALLOC, pytorch } from './peer.js';
import type { BenchRow } from './types.js';

const SECTIONS: ReadonlyArray<() => Promise<BenchRow[]>> = [
  benchEngine,
  benchAudio,
  benchObfuscator,
  benchTarget,
  benchDistributed, // the opt-in step, 1 versus 2 Gloo processes (issue 15 part 3)
  benchEdge,
  benchWeb,
  benchCorpus,
];

function backend(): string {
  // "ATen parallel backend: OpenMP" from at::get_parallel_info()
  return /ATen parallel backend: (.*)/.exec(native.parallelInfo())?.[1]?.trim() ?? 'unknown';
}

/** The --only filter: every section when the flag is absent; a RangeError naming unknown sections. */
function onlySections(argv: readonly string[]): (s: () => Promise<BenchRow[]>) => boolean {
  const i = argv.indexOf('--only');
  if (i < 0) return () => true;
  const key = (s: () => Promise<BenchRow[]>): string => s.name.replace(/^bench/, '').toLowerCase();
  const want = (argv[i + 1] ?? '').toLowerCase().split(',').filter(Boolean);
  const unknown = want.filter((w) => !SECTIONS.some((s) => key(s) === w));
  if (!want.length || unknown.length) {
    throw new RangeError(
      `bench --only: unknown section(s) '${unknown.join(',')}'; choose from ${SECTIONS.map(key).join(', ')}`,
    );
  }
  return (s) => want.includes(key(s));
}

async function main(): Promise<void> {
  const threads = Number(process.env.EARMARK_THREADS ?? 2) || 2;
  setNumThreads(threads);
  const json = process.argv.includes('--json');
  const only = onlySections(process.argv);
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const header =
    `earmark bench · libtorch ${libtorchVersion()} · ${getNumThreads()} threads (${backend()}) · ` +
    `${cpu}, ${os.cpus().length} cores · node ${process.version}`;
  // throughput on two cores collapses when other processes compete for them: say so beside the numbers
  const load = os.loadavg()[0]!;
  const busy =
    load > 1.5 ? ` · load average ${load.toFixed(1)}: other processes share the cores, expect lower numbers` : '';
  const peer = await pytorch();
  const peerLine =
    peer instanceof Peer
      ? `PyTorch peer: torch ${peer.torch} (bench/peers/peer.py), same threads, OMP_WAIT_POLICY and OPENBLAS_THREAD_TIMEOUT, ` +
        `${PEER_MALLOC.GLIBC_TUNABLES === undefined ? "glibc's default malloc" : `GLIBC_TUNABLES=${PEER_MALLOC.GLIBC_TUNABLES}`}; ` +
        'time/PyTorch = median of per-repetition time ratios (below 1: earmark faster)'
      : `PyTorch peer: not run: ${peer}. The table shows earmark's figures alone.`;
  if (!json) console.log(`${header}${busy}\n${peerLine}\n`);
  const rows: BenchRow[] = [];
  const took: string[] = [];
  for (const section of SECTIONS.filter(only)) {
    setNumThreads(threads); // a section may change it for its own rows
    const t0 = Date.now();
    rows.push(...(await section()));
    took.push(`${section.name} ${((Date.now() - t0) / 1e3).toFixed(1)} s`);
  }
  await closePytorch();
  if (json) console.log(JSON.stringify({ header, peer: peerLine, loadAverage: load, rows }, null, 1));
  else console.log(`${formatTable(rows)}\n\nsections: ${took.join(', ')}`);
}

await main();
