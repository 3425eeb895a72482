// The strict WAV reader on hand-written bytes (every sample format, EXTENSIBLE, odd chunks, every
// malformed header), checked against the wavefile package; decodeAudio/loadAudio refusing what is not audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { decodeAudio, decodeWav, loadAudio } from './io.js';
import { EarmarkError } from '../errors.js';

// ---- hand-written WAV bytes ----

interface WavSpec {
  tag?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  fmtSize?: number;
  /** WAVE_FORMAT_EXTENSIBLE with this sub-format tag. */
  subformat?: number;
  data: Uint8Array;
  /** Declared data size (default: data.length). */
  dataSize?: number;
  /** Chunks placed before 'fmt ' (unknown ones are skipped, odd sizes padded). */
  before?: [string, Uint8Array][];
  noFmt?: boolean;
  noData?: boolean;
}

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(
    [...id].map((c) => c.charCodeAt(0)),
    0,
  );
  new DataView(out.buffer).setUint32(4, declared, true);
  out.set(body, 8);
  return out;
}

function wav(s: WavSpec): Uint8Array {
  const channels = s.channels ?? 1;
  const bits = s.bits ?? 16;
  const ext = s.subformat !== undefined;
  const fmtSize = s.fmtSize ?? (ext ? 40 : 16);
  const fmt = new Uint8Array(Math.max(fmtSize, 0));
  const v = new DataView(fmt.buffer);
  const put = (f: () => void): void => {
    try {
      f();
    } catch {
      /* a deliberately short fmt chunk */
    }
  };
  put(() => v.setUint16(0, ext ? 0xfffe : (s.tag ?? 1), true));
  put(() => v.setUint16(2, channels, true));
  put(() => v.setUint32(4, s.rate ?? 16000, true));
  put(() => v.setUint32(8, (s.rate ?? 16000) * channels * Math.ceil(bits / 8), true));
  put(() => v.setUint16(12, s.blockAlign ?? channels * Math.ceil(bits / 8), true));
  put(() => v.setUint16(14, bits, true));
  if (ext && fmtSize >= 40) {
    v.setUint16(16, 22, true);
    v.setUint16(18, bits, true);
    v.setUint32(20, 0, true);
    v.setUint16(24, s.subformat!, true);
    fmt.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  const parts = [
    ...(s.before ?? []).map(([id, b]) => chunk(id, b)),
    ...(s.noFmt ? [] : [chunk('fmt ', fmt)]),
    ...(s.noData ? [] : [chunk('data', s.data, s.dataSize ?? s.data.length)]),
  ];
  const body = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(12 + body);
  out.set(
    [...'RIFF'].map((c) => c.charCodeAt(0)),
    0,
  );
  new DataView(out.buffer).setUint32(4, 4 + body, true);
  out.set(
    [...'WAVE'].map((c) => c.charCodeAt(0)),
    8,
  );
  let p = 12;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function le(kind: 'i16' | 'i24' | 'i32' | 'f32' | 'f64', values: number[]): Uint8Array {
  const size = { i16: 2, i24: 3, i32: 4, f32: 4, f64: 8 }[kind];
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    const p = i * size;
    if (kind === 'i16') v.setInt16(p, x, true);
    else if (kind === 'i24') {
      v.setUint8(p, x & 0xff);
      v.setUint8(p + 1, (x >> 8) & 0xff);
      v.setInt8(p + 2, x >> 16);
    } else if (kind === 'i32') v.setInt32(p, x, true);
    else if (kind === 'f32') v.setFloat32(p, x, true);
    else v.setFloat64(p, x, true);
  });
  return out;
}

const arr = (x: Float32Array): number[] => Array.from(x);

// ---- reading every sample format ----

test('8-bit unsigned PCM reads as (u − 128) / 128', () => {
  const a = decodeWav(wav({ bits: 8, data: new Uint8Array([0, 128, 255, 64]) }), { path: 'u8.wav' });
  assert.equal(a.sampleRate, 16000);
  assert.deepEqual(arr(a.channels[0]!), [-1, 0, 127 / 128, -0.5]);
});

test('16-bit stereo PCM de-interleaves into channels scaled by 1/32768', () => {
  const a = decodeWav(wav({ channels: 2, rate: 44100, data: le('i16', [-32768, 32767, 16384, -1, 0, 1]) }));
  assert.equal(a.sampleRate, 44100);
  assert.deepEqual(arr(a.channels[0]!), [-1, 0.5, 0]);
  assert.deepEqual(arr(a.channels[1]!), [32767 / 32768, -1 / 32768, 1 / 32768]);
});

test('24-bit and 32-bit PCM keep their full resolution', () => {
  const a = decodeWav(wav({ bits: 24, data: le('i24', [-8388608, 8388607, 1, -1, 4194304]) }));
  assert.deepEqual(arr(a.channels[0]!), [
    -1,
    Math.fround(8388607 / 8388608),
    Math.fround(1 / 8388608),
    Math.fround(-1 / 8388608),
    0.5,
  ]);
  const b = decodeWav(wav({ bits: 32, data: le('i32', [-2147483648, 1073741824, 0]) }));
  assert.deepEqual(arr(b.channels[0]!), [-1, 0.5, 0]);
});

test('IEEE float 32 and 64 with three channels', () => {
  const f32 = decodeWav(wav({ tag: 3, bits: 32, channels: 3, data: le('f32', [0.25, -0.5, 1.5, -0.125, 0, 2]) }));
  assert.equal(f32.channels.length, 3);
  assert.deepEqual(f32.channels.map(arr), [
    [0.25, -0.125],
    [-0.5, 0],
    [1.5, 2],
  ]);
  const f64 = decodeWav(wav({ tag: 3, bits: 64, data: le('f64', [0.1, -0.3]) }));
  assert.deepEqual(arr(f64.channels[0]!), [Math.fround(0.1), Math.fround(-0.3)]);
});

test('WAVE_FORMAT_EXTENSIBLE (24-bit PCM, 4 channels; float) reads by its sub-format', () => {
  const a = decodeWav(
    wav({ subformat: 1, bits: 24, channels: 4, data: le('i24', [0, 4194304, -4194304, 8388607, 1, 2, 3, 4]) }),
  );
  assert.equal(a.channels.length, 4);
  assert.deepEqual(
    a.channels.map((c) => c[0]),
    [0, 0.5, -0.5, Math.fround(8388607 / 8388608)],
  );
  const f = decodeWav(wav({ subformat: 3, bits: 32, channels: 2, data: le('f32', [0.5, -0.25]) }));
  assert.deepEqual(f.channels.map(arr), [[0.5], [-0.25]]);
});

test('unknown chunks are skipped and odd-sized chunks are followed by their pad byte', () => {
  const a = decodeWav(
    wav({
      before: [
        ['LIST', new Uint8Array([1, 2, 3])],
        ['junk', new Uint8Array(0)],
        ['bext', new Uint8Array(5)],
      ],
      bits: 8,
      data: new Uint8Array([128, 192, 0]), // odd data size too
    }),
  );
  assert.deepEqual(arr(a.channels[0]!), [0, 0.5, -1]);
});

test('G.711 mu-law and A-law expand to the standard values', () => {
  const mu = decodeWav(wav({ tag: 7, bits: 8, data: new Uint8Array([0xff, 0x80, 0x00, 0x7f]) }));
  assert.deepEqual(
    arr(mu.channels[0]!).map((x) => Math.round(x * 32768)),
    [0, 32124, -32124, 0],
  );
  const a = decodeWav(wav({ tag: 6, bits: 8, data: new Uint8Array([0xd5, 0x55, 0xaa, 0x2a]) }));
  assert.deepEqual(
    arr(a.channels[0]!).map((x) => Math.round(x * 32768)),
    [8, -8, 32256, -32256],
  );
});

test('our reader agrees with the wavefile package on 24-bit and 8-bit files', () => {
  const samples = [-8388608, -12345, 0, 77, 8388607];
  const w = new wavefile.WaveFile();
  w.fromScratch(2, 22050, '24', [samples, samples.slice().reverse()]);
  const a = decodeWav(w.toBuffer());
  assert.equal(a.sampleRate, 22050);
  assert.deepEqual(
    arr(a.channels[0]!),
    samples.map((s) => Math.fround(s / 8388608)),
  );
  assert.deepEqual(
    arr(a.channels[1]!),
    samples
      .slice()
      .reverse()
      .map((s) => Math.fround(s / 8388608)),
  );
  const w8 = new wavefile.WaveFile();
  w8.fromScratch(1, 8000, '8', [0, 128, 255]);
  assert.deepEqual(arr(decodeWav(w8.toBuffer()).channels[0]!), [-1, 0, 127 / 128]);
});

// ---- malformed input: EarmarkError('EARMARK_AUDIO') naming the file and the problem ----

function rejects(bytes: Uint8Array, pattern: RegExp, file = 'bad.wav'): void {
  assert.throws(
    () => decodeWav(bytes, { path: file }),
    (e: unknown) => {
      assert.ok(e instanceof EarmarkError, `expected EarmarkError, got ${String(e)}`);
      assert.equal(e.code, 'EARMARK_AUDIO');
      assert.ok(e.message.startsWith(`${file}: `), `message names the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('empty, truncated and wrong-magic files are refused with the file name', () => {
  const good = wav({ data: le('i16', [1, 2, 3, 4]) });
  rejects(new Uint8Array(0), /empty \(0 bytes\)/);
  rejects(good.subarray(0, 7), /truncated: 7 bytes/);
  rejects(good.subarray(0, good.length - 3), /truncated.*data chunk.*declares 8 bytes but only 5 remain/);
  rejects(good.subarray(0, 40), /truncated.*stray byte|truncated/);
  const notRiff = good.slice();
  notRiff.set([0x4f, 0x67, 0x67, 0x53], 0); // 'OggS'
  rejects(notRiff, /not a RIFF file \(starts with 4f 67 67 53/);
  const avi = good.slice();
  avi.set(
    [...'AVI '].map((c) => c.charCodeAt(0)),
    8,
  );
  rejects(avi, /form 'AVI ', not 'WAVE'/);
  rejects(
    wav({ data: le('i16', [1]), dataSize: 1_000_000 }),
    /data chunk at byte \d+ declares 1000000 bytes but only 2 remain/,
  );
});

test('absurd or inconsistent headers are refused naming the field', () => {
  rejects(wav({ fmtSize: 14, data: le('i16', [1]) }), /'fmt ' chunk is 14 bytes, smaller than the 16/);
  rejects(wav({ channels: 0, blockAlign: 2, data: le('i16', [1]) }), /declares 0 channels/);
  rejects(wav({ rate: 0, data: le('i16', [1]) }), /sample rate of 0 Hz/);
  rejects(
    wav({ channels: 2, blockAlign: 3, data: le('i16', [1, 2]) }),
    /block align is 3 but 2 channel\(s\) × 2 byte\(s\) = 4/,
  );
  rejects(wav({ tag: 3, bits: 16, data: le('i16', [1]) }), /16 bits per sample is not valid for format tag 3/);
  rejects(wav({ channels: 2, data: le('i16', [1, 2, 3]) }), /6 bytes, not a whole number of 4-byte frames/);
  rejects(
    wav({ subformat: 1, fmtSize: 24, bits: 16, data: le('i16', [1]) }),
    /EXTENSIBLE 'fmt ' chunk is 24 bytes, it needs 40/,
  );
  rejects(wav({ noFmt: true, data: le('i16', [1]) }), /has no 'fmt ' chunk/);
  rejects(wav({ noData: true, data: new Uint8Array(0) }), /has no 'data' chunk/);
});

test('unsupported codecs inside RIFF name the codec and the fix', () => {
  rejects(
    wav({ tag: 0x0055, bits: 0, blockAlign: 1, data: new Uint8Array(4) }),
    /format tag 0x0055 \(MPEG Layer 3 \(MP3\)\) is not supported.*ffmpeg/,
  );
  rejects(wav({ tag: 0x0002, bits: 4, blockAlign: 256, data: new Uint8Array(256) }), /0x0002 \(Microsoft ADPCM\)/);
  rejects(wav({ tag: 0x0011, bits: 4, data: new Uint8Array(4) }), /0x0011 \(IMA ADPCM\)/);
  const badGuid = wav({ subformat: 1, bits: 16, data: le('i16', [1]) });
  badGuid[12 + 8 + 26 + 13] = 0; // last GUID byte
  rejects(badGuid, /sub-format GUID is not a standard KSDATAFORMAT/);
});

test('NaN/Inf samples and zero-length audio are refused', () => {
  rejects(
    wav({ tag: 3, bits: 32, channels: 2, data: le('f32', [0, 0, 0.5, Number.NaN]) }),
    /sample 1 of channel 1 is NaN/,
  );
  rejects(wav({ tag: 3, bits: 64, data: le('f64', [Number.POSITIVE_INFINITY]) }), /sample 0 of channel 0 is Infinity/);
  rejects(wav({ data: new Uint8Array(0) }), /zero-length audio/);
});

test('decodeAudio and loadAudio: wrong magic, unreadable paths, directories', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-audio-'));
  try {
    await assert.rejects(
      decodeAudio(new TextEncoder().encode('hello, this is not audio at all'), { path: 'notes.txt' }),
      { code: 'EARMARK_AUDIO', message: /^notes\.txt: is not a recognised audio file \(starts with 68 65 6c 6c/ },
    );
    await assert.rejects(decodeAudio(new Uint8Array(0), { path: 'e.mp3' }), {
      code: 'EARMARK_AUDIO',
      message: /e\.mp3: is empty/,
    });
    const missing = path.join(dir, 'missing.wav');
    await assert.rejects(
      loadAudio(missing),
      (e: EarmarkError) =>
        e.code === 'EARMARK_AUDIO' && e.message.includes(missing) && /ENOENT.*Check the path/.test(e.message),
    );
    await assert.rejects(loadAudio(dir), { code: 'EARMARK_AUDIO', message: /EISDIR.*not a directory/ });
    await assert.rejects(loadAudio(''), { name: 'TypeError', message: /'path'/ });
    await assert.rejects(loadAudio(missing, { sampleRate: -1 }), { name: 'RangeError', message: /'sampleRate'/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
