// Edge section of `npm run bench` (issue 7): the obfuscator (default preset C=32, R=3) on the device
// path. ms to obfuscate 1 s of audio (100 frames) with onnxruntime on 1 and 2 threads and with libtorch
// eager; the export-side and session-side variants we tried; FLOPs per second of audio and the floor
// they imply at the measured matmul rate; real-time factor of the whole pipeline (TS spectrogram +
// windowed ORT + overlap-add) on 5/10/30/60 s; streaming latency against chunk size; int8.
// Printed beside the paper's Table 1. Weights are random (speed does not depend on them).
import os from 'node:os';
import { exportGenerator, type GeneratorShape } from '../src/edge/export-obfuscator.js';
import { generatorFlops } from '../src/edge/flops.js';
import {
  StreamingObfuscator,
  algorithmicLatency,
  obfuscateOffline,
  WINDOW_DEFAULTS,
  type WindowConfig,
} from '../src/edge/obfuscate.js';
import { encodeModel, type OnnxModel } from '../src/edge/onnx.js';
import { calibrate, quantizeStaticInt8, quantizeWeightsInt8 } from '../src/edge/quantize.js';
import { Ds2Frontend, normalizeInPlace } from '../src/edge/spectrogram.js';
import { OnnxSession, type GraphOptimizationLevel } from '../src/edge/runtime.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { getNumThreads, keep, manualSeed, noGrad, randn, setNumThreads, tensor, tidy } from '../src/tensor/index.js';
import { formatValue, median, type Timing } from './format.js';
import type { BenchRow } from './types.js';

const SECTION = 'edge';
const FRAMES_PER_SECOND = 100; // hop 10 ms

/** Normalised 128-frame windows of a speech-like synthetic signal (calibration / held-out input). */
function speechLikeWindows(n: number): { data: Float32Array; dims: number[] }[] {
  const audio = Float32Array.from(
    { length: 16000 * 2 * n },
    (_, i) =>
      0.3 * Math.sin(i * 0.03 + 3 * Math.sin(i * 0.0003)) * Math.sin(i * 0.0005) +
      0.02 * Math.sin(i * 1.7) +
      0.01 * Math.sin(i * 2.9 + Math.sin(i * 0.01)),
  );
  const a = new Ds2Frontend().analyze(audio);
  return Array.from({ length: n }, (_, k) => {
    const x = new Float32Array(161 * 128);
    for (let f = 0; f < 161; f++)
      x.set(a.logMag.subarray(f * a.frames + 150 * k, f * a.frames + 150 * k + 128), f * 128);
    normalizeInPlace(x);
    return { data: x, dims: [1, 161, 128] };
  });
}

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
  return {
    section: SECTION,
    name,
    value: t.median * 1e3,
    unit: 'ms / s audio',
    ...(target ? { target } : {}),
    note: `best ${formatValue(t.best * 1e3)} ms; ${load()}${extra ? '; ' + extra : ''}`,
  };
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
  for (const [device, ms] of [
    ['Raspberry Pi 2B', 1923],
    ['Jetson TX1', 34],
    ['GTX 1080 Ti', 1],
  ] as const) {
    rows.push({
      section: SECTION,
      name: `paper Table 1: ${device}`,
      value: ms,
      unit: 'ms / s audio',
      note: 'Wang et al. 2022, for comparison',
    });
  }

  // every variant timed round-robin (one call each per round), so load swings hit them all alike
  const x100 = new Float32Array(161 * FRAMES_PER_SECOND).map((_, i) => Math.sin(i * 0.1) + Math.cos(i * 0.013));
  const calib = speechLikeWindows(4);
  const ranges = await calibrate(optimized, calib.slice(0, 3));
  const staticQ = quantizeStaticInt8(optimized, ranges);
  const variants: [string, OnnxModel, number, GraphOptimizationLevel, string?][] = [
    ['onnxruntime fp32, 1 thread', optimized, 1, 'extended', '<= 20'],
    ['onnxruntime fp32, 2 threads', optimized, 2, 'extended'],
    ['  variant: graph opt all (adds NCHWc layouts)', optimized, 1, 'all'],
    ['  variant: graph opt basic', optimized, 1, 'basic'],
    ['  variant: graph opt disabled', optimized, 1, 'disabled'],
    ['  variant: literal export (no folding/fusion), opt extended', literal, 1, 'extended'],
    ['onnxruntime int8 static QDQ (QLinearConv), 1 thread', staticQ, 1, 'all'],
    ['onnxruntime int8 dynamic (ConvInteger), 1 thread', quantizeWeightsInt8(optimized, 'dynamic'), 1, 'extended'],
    ['onnxruntime int8 weight-only, 1 thread', quantizeWeightsInt8(optimized, 'weights'), 1, 'extended'],
  ];
  const sessions = await Promise.all(
    variants.map(([, m, threads, level]) => OnnxSession.load(encodeModel(m), { threads, optimizationLevel: level })),
  );
  const before = getNumThreads();
  setNumThreads(1);
  const xt = keep(tidy(() => tensor(x100, [1, 161, FRAMES_PER_SECOND])));
  const eagerCall = (): void =>
    noGrad(() =>
      tidy(() => {
        g.forward(xt).contiguous().toFloat32Array();
      }),
    );
  const times: number[][] = variants.map(() => []);
  const eagerTimes: number[] = [];
  for (let round = -3; round < 21; round++) {
    for (const [i, s] of sessions.entries()) {
      const t0 = process.hrtime.bigint();
      await s.run({ data: x100, dims: [1, 161, FRAMES_PER_SECOND] });
      if (round >= 0) times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const t0 = process.hrtime.bigint();
    eagerCall();
    if (round >= 0) eagerTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  xt.dispose();
  setNumThreads(before);
  // int8 error against fp32 on a held-out speech-like window (random weights: a rough proxy; use int8Cost with a trained model)
  const held = calib[3]!;
  const ref = (await sessions[0]!.run(held)).data;
  const errOf = async (s: OnnxSession): Promise<string> => {
    const y = (await s.run(held)).data;
    let mae = 0;
    let ms = 0;
    for (let i = 0; i < y.length; i++) {
      mae += Math.abs(y[i]! - ref[i]!);
      ms += ref[i]! ** 2;
    }
    return `mean |Δ| vs fp32 = ${formatValue(mae / y.length / Math.sqrt(ms / y.length))} × rms (random weights)`;
  };
  const timing = (xs: number[]): Timing => ({ median: median(xs), best: Math.min(...xs) });
  const ort1 = timing(times[0]!);
  for (const [i, [name, , , level, target]] of variants.entries()) {
    const extra = name.includes('int8') ? await errOf(sessions[i]!) : `graph opt ${level}`;
    rows.push(msRow(name, timing(times[i]!), target, extra));
    if (i === 1)
      rows.push(
        msRow(
          'libtorch eager fp32, 1 thread',
          timing(eagerTimes),
          `> ${formatValue(ort1.median * 1e3)} (ORT)`,
          'same input, noGrad',
        ),
      );
  }
  for (const s of sessions) await s.close();

  // FLOPs and the floor they imply
  const flops = generatorFlops(cfg, FRAMES_PER_SECOND);
  const rate = matmulRate(1);
  rows.push({
    section: SECTION,
    name: 'obfuscator FLOPs per second of audio',
    value: flops / 1e9,
    unit: 'GFLOP',
    note: 'convolutions, C=32 R=3, 100 frames',
  });
  rows.push({
    section: SECTION,
    name: 'floor at measured matmul rate (1 thread)',
    value: (flops / (rate * 1e9)) * 1e3,
    unit: 'ms / s audio',
    note: `libtorch matmul 1024² at ${formatValue(rate)} GFLOP/s; ORT reaches ${formatValue(flops / ort1.median / 1e9)} GFLOP/s`,
  });

  // whole pipeline real-time factor (1 thread)
  const session = await OnnxSession.load(encodeModel(optimized), { threads: 1 });
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    session.run(a);
  for (const seconds of [5, 10, 30, 60]) {
    const audio = Float32Array.from(
      { length: seconds * 16000 },
      (_, i) => 0.3 * Math.sin(i * 0.03) * Math.sin(i * 0.0005) + 0.01 * Math.sin(i * 1.7),
    );
    const t = await measureAsync(
      () => obfuscateOffline(forward, audio, WINDOW_DEFAULTS, true),
      1,
      seconds >= 30 ? 3 : 5,
    );
    rows.push({
      section: SECTION,
      name: `real-time factor, ${seconds} s input (whole pipeline)`,
      value: t.median / seconds,
      unit: 'x real time',
      note: `${formatValue(t.median * 1e3)} ms; W=128 M=16; TS STFT + ORT 1 thread + iSTFT; ${load()}`,
    });
  }

  // streaming latency against chunk size: algorithmic latency + the slowest push's compute
  const tenS = Float32Array.from({ length: 5 * 16000 }, (_, i) => 0.3 * Math.sin(i * 0.03) + 0.01 * Math.sin(i * 1.7));
  const cases: [number, WindowConfig][] = [
    ...[20, 50, 100, 200, 500].map((ms): [number, WindowConfig] => [ms, WINDOW_DEFAULTS]),
    [100, { windowFrames: 64, lookaheadFrames: 8 }],
    [100, { windowFrames: 32, lookaheadFrames: 4 }],
  ];
  for (const [chunkMs, win] of cases) {
    const chunk = (16000 * chunkMs) / 1000;
    const s = new StreamingObfuscator(forward, win);
    const pushes: number[] = [];
    for (let i = 0; i < tenS.length; i += chunk) {
      const t0 = process.hrtime.bigint();
      await s.push(tenS.subarray(i, i + chunk));
      pushes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await s.end();
    const algo = (1000 * algorithmicLatency(win, chunk)) / 16000;
    const worst = Math.max(...pushes);
    rows.push({
      section: SECTION,
      name: `stream latency, chunk ${chunkMs} ms, W=${win.windowFrames} M=${win.lookaheadFrames}`,
      value: algo + worst,
      unit: 'ms',
      note: `algorithmic ${formatValue(algo)} ms + slowest push ${formatValue(worst)} ms (median push ${formatValue(median(pushes))} ms); ${load()}`,
    });
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
