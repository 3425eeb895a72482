// `npm run bench`: runs every section below in one process and prints one table.
// A section is `async function benchX(): Promise<BenchRow[]>` in bench/<x>.ts; add it to SECTIONS.
// Threads: 2 (the reference machine's cores), or EARMARK_THREADS. `--json` prints the rows as JSON.
import os from 'node:os';
import { native } from '../src/binding/native.js';
import { getNumThreads, libtorchVersion, setNumThreads } from '../src/tensor/index.js';
import { benchAudio } from './audio.js';
import { benchCorpus } from './corpus.js';
import { benchDistributed } from './distributed.js';
import { benchEdge } from './edge.js';
import { benchEngine } from './engine.js';
import { benchObfuscator } from './obfuscator.js';
import { benchWeb } from './web.js';
import { formatTable } from './format.js';
import type { BenchRow } from './types.js';

const SECTIONS: ReadonlyArray<() => Promise<BenchRow[]>> = [
  benchEngine, benchAudio, benchObfuscator, benchEdge, benchWeb, benchCorpus, benchDistributed,
];

function backend(): string {
  // "ATen parallel backend: OpenMP" from at::get_parallel_info()
  return /ATen parallel backend: (.*)/.exec(native.parallelInfo())?.[1]?.trim() ?? 'unknown';
}

async function main(): Promise<void> {
  const threads = Number(process.env.EARMARK_THREADS ?? 2) || 2;
  setNumThreads(threads);
  const json = process.argv.includes('--json');
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const header = `earmark bench · libtorch ${libtorchVersion()} · ${getNumThreads()} threads (${backend()}) · ` +
    `${cpu}, ${os.cpus().length} cores · node ${process.version}`;
  // throughput on two cores collapses when other processes compete for them: say so beside the numbers
  const load = os.loadavg()[0]!;
  const busy = load > 1.5 ? ` · load average ${load.toFixed(1)}: other processes share the cores, expect lower numbers` : '';
  if (!json) console.log(header + busy + '\n');
  const rows: BenchRow[] = [];
  const took: string[] = [];
  for (const section of SECTIONS) {
    setNumThreads(threads); // a section may change it for its own rows
    const t0 = Date.now();
    rows.push(...(await section()));
    took.push(`${section.name} ${((Date.now() - t0) / 1e3).toFixed(1)} s`);
  }
  if (json) console.log(JSON.stringify({ header, loadAverage: load, rows }, null, 1));
  else console.log(`${formatTable(rows)}\n\nsections: ${took.join(', ')}`);
}

await main();
