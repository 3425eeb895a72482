// Golden values for the audio front-end from torch 1.13 / torchaudio 0.13 (scripts/goldens/audio.py →
// test/fixtures/audio/): the DeepSpeech2 spectrogram (deepspeech.pytorch's math), the RDAL Slaney mel
// filter bank and log-mel, on formula-generated signals that src/audio/testing.ts reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';
import { hammingWindow, memory, tensor, tidy } from '../src/tensor/index.js';
import { testSignal } from '../src/audio/testing.js';
import { DS2_SPECTROGRAM, ds2Spectrogram, melscaleFbanks, rdalLogMel } from '../src/audio/functional.js';
import { Ds2Spectrogram, RdalLogMel } from '../src/audio/transforms.js';

interface ArrayEntry {
  file: string;
  dtype: 'float32';
  shape: number[];
}
interface Manifest {
  arrays: Record<string, ArrayEntry>;
  scalars: Record<string, number | number[]>;
}

const DIR = path.join(repoRoot(), 'test/fixtures/audio');
const MANIFEST = JSON.parse(readFileSync(path.join(DIR, 'audio.json'), 'utf8')) as Manifest;

function golden(name: string): { data: Float32Array; shape: number[] } {
  const e = MANIFEST.arrays[name];
  if (e === undefined)
    throw new Error(`test/fixtures/audio/audio.json has no array '${name}'; rerun scripts/goldens/audio.py`);
  const buf = readFileSync(path.join(DIR, e.file));
  return { data: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)), shape: e.shape };
}

const num = (k: string): number => MANIFEST.scalars[k] as number;
const list = (k: string): number[] => MANIFEST.scalars[k] as number[];

/** max over elements of |a − b| / (atol + rtol·|b|) must be ≤ 1; returns the worst absolute error. */
function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstRatio = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    maxAbs = Math.max(maxAbs, d);
    const ratio = d / (atol + rtol * Math.abs(expected[i]!));
    if (!(ratio <= 1) && (worst < 0 || ratio > worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  assert.ok(worst < 0, `${what}: element ${worst} is ${actual[worst]} but the reference gives ${expected[worst]}`);
  return maxAbs;
}

function signal(prefix: 'ds2' | 'rdal'): Float32Array {
  const x = testSignal(num(`${prefix}_n`), prefix === 'ds2' ? 16000 : 44100, num(`${prefix}_seed`));
  // the formula must reproduce Python's samples exactly (float64 math, float32 rounding)
  const idx = list(`${prefix}_check_index`);
  const want = list(`${prefix}_check_values`);
  idx.forEach((i, k) => assert.equal(x[i], Math.fround(want[k]!), `${prefix} test signal sample ${i}`));
  return x;
}

test('DS2 spectrogram matches deepspeech.pytorch math (torch.stft reference) within 1e-4 relative', (t) => {
  const before = memory().numTensors;
  const x = signal('ds2');
  const g = golden('ds2_spec');
  tidy(() => {
    const w = hammingWindow(320);
    const f = ds2Spectrogram(tensor(x), w, DS2_SPECTROGRAM);
    assert.deepEqual(f.spectrogram.shape, [161, 1 + Math.floor(x.length / 160)]);
    assert.deepEqual(g.shape, f.spectrogram.shape);
    const err = assertClose(f.spectrogram.toFloat32Array(), g.data, 1e-4, 1e-4, 'normalised spectrogram');
    assert.ok(Math.abs(f.mean.item() - num('ds2_mean')) <= 1e-4 * num('ds2_mean'), `mean ${f.mean.item()}`);
    assert.ok(Math.abs(f.std.item() - num('ds2_std')) <= 1e-4 * num('ds2_std'), `std ${f.std.item()}`);
    assert.equal(f.mean.ndim, 0);
    t.diagnostic(`DS2 golden: max |error| ${err.toExponential(2)} (normalised units)`);
    // zero padding (librosa >= 0.9 behaviour) through the transform class
    const ds2 = new Ds2Spectrogram({ padMode: 'constant' });
    try {
      assertClose(
        ds2.forward(tensor(x)).spectrogram.toFloat32Array(),
        golden('ds2_spec_constant').data,
        1e-4,
        1e-4,
        'constant-padded spectrogram',
      );
    } finally {
      ds2.dispose();
    }
  });
  assert.equal(memory().numTensors, before);
});

test('Slaney mel filter bank equals torchaudio melscale_fbanks (RDAL and an HTK bank)', (t) => {
  const before = memory().numTensors;
  tidy(() => {
    const fb = melscaleFbanks(706, 0, 22050, 64, 44100, 'slaney', 'slaney');
    const g = golden('melfb_rdal');
    assert.deepEqual(fb.shape, g.shape);
    const peak = Math.max(...g.data);
    const err = assertClose(fb.toFloat32Array(), g.data, 1e-6 * peak, 1e-5, 'slaney fbank');
    const fb2 = melscaleFbanks(201, 50, 7600, 40, 16000, null, 'htk');
    const err2 = assertClose(fb2.toFloat32Array(), golden('melfb_htk').data, 1e-6, 1e-5, 'htk fbank');
    t.diagnostic(
      `mel fbank golden: max |error| slaney ${err.toExponential(2)} (peak ${peak.toFixed(5)}), htk ${err2.toExponential(2)}`,
    );
  });
  assert.equal(memory().numTensors, before);
});

test('RDAL log-mel matches torchaudio MelScale + AmplitudeToDB(power, top_db=80) within 1e-3 dB', (t) => {
  const before = memory().numTensors;
  const x = signal('rdal');
  const g = golden('rdal_logmel');
  tidy(() => {
    const lm = new RdalLogMel();
    try {
      const db = lm.forward(tensor(x));
      assert.deepEqual(db.shape, [64, 100]); // odd n_fft: 1 + ⌊(44100 − 1)/441⌋, as librosa and torch.stft
      const err = assertClose(db.toFloat32Array(), g.data, 1e-3, 0, 'log-mel dB');
      t.diagnostic(`RDAL log-mel golden: max |error| ${err.toExponential(2)} dB`);
      // the floor is per clip: a batch of (−20 dB, 0 dB) clips gives each clip its own max − 80 dB
      const batch = rdalLogMel(
        tensor(x)
          .reshape([1, -1])
          .repeat([2, 1])
          .mul(tensor([0.1, 1]).unsqueeze(1)),
        lm.window,
        lm.fb,
      );
      assert.deepEqual(batch.shape, [2, 64, 100]);
      const maxes = batch.amax([1, 2]).toArray();
      const mins = batch.amin([1, 2]).toArray();
      for (let b = 0; b < 2; b++)
        assert.ok(Math.abs(maxes[b]! - mins[b]! - 80) < 1e-3, `clip ${b} spans ${maxes[b]! - mins[b]!} dB`);
      assert.ok(Math.abs(maxes[1]! - maxes[0]! - 20) < 1e-2, 'a gain of 0.1 is −20 dB');
    } finally {
      lm.dispose();
    }
  });
  assert.equal(memory().numTensors, before);
});
