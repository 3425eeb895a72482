// The exported obfuscators the browser sensor can offer: runs/<name>/obfuscator.onnx (written by
// `earmark experiment` and `earmark demo`), each with its task (the run's report.json target.task) and
// its window (the model's `earmark.features` metadata), plus models named explicitly.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { OUTPUT_LEVEL_DEFAULTS } from '../edge/obfuscate.js';
import { decodeModel } from '../edge/onnx.js';
import type { SensorWindow } from './protocol.js';

export interface WebModel {
  /** URL-safe id, unique within one server ('m0', 'm1', …). */
  id: string;
  /** Absolute path of the .onnx file. */
  file: string;
  /** Display name: the run folder, or the file name. */
  name: string;
  task: string;
  window: SensorWindow;
}

/** The window stored in an exported obfuscator's metadata (src/edge/obfuscate-io.ts windowFromModel's rule). */
function windowOf(meta: Record<string, string>): SensorWindow {
  let stored: Partial<SensorWindow> = {};
  try {
    stored = JSON.parse(meta['earmark.features'] ?? '{}') as Partial<SensorWindow>;
  } catch {
    /* no earmark metadata: defaults */
  }
  return {
    windowFrames: stored.windowFrames ?? 128,
    lookaheadFrames: stored.lookaheadFrames ?? 16,
    outputMean: stored.outputMean ?? OUTPUT_LEVEL_DEFAULTS.mean,
    outputStd: stored.outputStd ?? OUTPUT_LEVEL_DEFAULTS.std,
  };
}

/** The task of a run folder's report.json (experiments write target.task), if any. */
function taskOfRun(dir: string): string | undefined {
  const report = path.join(dir, 'report.json');
  if (!existsSync(report)) return undefined;
  try {
    const r = JSON.parse(readFileSync(report, 'utf8')) as { target?: { task?: unknown } };
    return typeof r.target?.task === 'string' ? r.target.task : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One model entry. `task` defaults to the run's report.json target.task, else the model's `earmark.task`
 * metadata, else 'task'.
 * @example const m = describeModel('runs/fig4/obfuscator.onnx', 'm0'); // { task: 'speaker', window: {…}, … }
 */
export function describeModel(file: string, id: string, task?: string): WebModel {
  const abs = path.resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(abs);
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `--model ${file} cannot be read (${(e as Error).message}); give an exported obfuscator .onnx`,
    );
  }
  let meta: Record<string, string>;
  try {
    meta = decodeModel(bytes).metadata;
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_IO',
      `${file} is not an ONNX model (${(e as Error).message}); ` +
        'export one with `earmark experiment` or `earmark demo`',
    );
  }
  const dir = path.dirname(abs);
  const name = path.basename(abs) === 'obfuscator.onnx' ? path.basename(dir) : path.basename(abs, '.onnx');
  return {
    id,
    file: abs,
    name,
    task: task ?? taskOfRun(dir) ?? meta['earmark.task'] ?? 'task',
    window: windowOf(meta),
  };
}

/**
 * Every <dir>/<run>/obfuscator.onnx, sorted by run name.
 * @example const models = findModels('runs');
 */
export function findModels(dir: string, firstId = 0): WebModel[] {
  if (!existsSync(dir)) return [];
  const runs = readdirSync(dir)
    .filter((d) => existsSync(path.join(dir, d, 'obfuscator.onnx')) && statSync(path.join(dir, d)).isDirectory())
    .sort();
  return runs.map((d, i) => describeModel(path.join(dir, d, 'obfuscator.onnx'), `m${firstId + i}`));
}
