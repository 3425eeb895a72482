// The library behind `earmark obfuscate`: file → file (WAV, .npy or safetensors) and raw PCM stream →
// obfuscated PCM or frames, both with the windowed rule of obfuscate.ts; audio is synthesised from the
// obfuscated magnitude alone (synthesis.ts) unless the caller asks for the unsafe original phase.
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { loadAudio, writeWav } from '../audio/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import {
  OUTPUT_LEVEL_DEFAULTS,
  StreamingObfuscator,
  algorithmicLatency,
  checkWindow,
  obfuscateOffline,
  type WindowConfig,
} from './obfuscate.js';
import { PHASE_METHODS, type SynthesisConfig } from './synthesis.js';
import { PcmDecoder, encodeNpy, encodePcm16, encodeSafetensorsF32 } from './pcm.js';
import { OnnxSession } from './runtime.js';

export const SAMPLE_RATE = 16000;

/** The window config stored in an exported obfuscator's metadata (defaults where it has none). */
export function storedWindow(session: OnnxSession): WindowConfig {
  let stored: Partial<WindowConfig> = {};
  try {
    stored = JSON.parse(session.metadata['earmark.features'] ?? '{}') as Partial<WindowConfig>;
  } catch {
    /* a model without earmark metadata: defaults */
  }
  // a model exported before the fixed output level: the documented defaults (never the input's level)
  return {
    windowFrames: stored.windowFrames ?? 128,
    lookaheadFrames: stored.lookaheadFrames ?? 16,
    outputMean: stored.outputMean ?? OUTPUT_LEVEL_DEFAULTS.mean,
    outputStd: stored.outputStd ?? OUTPUT_LEVEL_DEFAULTS.std,
  };
}

/** The window config stored in an exported obfuscator's metadata, overridden by explicit values. */
export function windowFromModel(session: OnnxSession, overrides: Partial<WindowConfig> = {}): WindowConfig {
  const stored = storedWindow(session);
  const w = {
    windowFrames: overrides.windowFrames ?? stored.windowFrames,
    lookaheadFrames: overrides.lookaheadFrames ?? stored.lookaheadFrames,
    outputMean: overrides.outputMean ?? stored.outputMean!,
    outputStd: overrides.outputStd ?? stored.outputStd!,
  };
  try {
    checkWindow(w);
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `window W=${w.windowFrames}, look-ahead M=${w.lookaheadFrames} (from --window/--lookahead or ${session.source}'s metadata): ${(e as Error).message}`,
    );
  }
  return w;
}

/** Printed on every start that uses the original phase (`--unsafe-original-phase`). */
export const UNSAFE_ORIGINAL_PHASE_WARNING =
  "WARNING: --unsafe-original-phase: the audio carries the INPUT's STFT phase, which keeps the original voice " +
  'intelligible whatever the obfuscator does to the magnitude (a model that outputs nothing still leaks the input). ' +
  'Never ship this audio to an app; it exists to compare against the phase-free synthesis.';

/** The user-given knobs of `earmark obfuscate`, before they are turned into a window and a session. */
export interface ObfuscateKnobs {
  threads?: number;
  window?: number;
  lookahead?: number;
  chunkMs?: number;
  format?: string;
  phase?: string;
  /** true when --in names a file (not '-'). */
  fileMode: boolean;
}

/**
 * Refuse out-of-range `earmark obfuscate` flags before any work, naming the flag, the value and the fix.
 * The look-ahead is at most W/4 so that each window keeps at least half of its frames (checked once both are
 * known: call again with the model's window when only one was given).
 * @example checkObfuscateKnobs({ threads: -3, fileMode: true }); // throws: --threads must be …
 */
export function checkObfuscateKnobs(k: ObfuscateKnobs): void {
  const bad = (msg: string): never => {
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', msg);
  };
  const int = (v: number | undefined): boolean => v === undefined || Number.isInteger(v);
  if (k.threads !== undefined && (!int(k.threads) || k.threads < 1 || k.threads > 256))
    bad(`--threads must be an integer from 1 to 256 (onnxruntime threads), got ${k.threads}`);
  if (k.window !== undefined && (!int(k.window) || k.window < 8 || k.window > 4096))
    bad(`--window must be an integer from 8 to 4096 frames (the model's default is 128), got ${k.window}`);
  if (k.lookahead !== undefined && (!int(k.lookahead) || k.lookahead < 0))
    bad(`--lookahead must be an integer >= 0 frames, got ${k.lookahead}`);
  if (k.lookahead !== undefined && k.window !== undefined && 4 * k.lookahead > k.window) {
    bad(
      `--lookahead ${k.lookahead} is more than a quarter of the window (W = ${k.window} frames); each window must keep at least half its frames: use --lookahead ${Math.floor(k.window / 4)} or less`,
    );
  }
  if (k.chunkMs !== undefined && !(Number.isFinite(k.chunkMs) && k.chunkMs >= 1 && k.chunkMs <= 10000))
    bad(`--chunk-ms must be from 1 to 10000 ms, got ${k.chunkMs}`);
  if (k.fileMode && k.format !== undefined)
    bad(
      `--format ${k.format} applies to stream mode (--in -); in file mode the --out extension chooses: .wav for audio, .npy or .safetensors for frames`,
    );
  if (k.format !== undefined && k.format !== 'pcm' && k.format !== 'frames')
    bad(`--format must be 'pcm' or 'frames', got '${k.format}'`);
  const methods = PHASE_METHODS.filter((m) => m !== 'unsafe-original-phase');
  if (k.phase !== undefined && !methods.includes(k.phase as never))
    bad(
      `--phase must be one of ${methods.join(', ')}, got '${k.phase}' (the original phase needs --unsafe-original-phase)`,
    );
}

export type FileOutputFormat = 'wav' | 'npy' | 'safetensors';

/** The format an output path asks for, by extension. */
export function outputFormat(file: string): FileOutputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.wav') return 'wav';
  if (ext === '.npy') return 'npy';
  if (ext === '.safetensors') return 'safetensors';
  throw new EarmarkError(
    'EARMARK_BAD_ARGUMENT',
    `--out '${file}' has an unknown extension '${ext}'; use .wav (audio), .npy or .safetensors (obfuscated spectrogram)`,
  );
}

/**
 * Obfuscate an audio file into a WAV (synthesised from the obfuscated magnitude alone) or the obfuscated
 * log1p|STFT| spectrogram (161, frames) as .npy / safetensors. `limitedSamples` counts the WAV samples
 * the soft limiter touched.
 * @example await obfuscateFile(session, 'in.flac', 'out.wav', windowFromModel(session));
 */
export async function obfuscateFile(
  session: OnnxSession,
  input: string,
  output: string,
  w: WindowConfig,
  synthesis: Partial<SynthesisConfig> = {},
): Promise<{ seconds: number; frames: number; samples: number; limitedSamples: number; gainDb: number }> {
  const format = outputFormat(output);
  let audio;
  try {
    audio = await loadAudio(input, { sampleRate: SAMPLE_RATE, mono: true });
  } catch (e) {
    if (e instanceof EarmarkError) throw e;
    throw new EarmarkError(
      'EARMARK_AUDIO',
      `cannot use ${input}: ${(e as Error).message}; check its header (sample rate, channels) or convert it to 16 kHz mono WAV`,
      { cause: e },
    );
  }
  let r;
  try {
    r = await obfuscateOffline((x) => session.run(x), audio.samples, w, format === 'wav', synthesis);
  } catch (e) {
    if (e instanceof RangeError) throw new EarmarkError('EARMARK_AUDIO', `${input}: ${e.message}`, { cause: e });
    throw e;
  }
  if (format === 'wav') await writeWav(output, r.audio!, SAMPLE_RATE);
  else {
    const meta = {
      'earmark.content': 'obfuscated log1p|STFT| (161, frames), windowed rule',
      'earmark.window': JSON.stringify(w),
      'earmark.source': path.basename(input),
    };
    const bytes =
      format === 'npy'
        ? encodeNpy(r.logMag, [r.nFreq, r.frames])
        : encodeSafetensorsF32('obfuscated', r.logMag, [r.nFreq, r.frames], meta);
    await writeFileAtomic(output, bytes);
  }
  return {
    seconds: audio.samples.length / SAMPLE_RATE,
    frames: r.frames,
    samples: audio.samples.length,
    limitedSamples: r.limitedSamples ?? 0,
    gainDb: r.gainDb ?? 0,
  };
}

export interface StreamOptions {
  window: WindowConfig;
  /** Samples per processing step (default 1600 = 100 ms). */
  chunkSamples: number;
  /** 'pcm': s16le audio; 'frames': float32 frames of 161 values (obfuscated log1p|STFT|). */
  output: 'pcm' | 'frames';
  source?: string;
  /** How PCM is synthesised (default SYNTHESIS_DEFAULTS: from the obfuscated magnitude alone). */
  synthesis?: Partial<SynthesisConfig>;
}

/**
 * Raw s16le 16 kHz mono PCM in → obfuscated PCM or frames out, processed every `chunkSamples`.
 * Ends with an EarmarkError naming the problem when the input is cut mid-sample, is a container file,
 * or is shorter than one frame.
 * @example await obfuscatePcmStream(session, process.stdin, (b) => process.stdout.write(b), opts);
 */
export async function obfuscatePcmStream(
  session: OnnxSession,
  input: AsyncIterable<Uint8Array>,
  write: (b: Uint8Array) => void | Promise<void>,
  o: StreamOptions,
): Promise<{ samples: number; latencySamples: number; limitedSamples: number; gainDb: number }> {
  if (!Number.isInteger(o.chunkSamples) || o.chunkSamples < 1)
    throw new RangeError(`'chunkSamples' must be an integer >= 1, got ${o.chunkSamples}`);
  const dec = new PcmDecoder(o.source ?? 'stdin');
  const s = new StreamingObfuscator((x) => session.run(x), o.window, {
    audio: o.output === 'pcm',
    ...(o.synthesis ? { synthesis: o.synthesis } : {}),
  });
  let limited = 0;
  let pending: Float32Array[] = [];
  let pendingLen = 0;
  const emit = async (r: { frames: Float32Array; audio: Float32Array; limitedSamples: number }): Promise<void> => {
    limited += r.limitedSamples;
    const bytes =
      o.output === 'pcm'
        ? encodePcm16(r.audio)
        : new Uint8Array(r.frames.buffer, r.frames.byteOffset, r.frames.byteLength);
    if (bytes.length) await write(bytes);
  };
  const flush = async (): Promise<void> => {
    const x = new Float32Array(pendingLen);
    let at = 0;
    for (const p of pending) {
      x.set(p, at);
      at += p.length;
    }
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
  return {
    samples: s.received,
    latencySamples: algorithmicLatency(o.window, o.chunkSamples),
    limitedSamples: limited,
    gainDb: s.gainDb,
  };
}
