// From libtorch modules and checkpoints to ONNX files: the adapter between src/models (libtorch) and
// src/edge (plain arrays only). It turns a state dict into `{ data, shape }` arrays, calls the
// exporter, checks the result structurally and writes it atomically; int8 copies are calibrated on
// the windows the deployed rule feeds the obfuscator. What int8 costs is measured in int8-cost.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { assertValidOnnx } from '../edge/checker.js';
import type { Weights } from '../edge/builder.js';
import { exportDeepSpeech2, inferDs2Shape } from '../edge/export-ds2.js';
import {
  exportGenerator,
  inferGeneratorShape,
  type GeneratorShape,
  type ObfuscatorExportOptions,
} from '../edge/export-obfuscator.js';
import { calibrate, quantizeStaticInt8, quantizeWeightsInt8, type QuantMode } from '../edge/quantize.js';
import { encodeModel } from '../edge/onnx.js';
import { windowPlan, WINDOW_DEFAULTS, type WindowConfig } from '../edge/obfuscate.js';
import type { FloatArray } from '../edge/runtime.js';
import { normalizeInPlace } from '../edge/spectrogram.js';
import type { SpecSet } from '../data/spec-set.js';
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
  if (!existsSync(file))
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `no checkpoint at ${file}; train one with \`earmark train-obfuscator\``,
    );
  const raw = decodeRaw(readFileSync(file), file);
  prefix ??= [...raw.tensors.keys()].some((k) => k.startsWith('bestObfuscator.')) ? 'bestObfuscator.' : 'obfuscator.';
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [k, t] of raw.tensors) {
    if (!k.startsWith(prefix) || t.dtype !== 'F32') continue;
    out.set(k.slice(prefix.length), { data: new Float32Array(new Uint8Array(t.data).buffer), shape: t.shape }); // copy: t.data views the file
  }
  if (out.size === 0)
    throw new EarmarkError(
      'EARMARK_CHECKPOINT',
      `${file} holds no tensors under '${prefix}'; give an obfuscator checkpoint (obfuscator.safetensors) or a module`,
    );
  return out;
}

/**
 * The obfuscator's weights and shape: from a module, or from a checkpoint (C and R read from its weights).
 * @param prefix the module inside a checkpoint (default: 'bestObfuscator' when present, else 'obfuscator')
 */
function generatorWeights(
  source: CycleGanVc2Generator | string,
  prefix?: string,
): { weights: Weights; shape: GeneratorShape } {
  if (typeof source === 'string') {
    const weights = checkpointWeights(source, prefix === undefined ? undefined : `${prefix}.`);
    return { weights, shape: inferGeneratorShape(weights) };
  }
  if (!(source instanceof CycleGanVc2Generator))
    throw new TypeError("'source' must be a CycleGanVc2Generator or the path of an obfuscator checkpoint");
  const { nFreq, channels, residualBlocks, norm } = source.config;
  const shape = { nFreq, channels, residualBlocks, ...(norm === 'time-local' ? { norm } : {}) };
  return { weights: plainStateDict(source), shape };
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
export function exportObfuscator(
  source: CycleGanVc2Generator | string,
  file: string,
  opts: ExportObfuscatorOptions = {},
): { file: string; int8File?: string } {
  const { weights, shape } = generatorWeights(source, opts.prefix);
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
export function exportTarget(
  source: DeepSpeech2 | string,
  file: string,
  metadata: Record<string, string> = {},
): string {
  let weights: Weights;
  let shape;
  if (typeof source === 'string') {
    weights = checkpointWeights(source, 'best.');
    shape = inferDs2Shape(weights);
  } else if (source instanceof DeepSpeech2) {
    weights = plainStateDict(source);
    shape = { ...source.config };
  } else throw new TypeError("'source' must be a DeepSpeech2 module or the path of a train-target checkpoint");
  const bytes = encodeModel(
    exportDeepSpeech2(shape, weights, {
      'earmark.source': typeof source === 'string' ? path.basename(source) : 'module',
      ...metadata,
    }),
  );
  assertValidOnnx(bytes, file);
  writeFileAtomicSync(file, bytes);
  return file;
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
      normalizeInPlace(x); // per window, as the deployed rule
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
export async function exportObfuscatorInt8(
  source: CycleGanVc2Generator | string,
  file: string,
  mode: QuantMode | 'static',
  calibration?: SpecSet,
  opts: ExportObfuscatorOptions = {},
): Promise<string> {
  const { weights, shape } = generatorWeights(source, opts.prefix);
  const model = exportGenerator(shape, weights, opts);
  let q;
  if (mode === 'static') {
    if (calibration === undefined || calibration.specs.length === 0)
      throw new TypeError("exportObfuscatorInt8: 'static' needs a calibration set (e.g. the training spectrograms)");
    q = quantizeStaticInt8(model, await calibrate(model, calibrationWindows(calibration)));
  } else q = quantizeWeightsInt8(model, mode);
  const bytes = encodeModel(q);
  assertValidOnnx(bytes, file);
  writeFileAtomicSync(file, bytes);
  return file;
}
