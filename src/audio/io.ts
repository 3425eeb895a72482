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

/** Decoded audio: one Float32Array per channel, all the same length. */
export interface AudioData {
  channels: Float32Array[];
  sampleRate: number;
}

/** Mono audio (after `downmix`). */
export interface MonoAudio {
  samples: Float32Array;
  sampleRate: number;
}

export interface DecodeOptions {
  /** The file the bytes came from, named in errors (default '<buffer>'). */
  path?: string;
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
// errors

function audioError(file: string, what: string, fix: string, cause?: unknown): EarmarkError {
  return new EarmarkError('EARMARK_AUDIO', `${file}: ${what}. ${fix}`, cause === undefined ? undefined : { cause });
}

const REEXPORT = 'Re-export or re-download the file (e.g. `ffmpeg -i in -c:a pcm_s16le out.wav`)';

// ---------------------------------------------------------------------------------------------
// WAV reading

const WAVE_FORMAT = { pcm: 0x0001, float: 0x0003, alaw: 0x0006, mulaw: 0x0007, extensible: 0xfffe } as const;

/** Codec names for the tags people meet in practice, so the error can say what the file holds. */
const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM', 0x0011: 'IMA ADPCM', 0x0031: 'GSM 6.10', 0x0050: 'MPEG-1 audio',
  0x0055: 'MPEG Layer 3 (MP3)', 0x0161: 'Windows Media Audio', 0x1610: 'AAC', 0xf1ac: 'FLAC',
};

// KSDATAFORMAT_SUBTYPE_* GUIDs are xxxxxxxx-0000-0010-8000-00aa00389b71 with the tag in the first two bytes
const SUBTYPE_SUFFIX = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface WavFormat {
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  /** Bytes per sample in the container (8-bit = 1, 24-bit = 3). */
  bytes: number;
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function hexHead(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function parseFmt(view: DataView, at: number, size: number, file: string): WavFormat {
  if (size < 16) {
    throw audioError(file, `'fmt ' chunk is ${size} bytes, smaller than the 16 bytes every WAV format needs`,
      `The header is corrupt. ${REEXPORT}`);
  }
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT.extensible) {
    if (size < 40) {
      throw audioError(file, `WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is ${size} bytes, it needs 40`,
        `The header is corrupt. ${REEXPORT}`);
    }
    const guid = new Uint8Array(view.buffer, view.byteOffset + at + 26, 14);
    tag = view.getUint16(at + 24, true);
    if (!SUBTYPE_SUFFIX.every((v, i) => guid[i] === v)) {
      throw audioError(file, 'WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a standard KSDATAFORMAT subtype',
        `Only PCM, IEEE float, A-law and mu-law are read. ${REEXPORT}`);
    }
  }
  if (tag !== WAVE_FORMAT.pcm && tag !== WAVE_FORMAT.float && tag !== WAVE_FORMAT.alaw && tag !== WAVE_FORMAT.mulaw) {
    const name = KNOWN_TAGS[tag] ?? 'an unknown codec';
    throw audioError(file, `WAV format tag 0x${tag.toString(16).padStart(4, '0')} (${name}) is not supported`,
      'Supported inside WAV: PCM 8/16/24/32-bit, IEEE float 32/64-bit, A-law, mu-law. ' +
      'Convert it (e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`) or pass the audio in its own container (.mp3, .flac)');
  }
  if (channels === 0) throw audioError(file, "'fmt ' chunk declares 0 channels", `The header is corrupt. ${REEXPORT}`);
  if (sampleRate === 0) throw audioError(file, "'fmt ' chunk declares a sample rate of 0 Hz", `The header is corrupt. ${REEXPORT}`);
  const okBits = tag === WAVE_FORMAT.pcm ? bits >= 1 && bits <= 32 : tag === WAVE_FORMAT.float ? bits === 32 || bits === 64 : bits === 8;
  if (!okBits) {
    throw audioError(file, `${bits} bits per sample is not valid for format tag ${tag}`,
      `Expected PCM 8/16/24/32, float 32/64 or 8-bit A-law/mu-law. ${REEXPORT}`);
  }
  const bytes = Math.ceil(bits / 8);
  if (blockAlign !== channels * bytes) {
    throw audioError(file, `block align is ${blockAlign} but ${channels} channel(s) × ${bytes} byte(s) = ${channels * bytes}`,
      `The header is inconsistent. ${REEXPORT}`);
  }
  return { tag, channels, sampleRate, blockAlign, bytes };
}

/**
 * Decode a RIFF/WAVE file held in memory (synchronous; `decodeAudio` dispatches here for WAV).
 * Unknown chunks are skipped, odd-sized chunks are followed by their pad byte, and the RIFF size
 * field is not trusted (streaming writers leave it 0 or 0xFFFFFFFF); the `data` chunk must fit.
 * @example const { channels, sampleRate } = decodeWav(readFileSync('a.wav'), { path: 'a.wav' });
 */
export function decodeWav(bytes: Uint8Array, opts: DecodeOptions = {}): AudioData {
  const file = opts.path ?? '<buffer>';
  if (bytes.length === 0) throw audioError(file, 'is empty (0 bytes)', 'Check that the file was written completely');
  if (bytes.length < 12) {
    throw audioError(file, `is truncated: ${bytes.length} bytes, shorter than the 12-byte RIFF header`, REEXPORT);
  }
  if (fourcc(bytes, 0) !== 'RIFF') {
    throw audioError(file, `is not a RIFF file (starts with ${hexHead(bytes)})`,
      fourcc(bytes, 0) === 'RIFX' || fourcc(bytes, 0) === 'RF64'
        ? `${fourcc(bytes, 0)} WAV files are not supported. ${REEXPORT}`
        : 'Check the path points at a WAV file');
  }
  if (fourcc(bytes, 8) !== 'WAVE') {
    throw audioError(file, `is a RIFF file of form '${fourcc(bytes, 8)}', not 'WAVE'`, 'Check the path points at a WAV file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: WavFormat | null = null;
  let data: { at: number; size: number } | null = null;
  let pos = 12;
  while (pos + 8 <= bytes.length && (fmt === null || data === null)) {
    const id = fourcc(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const remain = bytes.length - body;
    if (size > remain) {
      const what = id === 'data' ? 'data' : id === 'fmt ' ? "'fmt '" : `'${id}'`;
      throw audioError(file, `is truncated or its header is corrupt: the ${what} chunk at byte ${pos} declares ` +
        `${size} bytes but only ${remain} remain in the file`, REEXPORT);
    }
    if (id === 'fmt ') fmt = parseFmt(view, body, size, file);
    else if (id === 'data') data = { at: body, size };
    pos = body + size + (size & 1);
  }
  if (fmt === null || data === null) {
    const missing = fmt === null ? "'fmt '" : "'data'";
    throw audioError(file, pos < bytes.length
      ? `is truncated: ${bytes.length - pos} stray byte(s) where a chunk header should be, and no ${missing} chunk`
      : `has no ${missing} chunk (the file is truncated or holds no audio)`, REEXPORT);
  }
  if (data.size % fmt.blockAlign !== 0) {
    throw audioError(file, `data chunk is ${data.size} bytes, not a whole number of ${fmt.blockAlign}-byte frames`,
      `The file is truncated or corrupt. ${REEXPORT}`);
  }
  const frames = data.size / fmt.blockAlign;
  if (frames === 0) throw audioError(file, 'holds zero-length audio (an empty data chunk)', 'Check that the recording is not empty');
  const channels = readSamples(view, data.at, frames, fmt);
  checkFinite(channels, file);
  return { channels, sampleRate: fmt.sampleRate };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readSamples(view: DataView, at: number, frames: number, f: WavFormat): Float32Array[] {
  const out = Array.from({ length: f.channels }, () => new Float32Array(frames));
  // fast paths for the common formats (~5× faster): a typed-array view of the data, copied first if misaligned
  const fast = LITTLE_ENDIAN && ((f.tag === WAVE_FORMAT.pcm && f.bytes === 2) || (f.tag === WAVE_FORMAT.float && f.bytes === 4));
  if (fast) {
    const n = frames * f.channels;
    const offset = view.byteOffset + at;
    const [buf, off] = offset % f.bytes === 0 ? [view.buffer, offset] : [new Uint8Array(view.buffer, offset, n * f.bytes).slice().buffer, 0];
    const src = f.bytes === 2 ? new Int16Array(buf, off, n) : new Float32Array(buf, off, n);
    const scale = f.bytes === 2 ? 1 / 32768 : 1;
    for (let c = 0; c < f.channels; c++) {
      const dst = out[c]!;
      for (let i = 0, p = c; i < frames; i++, p += f.channels) dst[i] = src[p]! * scale;
    }
    return out;
  }
  const read = sampleReader(view, f);
  for (let i = 0, p = at; i < frames; i++) {
    for (let c = 0; c < f.channels; c++, p += f.bytes) out[c]![i] = read(p);
  }
  return out;
}

function sampleReader(v: DataView, f: WavFormat): (p: number) => number {
  if (f.tag === WAVE_FORMAT.float) return f.bytes === 4 ? (p) => v.getFloat32(p, true) : (p) => v.getFloat64(p, true);
  if (f.tag === WAVE_FORMAT.mulaw) return (p) => MULAW[v.getUint8(p)]!;
  if (f.tag === WAVE_FORMAT.alaw) return (p) => ALAW[v.getUint8(p)]!;
  switch (f.bytes) {
    case 1: return (p) => (v.getUint8(p) - 128) / 128;
    case 2: return (p) => v.getInt16(p, true) / 32768;
    case 3: return (p) => ((v.getUint8(p) | (v.getUint8(p + 1) << 8) | (v.getInt8(p + 2) << 16)) / 8388608);
    default: return (p) => v.getInt32(p, true) / 2147483648;
  }
}

// G.711 expansion tables (ITU-T G.711), scaled to [-1, 1)
const MULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return ((u & 0x80) ? 0x84 - t : t - 0x84) / 32768;
});
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return ((a & 0x80) ? t : -t) / 32768;
});

function checkFinite(channels: Float32Array[], file: string): void {
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw audioError(file, `sample ${i} of channel ${c} is ${x[i]}`,
          'The file is corrupt or was written from unnormalised/NaN data; fix the producer and re-export it');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// any format

/**
 * Decode audio bytes of any supported container: WAV with our strict reader, the rest
 * (FLAC, MP3, Ogg Vorbis/Opus, M4A/AAC, AIFF, CAF, WebM…) with `audio-decode`.
 * @example const { channels, sampleRate } = await decodeAudio(await readFile(p), { path: p });
 */
export async function decodeAudio(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<AudioData> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`'bytes' must be a Uint8Array or Buffer, got ${typeof bytes}`);
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
      throw audioError(file, `is not a recognised audio file (starts with ${hexHead(bytes)})`,
        'Supported: WAV, FLAC, MP3, Ogg Vorbis/Opus, M4A/AAC, AIFF, CAF, WebM; check the path points at audio', e);
    }
    throw audioError(file, `could not be decoded: ${msg}`, `The file may be truncated or corrupt. ${REEXPORT}`, e);
  }
  const channels = decoded.channelData.map((c) => (c instanceof Float32Array ? c : Float32Array.from(c)));
  const frames = channels[0]?.length ?? 0;
  if (channels.length === 0 || frames === 0) {
    throw audioError(file, `holds zero-length audio`, 'Check that the recording is not empty or truncated');
  }
  if (!(decoded.sampleRate > 0)) throw audioError(file, `decoded with sample rate ${decoded.sampleRate}`, REEXPORT);
  if (channels.some((c) => c.length !== frames)) throw audioError(file, 'decoded channels have different lengths', REEXPORT);
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
  if (typeof file !== 'string' || file === '') throw new TypeError(`'path' must be a non-empty string, got ${JSON.stringify(file)}`);
  if (opts.sampleRate !== undefined && !(Number.isFinite(opts.sampleRate) && opts.sampleRate > 0)) {
    throw new RangeError(`'sampleRate' must be a positive number of Hz, got ${opts.sampleRate}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const fix = code === 'ENOENT' ? 'Check the path (relative paths resolve from the working directory)'
      : code === 'EACCES' || code === 'EPERM' ? 'Check the file permissions'
      : code === 'EISDIR' ? 'Pass a file, not a directory' : 'Check the path and the disk';
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
  if (!Array.isArray(channels) || channels.length === 0) throw new RangeError("'channels' must be a non-empty array of Float32Array");
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

const CONVERTER: Record<ResampleQuality, 0 | 1 | 2 | 3 | 4> = { best: 0, medium: 1, fastest: 2, zeroOrderHold: 3, linear: 4 };

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
export async function resample(samples: Float32Array, from: number, to: number,
  opts: { quality?: ResampleQuality } = {}): Promise<Float32Array> {
  if (!(samples instanceof Float32Array)) throw new TypeError(`'samples' must be a Float32Array, got ${typeof samples}`);
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`'${name}' must be a positive sample rate in Hz, got ${v}`);
  }
  if (to / from > 256 || from / to > 256) throw new RangeError(`resampling ratio ${to}/${from} is outside libsamplerate's 1/256..256`);
  const quality = opts.quality ?? 'best';
  if (!(quality in CONVERTER)) throw new RangeError(`'quality' must be one of ${Object.keys(CONVERTER).join(', ')}, got ${quality}`);
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

// ---------------------------------------------------------------------------------------------
// WAV writing

export interface WriteWavOptions {
  /** 'pcm16' (default): 16-bit PCM, clipped to [-1, 1); 'float32': IEEE float, exact. */
  format?: 'pcm16' | 'float32';
}

/**
 * Encode samples (mono Float32Array, or one per channel) as a WAV file in memory.
 * pcm16 stores round(x · 32768) clipped to [-32768, 32767], so what `decodeWav` reads back is exact
 * for values on that grid. More than two channels use WAVE_FORMAT_EXTENSIBLE.
 * @example const bytes = encodeWav([left, right], 44100, { format: 'float32' });
 */
export function encodeWav(samples: Float32Array | readonly Float32Array[], sampleRate: number, opts: WriteWavOptions = {}): Uint8Array {
  const channels = samples instanceof Float32Array ? [samples] : samples;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => c instanceof Float32Array)) {
    throw new TypeError("'samples' must be a Float32Array or a non-empty array of Float32Array (one per channel)");
  }
  const frames = channels[0]!.length;
  if (channels.some((c) => c.length !== frames)) throw new RangeError("'samples' channels must all have the same length");
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new RangeError(`'sampleRate' must be a positive integer, got ${sampleRate}`);
  const format = opts.format ?? 'pcm16';
  if (format !== 'pcm16' && format !== 'float32') throw new RangeError(`'format' must be 'pcm16' or 'float32', got ${String(format)}`);
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < frames; i++) {
      if (!Number.isFinite(x[i]!)) throw new RangeError(`'samples' channel ${c} sample ${i} is ${x[i]}; WAV cannot store it`);
    }
  }
  const nc = channels.length;
  const bytes = format === 'pcm16' ? 2 : 4;
  const tag = format === 'pcm16' ? WAVE_FORMAT.pcm : WAVE_FORMAT.float;
  const extensible = nc > 2;
  const fmtSize = extensible ? 40 : format === 'float32' ? 18 : 16;
  const factSize = format === 'float32' ? 12 : 0; // non-PCM formats carry a 'fact' chunk (frame count)
  const dataSize = frames * nc * bytes;
  const total = 12 + 8 + fmtSize + factSize + 8 + dataSize + (dataSize & 1);
  if (total > 0xffffffff) throw new RangeError(`'samples' is too long for a WAV file (${total} bytes > 4 GiB)`);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string): void => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF'); v.setUint32(4, total - 8, true); ascii(8, 'WAVE');
  ascii(12, 'fmt '); v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? WAVE_FORMAT.extensible : tag, true);
  v.setUint16(22, nc, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * nc * bytes, true);
  v.setUint16(32, nc * bytes, true);
  v.setUint16(34, bytes * 8, true);
  if (fmtSize > 16) v.setUint16(36, fmtSize - 18, true); // cbSize
  if (extensible) {
    v.setUint16(38, bytes * 8, true); // valid bits
    v.setUint32(40, 0, true); // channel mask: unassigned
    v.setUint16(44, tag, true);
    out.set(SUBTYPE_SUFFIX, 46);
  }
  let p = 20 + fmtSize;
  if (factSize) { ascii(p, 'fact'); v.setUint32(p + 4, 4, true); v.setUint32(p + 8, frames, true); p += 12; }
  ascii(p, 'data'); v.setUint32(p + 4, dataSize, true); p += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nc; c++, p += bytes) {
      const x = channels[c]![i]!;
      if (format === 'float32') v.setFloat32(p, x, true);
      else v.setInt16(p, Math.max(-32768, Math.min(32767, Math.round(x * 32768))), true);
    }
  }
  return out;
}

/**
 * Write a WAV file atomically: a temporary file beside the target, then rename, so readers never see
 * half a file.
 * @example await writeWav('out.wav', samples, 16000, { format: 'float32' });
 */
export async function writeWav(file: string, samples: Float32Array | readonly Float32Array[], sampleRate: number,
  opts: WriteWavOptions = {}): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new TypeError(`'path' must be a non-empty string, got ${JSON.stringify(file)}`);
  const bytes = encodeWav(samples, sampleRate, opts);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new EarmarkError('EARMARK_IO', `cannot write ${file}: ${(e as Error).message}. Check that the directory exists and is writable`, { cause: e });
  }
}
