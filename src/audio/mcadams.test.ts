import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testSignal } from './testing.js';
import { lpcBurg, mcadams, mcadamsAlpha, McAdamsStream, polyFromRoots, polyRoots, warpLpc } from './mcadams.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../../../test/fixtures/mcadams/mcadams.json'), 'utf8')) as {
  seed: number;
  n: number;
  frameStart: number;
  lpc20: number[];
  roots: [number, number][];
  alpha: number;
  anonym: number[];
};

const SR = 16000;

/** A vowel-like signal: white noise (32-bit LCG) through resonators at `formants` Hz (bandwidth `bw`). */
function vowel(n: number, formants: number[], bw = 80, seed = 3): Float32Array {
  let a = Float64Array.of(1);
  for (const f of formants) {
    const r = Math.exp((-Math.PI * bw) / SR);
    const th = (2 * Math.PI * f) / SR;
    const sec = Float64Array.of(1, -2 * r * Math.cos(th), r * r);
    const next = new Float64Array(a.length + 2);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < 3; j++) next[i + j] = next[i + j]! + a[i]! * sec[j]!;
    a = next;
  }
  let state = seed >>> 0;
  const y = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    let v = (state / 4294967296) * 2 - 1;
    for (let k = 1; k < a.length && k <= t; k++) v -= a[k]! * y[t - k]!;
    y[t] = v;
  }
  const peak = y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return Float32Array.from(y, (v) => (0.5 * v) / peak);
}

/** Formant frequencies (Hz) from LPC poles of 20 ms frames: median over frames of each sharp pole below 5 kHz. */
function formantsOf(x: Float32Array, count: number): number[] {
  const per: number[][] = [];
  for (let s = 1600; s + 640 <= x.length - 1600; s += 320) {
    const frame = Float64Array.from(
      x.subarray(s, s + 640),
      (v, i) => v * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / 639)),
    );
    const { re, im } = polyRoots(lpcBurg(frame, 2 * count + 2));
    const f: number[] = [];
    for (let k = 0; k < re.length; k++) {
      if (im[k]! <= 0 || Math.hypot(re[k]!, im[k]!) < 0.9) continue;
      f.push((Math.atan2(im[k]!, re[k]!) * SR) / (2 * Math.PI));
    }
    f.sort((p, q) => p - q);
    if (f.length >= count) per.push(f.slice(0, count));
  }
  assert.ok(per.length > 10, `too few frames with ${count} sharp poles (${per.length})`);
  return Array.from({ length: count }, (_, j) => {
    const v = per.map((f) => f[j]!).sort((p, q) => p - q);
    return v[Math.floor(v.length / 2)]!;
  });
}

const warpHz = (f: number, alpha: number): number => (((2 * Math.PI * f) / SR) ** alpha * SR) / (2 * Math.PI);

test('lpcBurg matches librosa.lpc (Burg) and polyRoots matches numpy.roots on a golden frame', () => {
  const x = testSignal(fixture.n, SR, fixture.seed);
  const frame = Float64Array.from(x.subarray(fixture.frameStart, fixture.frameStart + 320));
  const a = lpcBurg(frame, 20);
  assert.equal(a.length, 21);
  for (let i = 0; i <= 20; i++)
    assert.ok(Math.abs(a[i]! - fixture.lpc20[i]!) < 1e-9, `a[${i}] ${a[i]} vs ${fixture.lpc20[i]}`);
  const { re, im } = polyRoots(a);
  const key = (p: [number, number], q: [number, number]): number =>
    Math.round(p[0] * 1e6) - Math.round(q[0] * 1e6) || p[1] - q[1];
  const got = Array.from(re, (r, i) => [r, im[i]!] as [number, number]).sort(key);
  const want = fixture.roots.slice().sort(key);
  for (const [i, [r, j]] of want.entries()) {
    assert.ok(Math.hypot(got[i]![0] - r, got[i]![1] - j) < 1e-8, `root ${i}: ${got[i]} vs ${r},${j}`);
  }
  const back = polyFromRoots(re, im);
  for (let i = 0; i <= 20; i++) assert.ok(Math.abs(back[i]! - a[i]!) < 1e-10);
});

test('mcadams matches the VoicePrivacy anonym_v2 reference (alpha 0.8) on a golden signal', () => {
  const y = mcadams(testSignal(fixture.n, SR, fixture.seed), { alpha: fixture.alpha });
  assert.equal(y.length, fixture.n);
  let maxErr = 0;
  for (let i = 0; i < y.length; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - fixture.anonym[i]!));
  assert.ok(maxErr < 1e-5, `max abs error ${maxErr}`);
});

test('alpha = 1 leaves the signal unchanged away from the first and last 10 ms', () => {
  const x = testSignal(8000, SR, 11);
  const y = mcadams(x, { alpha: 1 });
  let maxErr = 0;
  for (let i = 160; i < x.length - 320; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - x[i]!));
  assert.ok(maxErr < 1e-6, `max abs error ${maxErr}`);
  // the warp itself is the identity on the LPC polynomial
  const a = lpcBurg(Float64Array.from(x.subarray(1000, 1320)), 20);
  const w = warpLpc(a, 1);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(w[i]! - a[i]!) < 1e-10);
});

test('formants move as φ → φ^α predicts (alpha 0.8 and 1.15), and stay put at alpha 1', () => {
  const formants = [500, 1500, 3500];
  const x = vowel(24000, formants);
  const before = formantsOf(x, 3);
  for (const [j, f] of formants.entries())
    assert.ok(Math.abs(before[j]! - f) < 30, `input formant ${j}: ${before[j]} vs ${f}`);
  for (const alpha of [0.8, 1.15]) {
    const after = formantsOf(mcadams(x, { alpha }), 3);
    for (const [j, f] of formants.entries()) {
      const want = warpHz(f, alpha);
      assert.ok(
        Math.abs(after[j]! - want) < Math.max(40, 0.3 * Math.abs(want - f)),
        `alpha ${alpha}, formant ${f} Hz: measured ${after[j]!.toFixed(0)} Hz, predicted ${want.toFixed(0)} Hz`,
      );
    }
  }
});

test('streaming output equals whole-file output for any chunking', () => {
  const x = testSignal(5000, SR, 5);
  const whole = mcadams(x, { alpha: 0.7 });
  for (const sizes of [[1], [7, 300], [160], [4999], [321, 1, 1000]]) {
    const s = new McAdamsStream({ alpha: 0.7 });
    const parts: Float32Array[] = [];
    let i = 0;
    for (let k = 0; i < x.length; k++) {
      const n = sizes[k % sizes.length]!;
      parts.push(s.push(x.subarray(i, i + n)));
      i += n;
    }
    parts.push(s.flush());
    const got = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      got.set(p, o);
      o += p.length;
    }
    assert.equal(got.length, whole.length, `chunks ${sizes}`);
    assert.deepEqual(got, whole, `chunks ${sizes}`);
  }
});

test('per-utterance alpha is reproducible, in range, and order-independent; bad alpha is refused by name', () => {
  const a = mcadamsAlpha(0, 'utt-1');
  assert.equal(a, mcadamsAlpha(0, 'utt-1'));
  assert.notEqual(a, mcadamsAlpha(1, 'utt-1'));
  for (let i = 0; i < 50; i++) {
    const v = mcadamsAlpha(3, `u${i}`);
    assert.ok(v >= 0.5 && v < 0.9);
  }
  assert.throws(() => mcadams(new Float32Array(400), { alpha: -1 }), /'alpha'/);
  assert.deepEqual(mcadams(new Float32Array(100), { alpha: 0.8 }), new Float32Array(100)); // shorter than a window
});

test('digitally silent and near-silent frames pass through with no NaN (a clip that starts with 0.5 s of exact zeros), and so do pure tones', () => {
  const speech = vowel(16000, [600, 1700, 2600]);
  const x = new Float32Array(8000 + speech.length); // 0.5 s of exact zeros, then a vowel
  x.set(speech, 8000);
  const y = mcadams(x, { alpha: 0.7 });
  assert.ok(y.every(Number.isFinite), `${y.filter((v) => !Number.isFinite(v)).length} non-finite samples`);
  // the silent half stays silent (pass-through of zeros: at most the reference's eps), the vowel is anonymised
  const peak = (a: Float32Array, from: number, to: number): number =>
    a.subarray(from, to).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(peak(y, 0, 7800) < 1e-6, `silence became ${peak(y, 0, 7800)}`);
  let diff = 0;
  for (let i = 9000; i < x.length - 320; i++) diff = Math.max(diff, Math.abs(y[i]! - x[i]!));
  assert.ok(diff > 0.01 && peak(y, 9000, x.length) < 2, `the vowel is anonymised (max |Δ| ${diff}) at a sane level`);
  // 1-LSB dither and a pure tone (poles on the unit circle, where the all-pole refilter can diverge)
  const dither = Float32Array.from({ length: 8000 }, (_, i) => (((i * 7919) % 3) - 1) / 32768);
  const tone = Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / SR));
  for (const [name, s] of [
    ['dither', dither],
    ['tone', tone],
  ] as const) {
    const out = mcadams(s, { alpha: 0.7 });
    assert.ok(
      out.every(Number.isFinite) && peak(out, 0, out.length) < 50 * (peak(s, 0, s.length) + 1e-4),
      `${name}: finite and bounded`,
    );
  }
  // the stream agrees on the same input
  const st = new McAdamsStream({ alpha: 0.7 });
  const parts = [st.push(x.subarray(0, 5000)), st.push(x.subarray(5000)), st.flush()];
  const streamed = Float32Array.from(parts.flatMap((p) => Array.from(p)));
  assert.deepEqual(streamed, y);
});
