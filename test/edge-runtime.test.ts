// The device runtime without libtorch: the TypeScript DS2 spectrogram and inversion equal libtorch's;
// streaming obfuscation equals the offline (windowed) obfuscation on a 10 s signal for every chunk size, and
// the phase-free synthesis of every method equals offline bit for bit;
// bad streams end with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DS2_SPECTROGRAM, ds2Invert, ds2Spectrogram } from '../src/audio/functional.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { StreamingObfuscator, obfuscateOffline, windowPlan, algorithmicLatency } from '../src/edge/obfuscate.js';
import { encodeModel } from '../src/edge/onnx.js';
import { OnnxSession } from '../src/edge/runtime.js';
import { Ds2Frontend, Fft, OverlapAdd, ds2SpectrogramTs } from '../src/edge/spectrogram.js';
import { RealFft } from '../src/edge/real-fft.js';
import { spectralConvergence, synthesizeLogMagnitude } from '../src/edge/synthesis.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { hammingWindow, manualSeed, memory, tensor, tidy } from '../src/tensor/index.js';

/** A deterministic speech-like test signal: two glides, a few harmonics, noise bursts. */
function synth(seconds: number, seed = 1): Float32Array {
  const n = Math.round(seconds * 16000);
  const x = new Float32Array(n);
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const f0 = 120 + 60 * Math.sin(((2 * Math.PI * i) / 16000) * 0.7);
    ph += (2 * Math.PI * f0) / 16000;
    const env = 0.5 + 0.5 * Math.sin(((2 * Math.PI * i) / 16000) * 3);
    x[i] = env * (0.3 * Math.sin(ph) + 0.15 * Math.sin(2 * ph) + 0.08 * Math.sin(3.1 * ph)) + 0.02 * rnd();
  }
  return x;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test('the mixed-radix FFT equals a direct DFT for n = 320, 160, 12 and 7', () => {
  for (const n of [320, 160, 12, 7]) {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + (i % 3));
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const [r0, i0] = [re.slice(), im.slice()];
    new Fft(n).transform(re, im);
    for (const k of [0, 1, Math.floor(n / 3), n - 1]) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * j * k) / n;
        sr += r0[j]! * Math.cos(a) - i0[j]! * Math.sin(a);
        si += r0[j]! * Math.sin(a) + i0[j]! * Math.cos(a);
      }
      assert.ok(Math.abs(sr - re[k]!) < 1e-9 && Math.abs(si - im[k]!) < 1e-9, `n=${n} k=${k}`);
    }
  }
});

test('the TypeScript DS2 spectrogram equals libtorch ds2Spectrogram within 1e-5, and the TS inversion equals ds2Invert', () => {
  const before = memory().numTensors;
  const x = synth(1.37);
  const ts = ds2SpectrogramTs(x);
  const w = tidy(() => hammingWindow(320));
  const ref = tidy(() => {
    const f = ds2Spectrogram(tensor(x, [x.length]), w, { ...DS2_SPECTROGRAM, returnPhase: true });
    const inv = ds2Invert(f.spectrogram, f.mean, f.std, f.phase!, w, DS2_SPECTROGRAM, x.length);
    return {
      spec: f.spectrogram.toFloat32Array(),
      shape: f.spectrogram.shape,
      mean: f.mean.item(),
      std: f.std.item(),
      audio: inv.toFloat32Array(),
    };
  });
  w.dispose();
  assert.deepEqual(ref.shape, [161, ts.frames]);
  assert.ok(maxAbs(ts.spectrogram, ref.spec) < 1e-5, `spectrogram max |Δ| ${maxAbs(ts.spectrogram, ref.spec)}`);
  assert.ok(Math.abs(ts.mean - ref.mean) < 1e-5 && Math.abs(ts.std - ref.std) < 1e-5);
  // inversion: expm1(S·std + mean) with the original phase, overlap-added
  const fe = new Ds2Frontend();
  const ola = new OverlapAdd(fe);
  const mag = ts.spectrogram.map((v) => Math.max(Math.expm1(v * ts.std + ts.mean), 0));
  for (let t = 0; t < ts.frames; t++) ola.push(mag, ts.phase, t, ts.frames);
  const audio = ola.take(true, x.length);
  assert.equal(audio.length, ref.audio.length);
  assert.ok(maxAbs(audio, ref.audio) < 1e-5, `inversion max |Δ| ${maxAbs(audio, ref.audio)}`);
  assert.equal(memory().numTensors, before);
});

/** Pearson correlation of two equally long signals. */
function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [ma, mb, ab, aa, bb] = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('the unsafe original-phase path still carries the waveform (identity obfuscator); the default synthesis does not use that phase', async () => {
  const x = synth(0.83, 5);
  const identity = async (a: {
    data: Float32Array;
    dims: number[];
  }): Promise<{ data: Float32Array; dims: number[] }> => ({ data: a.data.slice(), dims: a.dims });
  const win = { windowFrames: 32, lookaheadFrames: 4 };
  // the windowed rule de-normalises with a fixed level, so even the identity does not return the input's
  // magnitudes; with the input's own phase, the waveform comes back all the same
  const unsafe = await obfuscateOffline(identity, x, win, true, { method: 'unsafe-original-phase' });
  assert.equal(unsafe.audio!.length, x.length);
  assert.ok(corr(unsafe.audio!, x) > 0.9, `correlation with the input ${corr(unsafe.audio!, x)}`);
  // phase-free: the magnitude is matched (spectral convergence), the waveform is not the input's
  const free = await obfuscateOffline(identity, x, win);
  assert.equal(free.audio!.length, x.length);
  const sc = spectralConvergence(free.logMag, free.audio!);
  assert.ok(sc < 0.15, `spectral convergence ${sc}`);
  assert.ok(maxAbs(free.audio!, x) > 0.05, 'the phase-free audio equals the input: the original phase leaked in');
  // from the stitched spectrogram alone (contexts = the following frames): as close to the magnitude
  // (the waveforms may differ: after a quiet passage the retrieved phase's sign is arbitrary, so a
  // last-bit difference of the context can flip it)
  const again = synthesizeLogMagnitude(free.logMag, 161, free.frames, x.length, {}, win);
  assert.equal(again.audio.length, x.length);
  assert.ok(
    Math.abs(spectralConvergence(free.logMag, again.audio) - sc) < 0.03,
    `synthesizeLogMagnitude: spectral convergence ${spectralConvergence(free.logMag, again.audio)} vs ${sc}`,
  );
});

test('the real FFT equals the complex FFT and inverts exactly (n = 320, 12, 2)', () => {
  for (const n of [320, 12, 2]) {
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.9) + (i % 4) - 1);
    const re = x.slice();
    const im = new Float64Array(n);
    new Fft(n).transform(re, im);
    const f = new RealFft(n);
    const [r2, i2] = [new Float64Array(n / 2 + 1), new Float64Array(n / 2 + 1)];
    f.forward(x, r2, i2);
    assert.ok(
      maxAbs(r2, re.subarray(0, n / 2 + 1)) < 1e-9 && maxAbs(i2, im.subarray(0, n / 2 + 1)) < 1e-9,
      `forward n=${n}`,
    );
    const back = new Float64Array(n);
    f.inverse(r2, i2, back);
    assert.ok(maxAbs(back, x) < 1e-12, `inverse n=${n}`);
  }
});

test('phase-free streaming equals offline bit for bit (batch 1) for every method, and the level control scales loud audio below full scale', async () => {
  manualSeed(3);
  const before = memory().numTensors;
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  const session = await OnnxSession.load(encodeModel(exportGenerator(g.config, plainStateDict(g))));
  g.dispose();
  assert.equal(memory().numTensors, before);
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    session.run(a);
  const x = synth(2.3, 7);
  // a model whose output level (its fixed de-normalisation) is far beyond full scale: the synthesis must limit
  const win = { windowFrames: 32, lookaheadFrames: 4, batch: 1, outputMean: 4, outputStd: 1 };
  for (const method of ['rtisi-la', 'rtpghi', 'gla', 'unsafe-original-phase'] as const) {
    const off = await obfuscateOffline(forward, x, win, true, { method });
    assert.ok(
      off.audio!.every((v) => Math.abs(v) < 1),
      `${method}: a sample at or beyond full scale`,
    );
    assert.ok(off.gainDb! < -6, `${method}: not scaled down on a signal far beyond full scale (${off.gainDb} dB)`);
    for (const chunk of [37, 1600]) {
      const s = new StreamingObfuscator(forward, win, { synthesis: { method } });
      const audio: Float32Array[] = [];
      let limited = 0;
      for (let i = 0; i < x.length; i += chunk) {
        const o = await s.push(x.subarray(i, i + chunk));
        audio.push(o.audio);
        limited += o.limitedSamples;
      }
      const o = await s.end();
      audio.push(o.audio);
      limited += o.limitedSamples;
      assert.deepEqual(Float32Array.from(audio.flatMap((c) => [...c])), off.audio, `${method}, chunk ${chunk}`);
      assert.equal(limited, off.limitedSamples, `${method}, chunk ${chunk}: limited count`);
      assert.equal(s.gainDb, off.gainDb, `${method}, chunk ${chunk}: gain`);
    }
  }
  await session.close();
});

test('streaming equals offline on a 10 s signal for chunk sizes 1 ms … 1 s, and the plan stitches every frame once', async () => {
  const before = memory().numTensors;
  manualSeed(2);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  const bytes = encodeModel(exportGenerator(g.config, plainStateDict(g)));
  g.dispose();
  assert.equal(memory().numTensors, before);
  const session = await OnnxSession.load(bytes);
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    session.run(a);
  const x = synth(10);
  const win = { windowFrames: 128, lookaheadFrames: 16 };
  const plan = windowPlan(1001, win);
  const covered = plan.flatMap((s) => Array.from({ length: s.keepTo - s.keepFrom }, (_, i) => s.keepFrom + i));
  assert.deepEqual(
    covered,
    Array.from({ length: 1001 }, (_, i) => i),
  );
  const off = await obfuscateOffline(forward, x, win);
  for (const chunk of [16, 1000, 16000]) {
    const s = new StreamingObfuscator(forward, win);
    const audio: Float32Array[] = [];
    const frames: Float32Array[] = [];
    for (let i = 0; i < x.length; i += chunk) {
      const o = await s.push(x.subarray(i, i + chunk));
      audio.push(o.audio);
      frames.push(o.frames);
    }
    const o = await s.end();
    audio.push(o.audio);
    frames.push(o.frames);
    const a = Float32Array.from(audio.flatMap((c) => [...c]));
    const f = Float32Array.from(frames.flatMap((c) => [...c])); // (frames, 161)
    assert.equal(a.length, x.length);
    assert.equal(f.length, off.logMag.length);
    const offFrameMajor = new Float32Array(f.length);
    for (let t = 0; t < off.frames; t++)
      for (let k = 0; k < 161; k++) offFrameMajor[t * 161 + k] = off.logMag[k * off.frames + t]!;
    assert.ok(maxAbs(f, offFrameMajor) < 1e-4, `chunk ${chunk}: frames max |Δ| ${maxAbs(f, offFrameMajor)}`);
    assert.ok(maxAbs(a, off.audio!) < 1e-4, `chunk ${chunk}: audio max |Δ| ${maxAbs(a, off.audio!)}`);
  }
  assert.equal(algorithmicLatency(win, 1600), 112 * 160 + 320 + 1600);
  await session.close();
});

test('bad streams end with clear errors: too short, NaN samples, push after end', async () => {
  const identity = async (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    a;
  const s = new StreamingObfuscator(identity);
  await s.push(new Float32Array(100));
  await assert.rejects(s.end(), /ended after 100 samples/);
  const t = new StreamingObfuscator(identity);
  await assert.rejects(t.push(Float32Array.of(0, NaN)), /NaN/);
  await assert.rejects(obfuscateOffline(identity, new Float32Array(10)), /needs more than 160/);
  assert.throws(() => windowPlan(10, { windowFrames: 8, lookaheadFrames: 4 }), /lookaheadFrames/);
});
