// Audio in and out. WAV (RIFF/WAVE) goes through our own strict reader so that every malformed header
// gets an error naming the file, the field and the fix; every other container (FLAC, MP3, Ogg
// Vorbis/Opus, M4A/AAC, AIFF, …) goes through `audio-decode` (wasm decoders, no system libraries).
// Then: mono downmix, libsamplerate resampling (SRC_SINC_BEST_QUALITY by default), peak
// normalisation, and atomic WAV writing (16-bit PCM or 32-bit float).
//
// Samples are Float32Array, one per channel, in [-1, 1) for integer formats:
// 8-bit (u - 128) / 128, 16-bit s / 32768, 24-bit s / 2^23, 32-bit s / 2^31 (the symmetric
// libsndfile/soundfile reading). Note: deepspeech.pytorch's `load_audio` divides int16 by 32767, and
// so does audio-decode's FLAC decoder; the 3e-5 relative gain difference vanishes in DS2's
// per-utterance normalisation. Lossy stream decoders (MP3, Ogg) tolerate a truncated tail and return
// what they could decode; only empty results are refused.
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { EarmarkError } from '../errors.js';
import {
  audioError,
  checkFinite,
  decodeWav,
  encodeWav,
  fourcc,
  hexHead,
  REEXPORT,
  type AudioData,
  type DecodeOptions,
  type WriteWavOptions,
} from './wav.js';

// the WAV codec (wav.ts) is part of this module's surface: every audio file passes through here
export { decodeWav, encodeWav, type AudioData, type DecodeOptions, type WriteWavOptions } from './wav.js';

/** Mono audio (after `downmix`). */
export interface MonoAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface LoadOptions {
  /** Resample to this rate (Hz) when the file's rate differs. */
  sampleRate?: number;
  /** Average the channels into one (default false). */
  mono?: boolean;
  /** Scale so that max |x| equals this peak (e.g. 1); silence is left as is. */
  peak?: number;
  /** Resampler quality (default 'best' = SRC_SINC_BEST_QUALITY). */
  quality?: ResampleQuality;
}

// ---------------------------------------------------------------------------------------------
// any format

/**
 * Decode audio bytes of any supported container: WAV with our strict reader, the rest
 * (FLAC, MP3, Ogg Vorbis/Opus, M4A/AAC, AIFF, CAF, WebM…) with `audio-decode`.
 * @example const { channels, sampleRate } = await decodeAudio(await readFile(p), { path: p });
 */
export async function decodeAudio(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<AudioData> {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`'bytes' must be a Uint8Array or Buffer, got ${typeof bytes}`);
  const file = opts.path ?? '<buffer>';
  if (bytes.length === 0) throw audioError(file, 'is empty (0 bytes)', 'Check that the file was written completely');
  if (bytes.length >= 4 && ['RIFF', 'RIFX', 'RF64'].includes(fourcc(bytes, 0))) return decodeWav(bytes, opts);
  const { default: decode } = await import('audio-decode');
  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded = await decode(bytes);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (/unknown audio format|no decoder for/i.test(msg)) {
      throw audioError(
        file,
        `is not a recognised audio file (starts with ${hexHead(bytes)})`,
        'Supported: WAV, FLAC, MP3, Ogg Vorbis/Opus, M4A/AAC, AIFF, CAF, WebM; check the path points at audio',
        e,
      );
    }
    throw audioError(file, `could not be decoded: ${msg}`, `The file may be truncated or corrupt. ${REEXPORT}`, e);
  }
  const channels = decoded.channelData.map((c) => (c instanceof Float32Array ? c : Float32Array.from(c)));
  const frames = channels[0]?.length ?? 0;
  if (channels.length === 0 || frames === 0) {
    throw audioError(file, `holds zero-length audio`, 'Check that the recording is not empty or truncated');
  }
  if (!(decoded.sampleRate > 0)) throw audioError(file, `decoded with sample rate ${decoded.sampleRate}`, REEXPORT);
  if (channels.some((c) => c.length !== frames))
    throw audioError(file, 'decoded channels have different lengths', REEXPORT);
  checkFinite(channels, file);
  return { channels, sampleRate: decoded.sampleRate };
}

/**
 * Read and decode an audio file, then optionally downmix, resample and peak-normalise (in that order).
 * @example const { samples, sampleRate } = await loadAudio('a.flac', { sampleRate: 16000, mono: true });
 */
export async function loadAudio(file: string, opts: LoadOptions & { mono: true }): Promise<MonoAudio>;
export async function loadAudio(file: string, opts?: LoadOptions): Promise<AudioData>;
export async function loadAudio(file: string, opts: LoadOptions = {}): Promise<AudioData | MonoAudio> {
  if (typeof file !== 'string' || file === '')
    throw new TypeError(`'path' must be a non-empty string, got ${JSON.stringify(file)}`);
  if (opts.sampleRate !== undefined && !(Number.isFinite(opts.sampleRate) && opts.sampleRate > 0)) {
    throw new RangeError(`'sampleRate' must be a positive number of Hz, got ${opts.sampleRate}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const fix =
      code === 'ENOENT'
        ? 'Check the path (relative paths resolve from the working directory)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'Check the file permissions'
          : code === 'EISDIR'
            ? 'Pass a file, not a directory'
            : 'Check the path and the disk';
    throw audioError(file, `cannot be read (${(e as Error).message})`, fix, e);
  }
  const audio = await decodeAudio(bytes, { path: file });
  let channels = opts.mono ? [downmix(audio.channels)] : audio.channels;
  let sampleRate = audio.sampleRate;
  if (opts.sampleRate !== undefined && opts.sampleRate !== sampleRate) {
    const to = opts.sampleRate;
    channels = await Promise.all(channels.map((c) => resample(c, sampleRate, to, { quality: opts.quality })));
    sampleRate = to;
  }
  if (opts.peak !== undefined) channels = peakNormalizeChannels(channels, opts.peak);
  return opts.mono ? { samples: channels[0]!, sampleRate } : { channels, sampleRate };
}

// ---------------------------------------------------------------------------------------------
// channel and level

/**
 * Mean of the channels (a copy even for mono input).
 * @example const mono = downmix([left, right]);
 */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (!Array.isArray(channels) || channels.length === 0)
    throw new RangeError("'channels' must be a non-empty array of Float32Array");
  const n = channels[0]!.length;
  if (channels.some((c) => c.length !== n)) throw new RangeError("'channels' must all have the same length");
  if (channels.length === 1) return channels[0]!.slice();
  const out = new Float64Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  const k = 1 / channels.length;
  return Float32Array.from(out, (v) => v * k);
}

/**
 * Scale so that max |x| = `peak` (default 1). All-zero input is returned unchanged (copied).
 * @example const y = peakNormalize(x); // max |y| === 1
 */
export function peakNormalize(samples: Float32Array, peak = 1): Float32Array {
  return peakNormalizeChannels([samples], peak)[0]!;
}

/** Peak normalisation with one gain for all channels (keeps the balance). */
export function peakNormalizeChannels(channels: readonly Float32Array[], peak = 1): Float32Array[] {
  if (!(Number.isFinite(peak) && peak > 0)) throw new RangeError(`'peak' must be a positive number, got ${peak}`);
  let max = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) max = Math.max(max, Math.abs(c[i]!));
  if (max === 0) return channels.map((c) => c.slice());
  const g = peak / max;
  return channels.map((c) => c.map((v) => v * g));
}

// ---------------------------------------------------------------------------------------------
// resampling (libsamplerate, wasm)

export type ResampleQuality = 'best' | 'medium' | 'fastest' | 'zeroOrderHold' | 'linear';

const CONVERTER: Record<ResampleQuality, 0 | 1 | 2 | 3 | 4> = {
  best: 0,
  medium: 1,
  fastest: 2,
  zeroOrderHold: 3,
  linear: 4,
};

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>;
// libsamplerate's wasm module is instantiated per converter (async): keep a few for reuse
const converters = new Map<string, Promise<Converter>>();

function converter(from: number, to: number, quality: ResampleQuality): Promise<Converter> {
  const key = `${from}:${to}:${quality}`;
  let c = converters.get(key);
  if (c === undefined) {
    if (converters.size >= 8) {
      const [oldKey, old] = converters.entries().next().value as [string, Promise<Converter>];
      converters.delete(oldKey);
      void old.then((o) => o.destroy());
    }
    c = libsamplerate.create(1, from, to, { converterType: CONVERTER[quality] });
    c.catch(() => converters.delete(key)); // a failed wasm start is retried next time
    converters.set(key, c);
  }
  return c;
}

/**
 * Resample mono samples with libsamplerate (band-limited sinc; 'best' = SRC_SINC_BEST_QUALITY).
 * The output has ceil(n · to / from) samples and no delay: sample i sits at time i / to.
 * @example const y = await resample(x, 44100, 16000);
 */
export async function resample(
  samples: Float32Array,
  from: number,
  to: number,
  opts: { quality?: ResampleQuality } = {},
): Promise<Float32Array> {
  if (!(samples instanceof Float32Array))
    throw new TypeError(`'samples' must be a Float32Array, got ${typeof samples}`);
  for (const [name, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0))
      throw new RangeError(`'${name}' must be a positive sample rate in Hz, got ${v}`);
  }
  if (to / from > 256 || from / to > 256)
    throw new RangeError(`resampling ratio ${to}/${from} is outside libsamplerate's 1/256..256`);
  const quality = opts.quality ?? 'best';
  if (!(quality in CONVERTER))
    throw new RangeError(`'quality' must be one of ${Object.keys(CONVERTER).join(', ')}, got ${quality}`);
  if (from === to) return samples.slice();
  const want = Math.ceil((samples.length * to) / from);
  if (samples.length === 0) return new Float32Array(0);
  // libsamplerate's simple API stops a sample or so short of n·ratio: feed a few zeros so the tail is flushed
  const padded = new Float32Array(samples.length + Math.ceil(from / to) + 2);
  padded.set(samples);
  const y = (await converter(from, to, quality)).simple(padded);
  const out = new Float32Array(want);
  out.set(y.subarray(0, Math.min(want, y.length)));
  return out;
}

/**
 * Write a WAV file atomically: a temporary file beside the target, then rename, so readers never see
 * half a file.
 * @example await writeWav('out.wav', samples, 16000, { format: 'float32' });
 */
export async function writeWav(
  file: string,
  samples: Float32Array | readonly Float32Array[],
  sampleRate: number,
  opts: WriteWavOptions = {},
): Promise<void> {
  if (typeof file !== 'string' || file === '')
    throw new TypeError(`'path' must be a non-empty string, got ${JSON.stringify(file)}`);
  const bytes = encodeWav(samples, sampleRate, opts);
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new EarmarkError(
      'EARMARK_IO',
      `cannot write ${file}: ${(e as Error).message}. Check that the directory exists and is writable`,
      { cause: e },
    );
  }
}
