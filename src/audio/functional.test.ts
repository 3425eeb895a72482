// Feature functions by property: DS2 shapes and batch consistency, exact inversion with the original
// phase (SNR), Griffin-Lim convergence, mel/dB semantics as torchaudio, argument errors, no leaks.
// (Golden values against PyTorch are in test/audio-goldens.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hammingWindow, manualSeed, memory, stack, tensor, tidy, type Tensor } from '../tensor/index.js';
import {
  DS2_SPECTROGRAM,
  amplitudeToDB,
  complexAbs,
  ds2Invert,
  ds2Magnitude,
  ds2Spectrogram,
  griffinLim,
  hzToMel,
  melToHz,
  melscaleFbanks,
  spectralConvergence,
  stft,
} from './functional.js';
import { AmplitudeToDB, Ds2Spectrogram, GriffinLim, MelScale } from './transforms.js';
import { testSignal } from './testing.js';

function snrDb(reference: Float32Array, estimate: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < reference.length; i++) {
    s += reference[i]! ** 2;
    e += (reference[i]! - estimate[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

function leakFree(fn: () => void): void {
  const before = memory().numTensors;
  fn();
  assert.equal(memory().numTensors, before, 'tensors leaked');
}

test('DS2 spectrogram: 161 bins, 100 frames/s, batch = per utterance, statistics per utterance', () =>
  leakFree(() =>
    tidy(() => {
      const w = hammingWindow(320);
      const a = testSignal(16000, 16000, 1);
      const b = testSignal(16000, 16000, 2).map((v) => v * 0.1);
      const one = ds2Spectrogram(tensor(a), w);
      assert.deepEqual(one.spectrogram.shape, [161, 101]);
      assert.equal(one.phase, undefined);
      const batch = ds2Spectrogram(stack([tensor(a), tensor(b)]), w, { ...DS2_SPECTROGRAM, returnPhase: true });
      assert.deepEqual(batch.spectrogram.shape, [2, 161, 101]);
      assert.deepEqual(batch.mean.shape, [2]);
      assert.deepEqual(batch.phase!.shape, [2, 161, 101]);
      const diff = batch.spectrogram.select(0, 0).sub(one.spectrogram).abs().max().item();
      assert.ok(diff < 1e-5, `batched item 0 differs by ${diff}`);
      // each utterance is normalised by its own statistics: mean 0, unbiased std 1
      const s1 = batch.spectrogram.select(0, 1);
      assert.ok(Math.abs(s1.mean().item()) < 1e-5);
      assert.ok(Math.abs(s1.std().item() - 1) < 1e-5);
      assert.ok(
        batch.mean.toArray()[1]! < batch.mean.toArray()[0]!,
        'the quieter utterance has the lower mean log-magnitude',
      );
      // frames = 1 + ⌊N/160⌋ (100 per second), for lengths that are not multiples of the hop
      assert.deepEqual(ds2Spectrogram(tensor(a.subarray(0, 4321)), w).spectrogram.shape, [161, 28]);
      // normalize=false gives log1p |STFT| itself, with mean 0 and std 1 as neutral statistics
      const raw = ds2Spectrogram(tensor(a), w, { ...DS2_SPECTROGRAM, normalize: false });
      assert.deepEqual([raw.mean.item(), raw.std.item()], [0, 1]);
      const direct = complexAbs(stft(tensor(a), w, DS2_SPECTROGRAM)).log1p();
      assert.ok(raw.spectrogram.sub(direct).abs().max().item() === 0);
      // ds2Magnitude undoes normalisation and log1p
      const mag = ds2Magnitude(one.spectrogram, one.mean, one.std);
      const rel =
        mag
          .sub(complexAbs(stft(tensor(a), w, DS2_SPECTROGRAM)))
          .abs()
          .max()
          .item() / mag.max().item();
      assert.ok(rel < 1e-5, `magnitude recovered to ${rel}`);
    }),
  ));

test('inversion with the original phase reconstructs the waveform (SNR >= 30 dB)', (t) =>
  leakFree(() => {
    const x = testSignal(24000, 16000, 3);
    const ds2 = new Ds2Spectrogram();
    try {
      tidy(() => {
        const f = ds2.forward(tensor(x), { returnPhase: true });
        const y = ds2.inverse(f, x.length).toFloat32Array();
        assert.equal(y.length, x.length);
        const snr = snrDb(x, y);
        assert.ok(snr >= 30, `SNR ${snr.toFixed(1)} dB`);
        t.diagnostic(`inversion with the original phase: SNR ${snr.toFixed(1)} dB`);
        // the functional form, without `length`: (frames − 1)·hop samples
        const z = ds2Invert(f.spectrogram, f.mean, f.std, f.phase!, ds2.window);
        assert.equal(z.size(-1), (f.spectrogram.size(-1) - 1) * 160);
        // batched inversion, with one utterance's phase swapped: it no longer matches
        const batch = ds2.forward(stack([tensor(x), tensor(x).flip(0)]), { returnPhase: true });
        const yb = ds2.inverse(batch, x.length);
        assert.ok(snrDb(x, yb.select(0, 0).toFloat32Array()) >= 30);
        const wrong = ds2.inverse({ ...f, phase: batch.phase!.select(0, 1) }, x.length).toFloat32Array();
        assert.ok(snrDb(x, wrong) < 3, 'a foreign phase must not reconstruct the waveform');
        assert.throws(() => ds2.inverse({ spectrogram: f.spectrogram, mean: f.mean, std: f.std }), {
          name: 'TypeError',
          message: /phase/,
        });
      });
    } finally {
      ds2.dispose();
    }
  }));

test('Griffin-Lim yields finite audio of the right length and its spectral convergence improves', (t) =>
  leakFree(() => {
    manualSeed(7);
    const x = testSignal(8000, 16000, 4);
    const ds2 = new Ds2Spectrogram();
    try {
      tidy(() => {
        const f = ds2.forward(tensor(x));
        for (const momentum of [0, 0.99]) {
          const sc: number[] = [];
          const y = ds2.griffinLim(f, { nIter: 24, momentum, length: x.length, onIteration: (_, v) => sc.push(v) });
          assert.deepEqual(y.shape, [x.length]);
          assert.equal(y.isfinite().all().item(), 1);
          assert.equal(sc.length, 24);
          assert.ok(sc[23]! < 0.7 * sc[0]!, `momentum ${momentum}: convergence ${sc[0]} → ${sc[23]}`);
          t.diagnostic(
            `Griffin-Lim momentum ${momentum}: spectral convergence ${sc[0]!.toFixed(3)} → ${sc[23]!.toFixed(3)} in 24 iterations`,
          );
          const final = spectralConvergence(ds2.magnitude(f), y, ds2.window, ds2.params);
          assert.ok(final < sc[0]!, `final estimate ${final} vs first iteration ${sc[0]}`);
        }
        // the class form with a Hann window, and zero iterations (zero phase: still finite, right length)
        const gl = new GriffinLim({ nFft: 320, hopLength: 160, nIter: 0, randInit: false });
        try {
          const mag = complexAbs(stft(tensor(x), gl.window, gl.params));
          assert.deepEqual(gl.forward(mag, 8000).shape, [8000]);
        } finally {
          gl.dispose();
        }
        assert.throws(() => griffinLim(f.spectrogram, ds2.window, { ...ds2.params, momentum: 1 }), {
          name: 'RangeError',
          message: /'momentum'/,
        });
      });
    } finally {
      ds2.dispose();
    }
  }));

test('mel helpers: slaney/htk scales invert each other; MelScale maps (..., freq, time) to (..., mels, time)', () =>
  leakFree(() =>
    tidy(() => {
      for (const scale of ['htk', 'slaney'] as const) {
        for (const hz of [0, 440, 1000, 5000, 22050]) {
          const back = melToHz(tensor(new Float64Array([hzToMel(hz, scale)])), scale).item();
          assert.ok(Math.abs(back - hz) < 1e-6 * Math.max(1, hz), `${scale}: ${hz} Hz → ${back}`);
        }
      }
      assert.ok(Math.abs(hzToMel(1000, 'slaney') - 15) < 1e-12, '1 kHz is mel 15 on the Slaney scale');
      const mel = new MelScale({ nMels: 10, sampleRate: 8000, nStft: 65 });
      try {
        assert.deepEqual(mel.fb.shape, [65, 10]);
        assert.deepEqual(mel.forward(tensor(new Float32Array(3 * 65 * 7).fill(1), [3, 65, 7])).shape, [3, 10, 7]);
        assert.throws(() => mel.forward(tensor(new Float32Array(64 * 7), [64, 7])), {
          name: 'RangeError',
          message: /64 frequency bins.*65/,
        });
      } finally {
        mel.dispose();
      }
      assert.throws(() => melscaleFbanks(10, 0, 9000, 4, 16000), { name: 'RangeError', message: /fMax/ });
    }),
  ));

test('amplitudeToDB follows torchaudio: a (B, F, T) input shares one max, (B, 1, F, T) is per item', () =>
  leakFree(() =>
    tidy(() => {
      const x = tensor(new Float32Array([1, 1e-3, 1e-9, 1e-12, 1e-2, 1e-5, 1e-7, 1e-4]), [2, 2, 2]); // item maxes 1 and 1e-2
      const shared = amplitudeToDB(x, 10, 1e-10, 0, 40).toArray();
      assert.deepEqual(
        shared.map((v) => Math.round(v * 1e4) / 1e4),
        [0, -30, -40, -40, -20, -40, -40, -40],
      );
      const perItem = amplitudeToDB(x.unsqueeze(1), 10, 1e-10, 0, 40).toArray();
      assert.deepEqual(
        perItem.map((v) => Math.round(v * 1e4) / 1e4),
        [0, -30, -40, -40, -20, -50, -60, -40],
      );
      const noFloor = amplitudeToDB(x, 10, 1e-10, 0, null).toArray();
      assert.equal(Math.round(noFloor[3]! * 1e4) / 1e4, -100, 'amin clamps at -100 dB');
      const mag = new AmplitudeToDB('magnitude').forward(tensor([[0.1, 1]])).toArray();
      assert.deepEqual(
        mag.map((v) => Math.round(v * 1e4) / 1e4),
        [-20, 0],
      );
    }),
  ));

test('argument errors name the argument and the fix', () =>
  leakFree(() =>
    tidy(() => {
      const w = hammingWindow(320);
      assert.throws(() => stft(tensor(new Float32Array(100)), w, DS2_SPECTROGRAM), {
        name: 'RangeError',
        message: /'waveform' has 100 samples; reflect padding needs more than nFft\/2 = 160.*'constant'/,
      });
      assert.deepEqual(
        stft(tensor(new Float32Array(100)), w, { ...DS2_SPECTROGRAM, padMode: 'constant' }).shape,
        [161, 1, 2],
      );
      assert.throws(() => stft(tensor(new Float32Array(1000)), hammingWindow(256), DS2_SPECTROGRAM), {
        name: 'RangeError',
        message: /'window' has 256 samples but winLength is 320/,
      });
      assert.throws(() => stft(tensor(new Float32Array(1000)), w, { ...DS2_SPECTROGRAM, hopLength: 0 }), {
        name: 'RangeError',
        message: /'hopLength'/,
      });
      assert.throws(() => ds2Spectrogram([1, 2, 3] as unknown as Tensor, w), {
        name: 'TypeError',
        message: /'waveform'/,
      });
    }),
  ));
