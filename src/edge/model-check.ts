// Is this file an exported obfuscator? Checked before a grant binds an app to it, so that a WAV, a
// folder or a target model is refused at `earmark grant` time and not discovered by the app as a 1011.
import { readFileSync, statSync } from 'node:fs';
import { EarmarkError } from '../errors.js';
import { decodeModel, type ValueInfo } from './onnx.js';
import { OnnxSession } from './runtime.js';

const AUDIO_SIGNATURES: [string, string][] = [
  ['RIFF', 'a WAV file'],
  ['fLaC', 'a FLAC file'],
  ['OggS', 'an Ogg file'],
  ['ID3', 'an MP3 file'],
];

/**
 * Refuse anything but an obfuscator ONNX model: one input and one output, both (batch, 161, time), no
 * other earmark kind in its metadata, and a test forward on (1, 161, 16) that returns that shape with
 * finite values. Errors name the file and say what it is instead.
 * @example await checkObfuscatorModel('runs/demo-cpu/obfuscator.onnx');
 */
export async function checkObfuscatorModel(file: string, nFreq = 161): Promise<void> {
  const refuse = (what: string): never => {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `--model ${file} ${what}; give the obfuscator .onnx written by the export ` +
        '(e.g. runs/demo-cpu/obfuscator.onnx, or `exportObfuscator`)',
    );
  };
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return refuse(
      code === 'ENOENT'
        ? "does not exist; export the task's obfuscator first"
        : `cannot be opened (${code ?? (e as Error).message})`,
    );
  }
  if (st.isDirectory()) return refuse('is a folder, not an ONNX model');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return refuse(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const head = Buffer.from(bytes.subarray(0, 4)).toString('latin1');
  for (const [sig, what] of AUDIO_SIGNATURES) if (head.startsWith(sig)) refuse(`is ${what}, not an ONNX model`);
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    return refuse(`is not an ONNX model (${(e as Error).message})`);
  }
  const kind = model.metadata['earmark.kind'];
  if (kind !== undefined && kind !== 'obfuscator') refuse(`is an earmark '${kind}' model, not an obfuscator`);
  const io = (v: ValueInfo[], what: string): void => {
    if (v.length !== 1) refuse(`has ${v.length} ${what}s; an obfuscator has one (batch, ${nFreq}, time)`);
    const shape = v[0]!.shape ?? [];
    if (shape.length !== 3 || shape[1] !== nFreq)
      refuse(`has ${what} shape (${shape.join(', ')}); an obfuscator's is (batch, ${nFreq}, time)`);
  };
  io(model.graph.inputs, 'input');
  io(model.graph.outputs, 'output');
  const session = await OnnxSession.load(bytes);
  try {
    const frames = 16;
    const x = Float32Array.from({ length: nFreq * frames }, (_, i) => Math.sin(i * 0.37));
    let y;
    try {
      y = await session.run({ data: x, dims: [1, nFreq, frames] });
    } catch (e) {
      return refuse(`fails on a test input (1, ${nFreq}, ${frames}): ${(e as Error).message}`);
    }
    if (y.dims.join() !== [1, nFreq, frames].join())
      refuse(`maps (1, ${nFreq}, ${frames}) to (${y.dims.join(', ')}); an obfuscator keeps the shape`);
    if (!y.data.every(Number.isFinite)) refuse('returns NaN or infinite values on a test input');
  } finally {
    await session.close();
  }
}
