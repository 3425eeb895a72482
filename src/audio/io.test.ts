// Audio I/O: WAV write/read round trips and atomic writes, libsamplerate resampling of a sine, downmix
// and peak normalisation, and (where sox exists to encode them) FLAC/Ogg/MP3 via audio-decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  decodeWav,
  downmix,
  encodeWav,
  loadAudio,
  peakNormalize,
  peakNormalizeChannels,
  resample,
  writeWav,
} from './io.js';
import { sine } from './testing.js';
import { EarmarkError } from '../errors.js';

const arr = (x: Float32Array): number[] => Array.from(x);

// ---- writing ----

test('pcm16 and float32 WAV round trips (mono, stereo, 3 channels via EXTENSIBLE) and atomic writes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-audio-'));
  try {
    const grid = Float32Array.from([-1, -0.5, 0, 1 / 32768, 0.25, 32767 / 32768]);
    const p16 = path.join(dir, 'a.wav');
    await writeWav(p16, grid, 16000);
    const r16 = await loadAudio(p16);
    assert.equal(r16.sampleRate, 16000);
    assert.deepEqual(arr(r16.channels[0]!), arr(grid)); // exact on the 1/32768 grid
    // off-grid values round to the nearest step; out-of-range values clip
    const clipped = decodeWav(encodeWav(Float32Array.from([1.5, -2, 0.1]), 8000)).channels[0]!;
    assert.deepEqual(arr(clipped), [32767 / 32768, -1, Math.round(0.1 * 32768) / 32768].map(Math.fround));

    const stereo = [sine(1000, 44100, 440), sine(1000, 44100, 880, 0.25)];
    const pf = path.join(dir, 'b.wav');
    await writeWav(pf, stereo, 44100, { format: 'float32' });
    const rf = await loadAudio(pf);
    assert.deepEqual(rf.channels.map(arr), stereo.map(arr)); // float32 is exact
    const three = [sine(10, 8000, 100), sine(10, 8000, 200), sine(10, 8000, 300)];
    const e3 = encodeWav(three, 8000, { format: 'float32' });
    assert.equal(new DataView(e3.buffer).getUint16(20, true), 0xfffe, 'more than two channels use EXTENSIBLE');
    assert.deepEqual(decodeWav(e3).channels.map(arr), three.map(arr));
    const mono = await loadAudio(pf, { mono: true });
    assert.equal(mono.samples.length, 1000);
    assert.ok(Math.abs(mono.samples[7]! - (stereo[0]![7]! + stereo[1]![7]!) / 2) < 1e-7);

    await writeWav(p16, Float32Array.from([0.5]), 16000); // overwrite in place
    assert.deepEqual(readdirSync(dir).sort(), ['a.wav', 'b.wav'], 'no temporary files left behind');
    await assert.rejects(writeWav(path.join(dir, 'no/such/dir/x.wav'), grid, 16000), {
      code: 'EARMARK_IO',
      message: /no\/such\/dir/,
    });
    assert.throws(() => encodeWav(Float32Array.from([0, Number.NaN]), 16000), {
      name: 'RangeError',
      message: /'samples' channel 0 sample 1 is NaN/,
    });
    assert.throws(() => encodeWav([new Float32Array(2), new Float32Array(3)], 16000), {
      name: 'RangeError',
      message: /same length/,
    });
    assert.throws(() => encodeWav(grid, 0), { name: 'RangeError', message: /'sampleRate'/ });
    assert.throws(() => encodeWav(grid, 16000, { format: 'pcm24' as 'pcm16' }), {
      name: 'RangeError',
      message: /'format'/,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- channels, level, resampling ----

test('downmix is the channel mean; peak normalisation uses one gain for all channels', () => {
  assert.deepEqual(arr(downmix([Float32Array.from([1, 0.5]), Float32Array.from([0, -0.5])])), [0.5, 0]);
  assert.deepEqual(arr(peakNormalize(Float32Array.from([0.25, -0.5]))), [0.5, -1]);
  assert.deepEqual(arr(peakNormalize(new Float32Array(3))), [0, 0, 0]);
  const [l, r] = peakNormalizeChannels([Float32Array.from([0.1]), Float32Array.from([-0.4])], 0.8);
  assert.deepEqual([l![0], r![0]], [Math.fround(0.2), Math.fround(-0.8)]);
  assert.throws(() => downmix([]), { name: 'RangeError', message: /'channels'/ });
  assert.throws(() => peakNormalize(new Float32Array(1), 0), { name: 'RangeError', message: /'peak'/ });
});

/** Magnitude spectrum peak bin (Hann-windowed DFT computed directly; n is small). */
function peakFrequency(x: Float32Array, rate: number): number {
  const n = x.length;
  let best = 0;
  let bestMag = -1;
  // coarse-to-fine is unnecessary: scan 10 Hz steps between 500 and 1500 Hz
  for (let f = 500; f <= 1500; f += 10) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
      re += w * x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
      im -= w * x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    }
    const m = re * re + im * im;
    if (m > bestMag) {
      bestMag = m;
      best = f;
    }
  }
  return best;
}

function rmsDb(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return 10 * Math.log10(s / (to - from));
}

test('resampling a 1 kHz sine 44.1 kHz → 16 kHz → 44.1 kHz keeps its frequency, level and timing', async () => {
  const x = sine(44100, 44100, 1000, 0.5);
  const y = await resample(x, 44100, 16000);
  assert.equal(y.length, 16000);
  assert.equal(peakFrequency(y.subarray(4000, 8000), 16000), 1000);
  const dB = rmsDb(y, 800, 15200) - rmsDb(x, 2205, 41895);
  assert.ok(Math.abs(dB) < 0.1, `level changed by ${dB} dB`);
  // no delay: sample i is the sine at time i / 16000
  let err = 0;
  for (let i = 800; i < 15200; i++)
    err = Math.max(err, Math.abs(y[i]! - 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000)));
  assert.ok(err < 1e-3, `max deviation from the ideal 16 kHz sine ${err}`);
  const up = await resample(y, 16000, 44100);
  assert.equal(up.length, 44100);
  assert.ok(Math.abs(rmsDb(up, 2205, 41895) - rmsDb(x, 2205, 41895)) < 0.1);
  // odd lengths give ceil(n · to / from) samples
  assert.equal((await resample(x.subarray(0, 1001), 44100, 16000)).length, Math.ceil((1001 * 16000) / 44100));
  assert.equal((await resample(x.subarray(0, 1), 44100, 16000)).length, 1);
  await assert.rejects(resample(x, 0, 16000), { name: 'RangeError', message: /'from'/ });
  await assert.rejects(resample(x, 44100, 16000, { quality: 'great' as 'best' }), {
    name: 'RangeError',
    message: /'quality'/,
  });
});

test('loadAudio downmixes, resamples and peak-normalises in that order', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-audio-'));
  try {
    const p = path.join(dir, 's.wav');
    await writeWav(p, [sine(22050, 22050, 1000, 0.2), sine(22050, 22050, 1000, 0.4)], 22050, { format: 'float32' });
    const a = await loadAudio(p, { mono: true, sampleRate: 16000, peak: 1 });
    assert.equal(a.sampleRate, 16000);
    assert.equal(a.samples.length, 16000);
    assert.ok(Math.abs(Math.max(...a.samples.map(Math.abs)) - 1) < 1e-6);
    assert.equal(peakFrequency(a.samples.subarray(4000, 8000), 16000), 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- other containers through audio-decode (encoded with sox where it is installed) ----

const hasSox = spawnSync('sox', ['--version']).status === 0;

test(
  'FLAC, Ogg Vorbis and MP3 decode through audio-decode; a mu-law WAV from sox matches our table',
  { skip: !hasSox && 'sox is not installed' },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'earmark-audio-'));
    try {
      const x = sine(8000, 16000, 440, 0.5);
      const src = path.join(dir, 'src.wav');
      writeFileSync(src, encodeWav(x, 16000));
      const pcm = decodeWav(encodeWav(x, 16000)).channels[0]!;
      const sox = (out: string, ...args: string[]): string => {
        const p = path.join(dir, out);
        const r = spawnSync('sox', [src, ...args, p]);
        assert.equal(r.status, 0, `sox failed: ${r.stderr}`);
        return p;
      };
      const flac = await loadAudio(sox('a.flac'));
      assert.equal(flac.sampleRate, 16000);
      // lossless up to the decoder's int→float convention (its FLAC decoder divides by 32767, we by 32768)
      let flacErr = 0;
      for (let i = 0; i < pcm.length; i++) flacErr = Math.max(flacErr, Math.abs(flac.channels[0]![i]! - pcm[i]!));
      assert.equal(flac.channels[0]!.length, pcm.length);
      assert.ok(flacErr <= 1 / 32768, `FLAC differs from the PCM by ${flacErr}`);
      for (const lossy of [sox('a.ogg'), sox('a.mp3')]) {
        const a = await loadAudio(lossy, { mono: true });
        assert.equal(a.sampleRate, 16000, lossy);
        assert.ok(a.samples.length >= 7000, `${lossy}: ${a.samples.length} samples`);
        assert.ok(Math.abs(rmsDb(a.samples, 2000, 6000) - rmsDb(x, 2000, 6000)) < 0.5, `${lossy} level`);
      }
      const mu = await loadAudio(sox('mu.wav', '-e', 'u-law'));
      let err = 0;
      for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(mu.channels[0]![i]! - x[i]!));
      assert.ok(err < 0.02, `mu-law error ${err}`);
      await assert.rejects(loadAudio(sox('adpcm.wav', '-e', 'ima-adpcm')), {
        code: 'EARMARK_AUDIO',
        message: /IMA ADPCM/,
      });
      const trunc = path.join(dir, 'cut.flac');
      writeFileSync(trunc, new Uint8Array([0x66, 0x4c, 0x61, 0x43, 0, 0, 0, 34])); // 'fLaC' and nothing else
      await assert.rejects(
        loadAudio(trunc),
        (e: EarmarkError) => e.code === 'EARMARK_AUDIO' && e.message.startsWith(trunc),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
