// The library behind `earmark obfuscate`: file → file (WAV, .npy or safetensors) and raw PCM stream →
// obfuscated PCM or frames, both with the windowed rule of obfuscate.ts.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { loadAudio, writeWav } from '../audio/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { StreamingObfuscator, algorithmicLatency, obfuscateOffline, type WindowConfig } from './obfuscate.js';
import { PcmDecoder, encodeNpy, encodePcm16, encodeSafetensorsF32 } from './pcm.js';
import { OnnxSession } from './runtime.js';

export const SAMPLE_RATE = 16000;

/** The window config stored in an exported obfuscator's metadata, overridden by explicit values. */
export function windowFromModel(session: OnnxSession, overrides: Partial<WindowConfig> = {}): WindowConfig {
  let stored: Partial<WindowConfig> = {};
  try {
    stored = JSON.parse(session.metadata['earmark.features'] ?? '{}') as Partial<WindowConfig>;
  } catch { /* a model without earmark metadata: defaults */ }
  return {
    windowFrames: overrides.windowFrames ?? stored.windowFrames ?? 128,
    lookaheadFrames: overrides.lookaheadFrames ?? stored.lookaheadFrames ?? 16,
  };
}

export type FileOutputFormat = 'wav' | 'npy' | 'safetensors';

/** The format an output path asks for, by extension. */
export function outputFormat(file: string): FileOutputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.wav') return 'wav';
  if (ext === '.npy') return 'npy';
  if (ext === '.safetensors') return 'safetensors';
  throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--out '${file}' has an unknown extension '${ext}'; use .wav (audio), .npy or .safetensors (obfuscated spectrogram)`);
}

/**
 * Obfuscate an audio file into a WAV (obfuscated magnitude, original phase) or the obfuscated log1p|STFT|
 * spectrogram (161, frames) as .npy / safetensors.
 * @example await obfuscateFile(session, 'in.flac', 'out.wav', windowFromModel(session));
 */
export async function obfuscateFile(session: OnnxSession, input: string, output: string, w: WindowConfig): Promise<{ seconds: number; frames: number }> {
  const format = outputFormat(output);
  const audio = await loadAudio(input, { sampleRate: SAMPLE_RATE, mono: true });
  const r = await obfuscateOffline((x) => session.run(x), audio.samples, w, format === 'wav');
  if (format === 'wav') await writeWav(output, r.audio!, SAMPLE_RATE);
  else {
    const meta = { 'earmark.content': 'obfuscated log1p|STFT| (161, frames), windowed rule', 'earmark.window': JSON.stringify(w), 'earmark.source': path.basename(input) };
    const bytes = format === 'npy' ? encodeNpy(r.logMag, [r.nFreq, r.frames]) : encodeSafetensorsF32('obfuscated', r.logMag, [r.nFreq, r.frames], meta);
    await writeFileAtomic(output, bytes);
  }
  return { seconds: audio.samples.length / SAMPLE_RATE, frames: r.frames };
}

export interface StreamOptions {
  window: WindowConfig;
  /** Samples per processing step (default 1600 = 100 ms). */
  chunkSamples: number;
  /** 'pcm': s16le audio; 'frames': float32 frames of 161 values (obfuscated log1p|STFT|). */
  output: 'pcm' | 'frames';
  source?: string;
}

/**
 * Raw s16le 16 kHz mono PCM in → obfuscated PCM or frames out, processed every `chunkSamples`.
 * Ends with an EarmarkError naming the problem when the input is cut mid-sample, is a container file,
 * or is shorter than one frame.
 * @example await obfuscatePcmStream(session, process.stdin, (b) => process.stdout.write(b), opts);
 */
export async function obfuscatePcmStream(session: OnnxSession, input: AsyncIterable<Uint8Array>, write: (b: Uint8Array) => void | Promise<void>,
  o: StreamOptions): Promise<{ samples: number; latencySamples: number }> {
  if (!Number.isInteger(o.chunkSamples) || o.chunkSamples < 1) throw new RangeError(`'chunkSamples' must be an integer >= 1, got ${o.chunkSamples}`);
  const dec = new PcmDecoder(o.source ?? 'stdin');
  const s = new StreamingObfuscator((x) => session.run(x), o.window, { audio: o.output === 'pcm' });
  let pending: Float32Array[] = [];
  let pendingLen = 0;
  const emit = async (r: { frames: Float32Array; audio: Float32Array }): Promise<void> => {
    const bytes = o.output === 'pcm' ? encodePcm16(r.audio) : new Uint8Array(r.frames.buffer, r.frames.byteOffset, r.frames.byteLength);
    if (bytes.length) await write(bytes);
  };
  const flush = async (): Promise<void> => {
    const x = new Float32Array(pendingLen);
    let at = 0;
    for (const p of pending) { x.set(p, at); at += p.length; }
    pending = [];
    pendingLen = 0;
    await emit(await s.push(x));
  };
  for await (const chunk of input) {
    const x = dec.decode(chunk);
    pending.push(x);
    pendingLen += x.length;
    while (pendingLen >= o.chunkSamples) await flush();
  }
  dec.end();
  if (pendingLen) await flush();
  try {
    await emit(await s.end());
  } catch (e) {
    if (e instanceof RangeError) throw new EarmarkError('EARMARK_AUDIO', `${o.source ?? 'stdin'}: ${e.message}`);
    throw e;
  }
  return { samples: s.received, latencySamples: algorithmicLatency(o.window, o.chunkSamples) };
}
