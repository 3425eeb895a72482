// The WAV (RIFF/WAVE) codec: a strict reader (PCM 8/16/24/32-bit, IEEE float, A-law, µ-law,
// WAVE_FORMAT_EXTENSIBLE, RIFX/RF64 refused by name) whose every malformed header gets an error naming
// the file, the field and the fix, and the encoder writeWav uses (16-bit PCM or 32-bit float). Other
// containers and file I/O are in io.ts, which re-exports decodeWav and encodeWav.
//
// Samples are Float32Array, one per channel, in [-1, 1) for integer formats:
// 8-bit (u - 128) / 128, 16-bit s / 32768, 24-bit s / 2^23, 32-bit s / 2^31 (the symmetric
// libsndfile/soundfile reading).
import { EarmarkError } from '../errors.js';

/** Decoded audio: one Float32Array per channel, all the same length. */
export interface AudioData {
  channels: Float32Array[];
  sampleRate: number;
}

export interface DecodeOptions {
  /** The file the bytes came from, named in errors (default '<buffer>'). */
  path?: string;
}

// ---------------------------------------------------------------------------------------------
// errors

export function audioError(file: string, what: string, fix: string, cause?: unknown): EarmarkError {
  return new EarmarkError('EARMARK_AUDIO', `${file}: ${what}. ${fix}`, cause === undefined ? undefined : { cause });
}

export const REEXPORT = 'Re-export or re-download the file (e.g. `ffmpeg -i in -c:a pcm_s16le out.wav`)';

// ---------------------------------------------------------------------------------------------
// WAV reading

const WAVE_FORMAT = { pcm: 0x0001, float: 0x0003, alaw: 0x0006, mulaw: 0x0007, extensible: 0xfffe } as const;

/** Codec names for the tags people meet in practice, so the error can say what the file holds. */
const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG-1 audio',
  0x0055: 'MPEG Layer 3 (MP3)',
  0x0161: 'Windows Media Audio',
  0x1610: 'AAC',
  0xf1ac: 'FLAC',
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

export function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

export function hexHead(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function parseFmt(view: DataView, at: number, size: number, file: string): WavFormat {
  if (size < 16) {
    throw audioError(
      file,
      `'fmt ' chunk is ${size} bytes, smaller than the 16 bytes every WAV format needs`,
      `The header is corrupt. ${REEXPORT}`,
    );
  }
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT.extensible) {
    if (size < 40) {
      throw audioError(
        file,
        `WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is ${size} bytes, it needs 40`,
        `The header is corrupt. ${REEXPORT}`,
      );
    }
    const guid = new Uint8Array(view.buffer, view.byteOffset + at + 26, 14);
    tag = view.getUint16(at + 24, true);
    if (!SUBTYPE_SUFFIX.every((v, i) => guid[i] === v)) {
      throw audioError(
        file,
        'WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a standard KSDATAFORMAT subtype',
        `Only PCM, IEEE float, A-law and mu-law are read. ${REEXPORT}`,
      );
    }
  }
  if (tag !== WAVE_FORMAT.pcm && tag !== WAVE_FORMAT.float && tag !== WAVE_FORMAT.alaw && tag !== WAVE_FORMAT.mulaw) {
    const name = KNOWN_TAGS[tag] ?? 'an unknown codec';
    throw audioError(
      file,
      `WAV format tag 0x${tag.toString(16).padStart(4, '0')} (${name}) is not supported`,
      'Supported inside WAV: PCM 8/16/24/32-bit, IEEE float 32/64-bit, A-law, mu-law. ' +
        'Convert it (e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`) or pass the audio in its own container (.mp3, .flac)',
    );
  }
  if (channels === 0) throw audioError(file, "'fmt ' chunk declares 0 channels", `The header is corrupt. ${REEXPORT}`);
  if (sampleRate === 0)
    throw audioError(file, "'fmt ' chunk declares a sample rate of 0 Hz", `The header is corrupt. ${REEXPORT}`);
  const okBits =
    tag === WAVE_FORMAT.pcm
      ? bits >= 1 && bits <= 32
      : tag === WAVE_FORMAT.float
        ? bits === 32 || bits === 64
        : bits === 8;
  if (!okBits) {
    throw audioError(
      file,
      `${bits} bits per sample is not valid for format tag ${tag}`,
      `Expected PCM 8/16/24/32, float 32/64 or 8-bit A-law/mu-law. ${REEXPORT}`,
    );
  }
  const bytes = Math.ceil(bits / 8);
  if (blockAlign !== channels * bytes) {
    throw audioError(
      file,
      `block align is ${blockAlign} but ${channels} channel(s) × ${bytes} byte(s) = ${channels * bytes}`,
      `The header is inconsistent. ${REEXPORT}`,
    );
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
    throw audioError(
      file,
      `is not a RIFF file (starts with ${hexHead(bytes)})`,
      fourcc(bytes, 0) === 'RIFX' || fourcc(bytes, 0) === 'RF64'
        ? `${fourcc(bytes, 0)} WAV files are not supported. ${REEXPORT}`
        : 'Check the path points at a WAV file',
    );
  }
  if (fourcc(bytes, 8) !== 'WAVE') {
    throw audioError(
      file,
      `is a RIFF file of form '${fourcc(bytes, 8)}', not 'WAVE'`,
      'Check the path points at a WAV file',
    );
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
      throw audioError(
        file,
        `is truncated or its header is corrupt: the ${what} chunk at byte ${pos} declares ` +
          `${size} bytes but only ${remain} remain in the file`,
        REEXPORT,
      );
    }
    if (id === 'fmt ') fmt = parseFmt(view, body, size, file);
    else if (id === 'data') data = { at: body, size };
    pos = body + size + (size & 1);
  }
  if (fmt === null || data === null) {
    const missing = fmt === null ? "'fmt '" : "'data'";
    throw audioError(
      file,
      pos < bytes.length
        ? `is truncated: ${bytes.length - pos} stray byte(s) where a chunk header should be, and no ${missing} chunk`
        : `has no ${missing} chunk (the file is truncated or holds no audio)`,
      REEXPORT,
    );
  }
  if (data.size % fmt.blockAlign !== 0) {
    throw audioError(
      file,
      `data chunk is ${data.size} bytes, not a whole number of ${fmt.blockAlign}-byte frames`,
      `The file is truncated or corrupt. ${REEXPORT}`,
    );
  }
  const frames = data.size / fmt.blockAlign;
  if (frames === 0)
    throw audioError(file, 'holds zero-length audio (an empty data chunk)', 'Check that the recording is not empty');
  const channels = readSamples(view, data.at, frames, fmt);
  checkFinite(channels, file);
  return { channels, sampleRate: fmt.sampleRate };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readSamples(view: DataView, at: number, frames: number, f: WavFormat): Float32Array[] {
  const out = Array.from({ length: f.channels }, () => new Float32Array(frames));
  // fast paths for the common formats (~5× faster): a typed-array view of the data, copied first if misaligned
  const fast =
    LITTLE_ENDIAN && ((f.tag === WAVE_FORMAT.pcm && f.bytes === 2) || (f.tag === WAVE_FORMAT.float && f.bytes === 4));
  if (fast) {
    const n = frames * f.channels;
    const offset = view.byteOffset + at;
    const [buf, off] =
      offset % f.bytes === 0
        ? [view.buffer, offset]
        : [new Uint8Array(view.buffer, offset, n * f.bytes).slice().buffer, 0];
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
    case 1:
      return (p) => (v.getUint8(p) - 128) / 128;
    case 2:
      return (p) => v.getInt16(p, true) / 32768;
    case 3:
      return (p) => (v.getUint8(p) | (v.getUint8(p + 1) << 8) | (v.getInt8(p + 2) << 16)) / 8388608;
    default:
      return (p) => v.getInt32(p, true) / 2147483648;
  }
}

// G.711 expansion tables (ITU-T G.711), scaled to [-1, 1)
const MULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
});
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return (a & 0x80 ? t : -t) / 32768;
});

export function checkFinite(channels: Float32Array[], file: string): void {
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw audioError(
          file,
          `sample ${i} of channel ${c} is ${x[i]}`,
          'The file is corrupt or was written from unnormalised/NaN data; fix the producer and re-export it',
        );
      }
    }
  }
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
export function encodeWav(
  samples: Float32Array | readonly Float32Array[],
  sampleRate: number,
  opts: WriteWavOptions = {},
): Uint8Array {
  const channels = samples instanceof Float32Array ? [samples] : samples;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => c instanceof Float32Array)) {
    throw new TypeError("'samples' must be a Float32Array or a non-empty array of Float32Array (one per channel)");
  }
  const frames = channels[0]!.length;
  if (channels.some((c) => c.length !== frames))
    throw new RangeError("'samples' channels must all have the same length");
  if (!(Number.isInteger(sampleRate) && sampleRate > 0))
    throw new RangeError(`'sampleRate' must be a positive integer, got ${sampleRate}`);
  const format = opts.format ?? 'pcm16';
  if (format !== 'pcm16' && format !== 'float32')
    throw new RangeError(`'format' must be 'pcm16' or 'float32', got ${String(format)}`);
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c]!;
    for (let i = 0; i < frames; i++) {
      if (!Number.isFinite(x[i]!))
        throw new RangeError(`'samples' channel ${c} sample ${i} is ${x[i]}; WAV cannot store it`);
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
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  v.setUint32(4, total - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
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
  if (factSize) {
    ascii(p, 'fact');
    v.setUint32(p + 4, 4, true);
    v.setUint32(p + 8, frames, true);
    p += 12;
  }
  ascii(p, 'data');
  v.setUint32(p + 4, dataSize, true);
  p += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nc; c++, p += bytes) {
      const x = channels[c]![i]!;
      if (format === 'float32') v.setFloat32(p, x, true);
      else v.setInt16(p, Math.max(-32768, Math.min(32767, Math.round(x * 32768))), true);
    }
  }
  return out;
}
