// From libtorch modules and checkpoints to ONNX files: the adapter between src/models (libtorch) and
// src/edge (plain arrays only). It turns a state dict into `{ data, shape }` arrays, calls the
// exporter, checks the result structurally and writes it atomically.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { assertValidOnnx } from '../edge/checker.js';
import type { Weights } from '../edge/builder.js';
import { exportDeepSpeech2, inferDs2Shape } from '../edge/export-ds2.js';
import { exportGenerator, inferGeneratorShape, type ObfuscatorExportOptions } from '../edge/export-obfuscator.js';
import { calibrate, quantizeStaticInt8, quantizeWeightsInt8, type QuantMode } from '../edge/quantize.js';
import { encodeModel } from '../edge/onnx.js';
import { obfuscateSpectrogram, windowPlan, WINDOW_DEFAULTS, type WindowConfig } from '../edge/obfuscate.js';
import { OnnxSession, type FloatArray } from '../edge/runtime.js';
import { edgeSpeed } from '../edge/speed.js';
import type { LabelledSet, SpecSet } from '../data/spec-set.js';
import { accuracy, predict } from '../methods/classifier.js';
import { CycleGanVc2Generator } from '../models/cyclegan-vc2.js';
import { DeepSpeech2 } from '../models/deepspeech2.js';
import type { Module } from '../nn/index.js';
import { decodeRaw } from '../serialize/safetensors-format.js';
import { tidy } from '../tensor/index.js';
import { writeFileAtomicSync } from '../util/atomic.js';

/**
 * A module's float state dict as plain arrays (integer buffers such as num_batches_tracked are skipped).
 * @example const w = plainStateDict(obfuscator); w.get('conv1.weight')!.shape // [16, 1, 5, 15]
 */
export function plainStateDict(m: Module): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [k, t] of m.stateDict()) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    out.set(k, { data: tidy(() => t.contiguous().toFloat32Array()), shape: t.shape });
  }
  return out;
}

/**
 * The float tensors under `prefix` of a safetensors checkpoint, read without libtorch. Without a prefix:
 * the selected obfuscator of a train-obfuscator checkpoint ('bestObfuscator.'), else 'obfuscator.'.
 */
function checkpointWeights(file: string, prefix?: string): Map<string, { data: Float32Array; shape: number[] }> {
  if (!existsSync(file)) throw new EarmarkError('EARMARK_CHECKPOINT', `no checkpoint at ${file}; train one with \`earmark train-obfuscator\``);
  const raw = decodeRaw(readFileSync(file), file);
  prefix ??= [...raw.tensors.keys()].some((k) => k.startsWith('bestObfuscator.')) ? 'bestObfuscator.' : 'obfuscator.';
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [k, t] of raw.tensors) {
    if (!k.startsWith(prefix) || t.dtype !== 'F32') continue;
    out.set(k.slice(prefix.length), { data: new Float32Array(new Uint8Array(t.data).buffer), shape: t.shape }); // copy: t.data views the file
  }
  if (out.size === 0) throw new EarmarkError('EARMARK_CHECKPOINT', `${file} holds no tensors under '${prefix}'; give an obfuscator checkpoint (obfuscator.safetensors) or a module`);
  return out;
}

export interface ExportObfuscatorOptions extends ObfuscatorExportOptions {
  /** Also write an int8 copy next to `file` (<name>.int8.onnx): true = 'dynamic' (see src/edge/quantize.ts). */
  int8?: boolean | QuantMode;
  /** The module prefix inside a checkpoint (default: the selected 'bestObfuscator' when present, else 'obfuscator'). */
  prefix?: string;
}

/**
 * Export the obfuscator F_σ to ONNX. Takes a module, or a checkpoint written by train-obfuscator (C and R
 * are read from its weights). Returns the written file(s).
 * @example exportObfuscator('runs/obfuscator/obfuscator.safetensors', 'obfuscator.onnx');
 */
export function exportObfuscator(source: CycleGanVc2Generator | string, file: string, opts: ExportObfuscatorOptions = {}): { file: string; int8File?: string } {
  let weights: Weights;
  let shape;
  if (typeof source === 'string') {
    weights = checkpointWeights(source, opts.prefix === undefined ? undefined : `${opts.prefix}.`);
    shape = inferGeneratorShape(weights);
  } else if (source instanceof CycleGanVc2Generator) {
    weights = plainStateDict(source);
    shape = { nFreq: source.config.nFreq, channels: source.config.channels, residualBlocks: source.config.residualBlocks };
  } else throw new TypeError("'source' must be a CycleGanVc2Generator or the path of an obfuscator checkpoint");
  const model = exportGenerator(shape, weights, opts);
  const bytes = encodeModel(model);
  assertValidOnnx(bytes, file);
  writeFileAtomicSync(file, bytes);
  if (!opts.int8) return { file };
  const int8File = file.replace(/(\.onnx)?$/, '.int8.onnx');
  const q = encodeModel(quantizeWeightsInt8(model, opts.int8 === true ? 'dynamic' : opts.int8));
  assertValidOnnx(q, int8File);
  writeFileAtomicSync(int8File, q);
  return { file, int8File };
}

/**
 * Export the DeepSpeech2 target model T (a module, or a train-target checkpoint) to ONNX.
 * @example exportTarget('runs/target/target.safetensors', 'target.onnx');
 */
export function exportTarget(source: DeepSpeech2 | string, file: string, metadata: Record<string, string> = {}): string {
  let weights: Weights;
  let shape;
  if (typeof source === 'string') {
    weights = checkpointWeights(source, 'best.');
    shape = inferDs2Shape(weights);
  } else if (source instanceof DeepSpeech2) {
    weights = plainStateDict(source);
    shape = { ...source.config };
  } else throw new TypeError("'source' must be a DeepSpeech2 module or the path of a train-target checkpoint");
  const bytes = encodeModel(exportDeepSpeech2(shape, weights, { 'earmark.source': typeof source === 'string' ? path.basename(source) : 'module', ...metadata }));
  assertValidOnnx(bytes, file);
  writeFileAtomicSync(file, bytes);
  return file;
}

/** T's accuracy on one labelled set after each obfuscator (ONNX files), with the deployed windowed rule. */
export interface Int8Cost {
  /** Accuracy of T on the clean set (no obfuscation). */
  clean: number;
  /** Accuracy of T on the set obfuscated by the float32 export, and by the int8 export. */
  fp32: number;
  int8: number;
  /** Utterances whose decision differs between fp32- and int8-obfuscated inputs. */
  changed: number;
  /** Mean |fp32 − int8| of the obfuscated spectrograms (normalised units). */
  meanAbsDiff: number;
}

/**
 * The cost of int8: T's accuracy (vote counting) on `set` obfuscated by the fp32 and by the int8 ONNX
 * obfuscator, both applied with the windowed rule on the set's (per-utterance normalised) features.
 * Attackers can be scored the same way by passing them as `target`.
 * @example const cost = await int8Cost(target, 'obf.onnx', 'obf.int8.onnx', testSet);
 */
export async function int8Cost(target: DeepSpeech2, fp32Onnx: string, int8Onnx: string, data: LabelledSet, window: WindowConfig = WINDOW_DEFAULTS): Promise<Int8Cost> {
  const [a, b] = await Promise.all([OnnxSession.load(fp32Onnx), OnnxSession.load(int8Onnx)]);
  try {
    const mapAll = async (s: OnnxSession): Promise<SpecSet> => {
      const specs: Float32Array[] = [];
      for (let i = 0; i < data.set.specs.length; i++) specs.push(await obfuscateSpectrogram((x) => s.run(x), data.set.specs[i]!, data.set.nFreq, data.set.frames[i]!, window));
      return { ...data.set, specs };
    };
    const fp = await mapAll(a);
    const q = await mapAll(b);
    const pf = predict(target, fp);
    const pq = predict(target, q);
    let diff = 0;
    let count = 0;
    fp.specs.forEach((s, i) => { for (let j = 0; j < s.length; j++) { diff += Math.abs(s[j]! - q.specs[i]![j]!); count++; } });
    return {
      clean: accuracy(predict(target, data.set), data.labels), fp32: accuracy(pf, data.labels), int8: accuracy(pq, data.labels),
      changed: pf.filter((p, i) => p !== pq[i]).length, meanAbsDiff: diff / Math.max(1, count),
    };
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * Per-window normalised obfuscator inputs (1, nFreq, len) from a spectrogram set, as the deployed
 * windowed rule feeds them (calibration data for static int8).
 */
export function calibrationWindows(set: SpecSet, window: WindowConfig = WINDOW_DEFAULTS, max = 64): FloatArray[] {
  const out: FloatArray[] = [];
  for (let i = 0; i < set.specs.length && out.length < max; i++) {
    const n = set.frames[i]!;
    for (const s of windowPlan(n, window)) {
      if (out.length >= max) break;
      const len = s.end - s.start;
      const x = new Float32Array(set.nFreq * len);
      for (let f = 0; f < set.nFreq; f++) x.set(set.specs[i]!.subarray(f * n + s.start, f * n + s.end), f * len);
      let mean = 0;
      for (const v of x) mean += v;
      mean /= x.length;
      let sq = 0;
      for (const v of x) sq += (v - mean) ** 2;
      const std = Math.max(Math.sqrt(sq / Math.max(1, x.length - 1)), 1e-10);
      for (let j = 0; j < x.length; j++) x[j] = (x[j]! - mean) / std;
      out.push({ data: x, dims: [1, set.nFreq, len] });
    }
  }
  return out;
}

/**
 * Write an int8 obfuscator: 'static' (QDQ → QLinearConv, calibrated on `calibration`'s windows; the
 * fastest), 'dynamic' (ConvInteger) or 'weights' (weight-only). Measure its cost with `int8Cost`.
 * @example await exportObfuscatorInt8(obfuscator, 'obf.int8.onnx', 'static', trainSet);
 */
export async function exportObfuscatorInt8(source: CycleGanVc2Generator | string, file: string, mode: QuantMode | 'static', calibration?: SpecSet,
  opts: ExportObfuscatorOptions = {}): Promise<string> {
  let weights: Weights;
  let shape;
  if (typeof source === 'string') {
    weights = checkpointWeights(source, opts.prefix === undefined ? undefined : `${opts.prefix}.`);
    shape = inferGeneratorShape(weights);
  } else {
    weights = plainStateDict(source);
    shape = { nFreq: source.config.nFreq, channels: source.config.channels, residualBlocks: source.config.residualBlocks };
  }
  const model = exportGenerator(shape, weights, opts);
  let q;
  if (mode === 'static') {
    if (calibration === undefined || calibration.specs.length === 0) throw new TypeError("exportObfuscatorInt8: 'static' needs a calibration set (e.g. the training spectrograms)");
    q = quantizeStaticInt8(model, await calibrate(model, calibrationWindows(calibration)));
  } else q = quantizeWeightsInt8(model, mode);
  const bytes = encodeModel(q);
  assertValidOnnx(bytes, file);
  writeFileAtomicSync(file, bytes);
  return file;
}

/**
 * The demo's last step: export the obfuscator to `<dir>/obfuscator.onnx` and measure its onnxruntime
 * speed on one thread; returns a printable line.
 * @example console.log(await exportAndMeasure(run.obfuscator, 'runs/demo'));
 */
export async function exportAndMeasure(obfuscator: CycleGanVc2Generator | string, dir: string): Promise<string> {
  const file = path.join(dir, 'obfuscator.onnx');
  exportObfuscator(obfuscator, file);
  const s = await edgeSpeed(file, 1);
  return `edge: ${file} (onnxruntime, no libtorch) obfuscates 1 s of audio in ${s.msPerSecond.toFixed(1)} ms on 1 thread ` +
    `(best ${s.bestMs.toFixed(1)} ms; paper Table 1: Raspberry Pi 2B 1923 ms, Jetson TX1 34 ms, GTX 1080 Ti 1 ms)`;
}
