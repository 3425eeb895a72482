// The GPU check's step timing (scripts/device-check.sh): one opt-in training step at the paper's sizes
// (obf C=32 R=3, deobf C=128 R=6, DS2 5×64, batch 16 × 161 × 128) on each device named, the median of
// --repeats steps after --warmup, printed as one JSON line. A step ends in a host sync (item()), so the
// wall-clock time of a CUDA step covers its kernels.
//   node dist/bench/device-step.js --devices cpu,cuda --optimizer sgd --repeats 5
import { performance } from 'node:perf_hooks';
import { getNumThreads, memory, resolveDevice, synchronize } from '../src/tensor/index.js';
import { median } from './format.js';
import { BATCH, FRAMES, optinStep } from './optin-step.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

const devices = flag('devices', 'cpu')
  .split(',')
  .map((d) => resolveDevice(d, '--devices'));
const optimizer = flag('optimizer', 'sgd');
if (optimizer !== 'sgd' && optimizer !== 'adam')
  throw new RangeError(`--optimizer must be sgd or adam, got '${optimizer}'`);
const repeats = Number(flag('repeats', '5'));
const warmup = Number(flag('warmup', '2'));
if (!(Number.isInteger(repeats) && repeats >= 1 && Number.isInteger(warmup) && warmup >= 0)) {
  throw new RangeError('--repeats must be an integer >= 1 and --warmup an integer >= 0');
}

const results = [];
for (const device of devices) {
  const before = memory().numTensors;
  const s = optinStep({ obf: 'obfuscator', deobf: 'deobfuscator', ds2: 'paper', optimizer }, device);
  const t0 = performance.now();
  for (let i = 0; i < warmup; i++) s.once();
  const warmupMs = performance.now() - t0;
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    s.once();
    synchronize(device);
    ms.push(performance.now() - t);
  }
  s.dispose();
  const stepMs = median(ms);
  results.push({
    device,
    stepMs,
    bestMs: Math.min(...ms),
    warmupMs,
    audioSecondsPerSecond: (BATCH * (FRAMES / 100)) / (stepMs / 1e3),
    leakedTensors: memory().numTensors - before,
  });
}
const cpu = results.find((r) => r.device === 'cpu');
const speedups = Object.fromEntries(
  results.filter((r) => cpu && r !== cpu).map((r) => [r.device, cpu!.stepMs / r.stepMs]),
);
const what = `opt-in step, paper sizes, ${optimizer}, batch ${BATCH} x 161 x ${FRAMES}`;
console.log(JSON.stringify({ what, threads: getNumThreads(), warmup, repeats, results, speedupOverCpu: speedups }));
