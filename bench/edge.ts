// Edge section of `npm run bench` (issue 7): the obfuscator (default preset C=32, R=3) on the device
// path. ms to obfuscate 1 s of audio (100 frames) with onnxruntime on 1 and 2 threads and with libtorch
// eager; the export-side and session-side variants we tried; FLOPs per second of audio and the floor
// they imply at the measured matmul rate; real-time factor of the whole pipeline (TS spectrogram +
// windowed ORT + overlap-add) on 5/10/30/60 s; streaming latency against chunk size; int8.
// Printed beside the paper's Table 1. Weights are random (speed does not depend on them).
import os from 'node:os';
import { exportGenerator, type GeneratorShape } from '../src/edge/export-obfuscator.js';
import { generatorFlops } from '../src/edge/flops.js';
import { StreamingObfuscator, algorithmicLatency, obfuscateOffline, WINDOW_DEFAULTS } from '../src/edge/obfuscate.js';
import { encodeModel, type OnnxModel } from '../src/edge/onnx.js';
import { quantizeWeightsInt8 } from '../src/edge/quantize.js';
import { OnnxSession, type GraphOptimizationLevel } from '../src/edge/runtime.js';
import { plainStateDict } from '../src/methods/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { getNumThreads, keep, manualSeed, noGrad, randn, setNumThreads, tensor, tidy } from '../src/tensor/index.js';
import { formatValue, median, type Timing } from './format.js';
import type { BenchRow } from './types.js';

const SECTION = 'edge';
const FRAMES_PER_SECOND = 100; // hop 10 ms

/** Async median-of-repeats timer (bench/format.ts's measure is synchronous; ORT's run is async). */
async function measureAsync(fn: () => Promise<unknown>, warmup = 3, repeats = 15): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const xs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { median: median(xs), best: Math.min(...xs) };
}

const load = (): string => `load ${os.loadavg()[0]!.toFixed(1)}`;

function msRow(name: string, t: Timing, target?: string, extra = ''): BenchRow {
  return { section: SECTION, name, value: t.median * 1e3, unit: 'ms / s audio', ...(target ? { target } : {}),
    note: `best ${formatValue(t.best * 1e3)} ms; ${load()}${extra ? '; ' + extra : ''}` };
}

async function ortTiming(model: OnnxModel | Uint8Array, threads: number, level: GraphOptimizationLevel = 'all'): Promise<Timing> {
  const s = await OnnxSession.load(model instanceof Uint8Array ? model : encodeModel(model), { threads, optimizationLevel: level });
  const x = new Float32Array(161 * FRAMES_PER_SECOND).map((_, i) => Math.sin(i * 0.1));
  const t = await measureAsync(() => s.run({ data: x, dims: [1, 161, FRAMES_PER_SECOND] }));
  await s.close();
  return t;
}

/** GFLOP/s of a 1024² float32 matmul on libtorch with `threads` threads. */
function matmulRate(threads: number): number {
  const before = getNumThreads();
  setNumThreads(threads);
  const a = keep(randn([1024, 1024]));
  const b = keep(randn([1024, 1024]));
  const xs: number[] = [];
  noGrad(() => {
    for (let i = 0; i < 2; i++) a.matmul(b).dispose();
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      a.matmul(b).dispose();
      xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  });
  a.dispose();
  b.dispose();
  setNumThreads(before);
  return (2 * 1024 ** 3) / Math.min(...xs) / 1e9;
}

export async function benchEdge(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  manualSeed(0);
  const cfg: GeneratorShape = { nFreq: 161, channels: 32, residualBlocks: 3 };
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config(cfg)).eval();
  const weights = plainStateDict(g);
  const optimized = exportGenerator(cfg, weights);
  const literal = exportGenerator(cfg, weights, { optimize: false });

  // paper's Table 1 (obfuscator, ms per second of audio)
  for (const [device, ms] of [['Raspberry Pi 2B', 1923], ['Jetson TX1', 34], ['GTX 1080 Ti', 1]] as const) {
    rows.push({ section: SECTION, name: `paper Table 1: ${device}`, value: ms, unit: 'ms / s audio', note: 'Wang et al. 2022, for comparison' });
  }

  const ort1 = await ortTiming(optimized, 1);
  rows.push(msRow('onnxruntime fp32, 1 thread', ort1, '<= 20', 'fused export, graph opt all'));
  rows.push(msRow('onnxruntime fp32, 2 threads', await ortTiming(optimized, 2), undefined, 'fused export'));

  // libtorch eager on one thread, same input
  const before = getNumThreads();
  setNumThreads(1);
  const x = keep(tidy(() => randn([1, 161, FRAMES_PER_SECOND])));
  const xs: number[] = [];
  noGrad(() => {
    for (let i = 0; i < 3; i++) tidy(() => { g.forward(x); });
    for (let r = 0; r < 9; r++) {
      const t0 = process.hrtime.bigint();
      tidy(() => { g.forward(x).contiguous().toFloat32Array(); });
      xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  });
  x.dispose();
  setNumThreads(before);
  const eager = { median: median(xs), best: Math.min(...xs) };
  rows.push(msRow('libtorch eager fp32, 1 thread', eager, `> ${formatValue(ort1.median * 1e3)} (ORT)`));

  // what the export-side and session-side choices are worth (1 thread)
  rows.push(msRow('  variant: literal export (no folding/fusion)', await ortTiming(literal, 1)));
  for (const level of ['disabled', 'basic', 'extended'] as const) rows.push(msRow(`  variant: fused export, graph opt ${level}`, await ortTiming(optimized, 1, level)));

  // int8
  const int8 = quantizeWeightsInt8(optimized, 'dynamic');
  rows.push(msRow('onnxruntime int8 (dynamic ConvInteger), 1 thread', await ortTiming(int8, 1)));
  rows.push(msRow('onnxruntime int8 weights-only, 1 thread', await ortTiming(quantizeWeightsInt8(optimized, 'weights'), 1)));

  // FLOPs and the floor they imply
  const flops = generatorFlops(cfg, FRAMES_PER_SECOND);
  const rate = matmulRate(1);
  rows.push({ section: SECTION, name: 'obfuscator FLOPs per second of audio', value: flops / 1e9, unit: 'GFLOP', note: 'convolutions, C=32 R=3, 100 frames' });
  rows.push({ section: SECTION, name: 'floor at measured matmul rate (1 thread)', value: (flops / (rate * 1e9)) * 1e3, unit: 'ms / s audio',
    note: `libtorch matmul 1024² at ${formatValue(rate)} GFLOP/s; ORT reaches ${formatValue(flops / ort1.median / 1e9)} GFLOP/s` });

  // whole pipeline real-time factor (1 thread)
  const session = await OnnxSession.load(encodeModel(optimized), { threads: 1 });
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> => session.run(a);
  for (const seconds of [5, 10, 30, 60]) {
    const audio = Float32Array.from({ length: seconds * 16000 }, (_, i) => 0.3 * Math.sin(i * 0.03) * Math.sin(i * 0.0005) + 0.01 * Math.sin(i * 1.7));
    const t = await measureAsync(() => obfuscateOffline(forward, audio, WINDOW_DEFAULTS, true), 1, seconds >= 30 ? 3 : 5);
    rows.push({ section: SECTION, name: `real-time factor, ${seconds} s input (whole pipeline)`, value: t.median / seconds, unit: 'x real time',
      note: `${formatValue(t.median * 1e3)} ms; W=128 M=16; TS STFT + ORT 1 thread + iSTFT; ${load()}` });
  }

  // streaming latency against chunk size: algorithmic latency + the slowest push's compute
  const tenS = Float32Array.from({ length: 5 * 16000 }, (_, i) => 0.3 * Math.sin(i * 0.03) + 0.01 * Math.sin(i * 1.7));
  for (const chunkMs of [20, 50, 100, 200, 500]) {
    const chunk = (16000 * chunkMs) / 1000;
    const s = new StreamingObfuscator(forward, WINDOW_DEFAULTS);
    const pushes: number[] = [];
    for (let i = 0; i < tenS.length; i += chunk) {
      const t0 = process.hrtime.bigint();
      await s.push(tenS.subarray(i, i + chunk));
      pushes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await s.end();
    const algo = (1000 * algorithmicLatency(WINDOW_DEFAULTS, chunk)) / 16000;
    const worst = Math.max(...pushes);
    rows.push({ section: SECTION, name: `stream latency, chunk ${chunkMs} ms`, value: algo + worst, unit: 'ms',
      note: `algorithmic ${formatValue(algo)} ms + slowest push ${formatValue(worst)} ms (median push ${formatValue(median(pushes))} ms); W=128 M=16` });
  }
  await session.close();
  g.dispose();
  return rows;
}

// run alone: node dist/bench/edge.js
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import('./format.js');
  console.log(formatTable(await benchEdge()));
}
void tensor;
