// The browser capture's resampler (src/web/resample.ts), in Node: a 1 kHz tone comes out at 16 kHz
// with its amplitude and phase from 48 kHz and 44.1 kHz, tones above the new Nyquist are removed,
// and pushing in uneven blocks equals one whole call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler } from '../src/web/resample.js';

const tone = (rate: number, hz: number, seconds: number, amp = 0.5): Float32Array =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('a 1 kHz tone resampled from 48 kHz and 44.1 kHz to 16 kHz keeps its amplitude and phase within 1e-3', () => {
  for (const rate of [48000, 44100]) {
    const rs = new Resampler(rate, 16000);
    const y = concat([rs.push(tone(rate, 1000, 0.5)), rs.end()]);
    assert.equal(y.length, 8000, `${rate} Hz: 0.5 s → 8000 samples`);
    const want = tone(16000, 1000, 0.5);
    let err = 0;
    for (let n = 200; n < y.length - 200; n++) err = Math.max(err, Math.abs(y[n]! - want[n]!));
    assert.ok(err < 1e-3, `${rate} Hz: max |Δ| ${err}`);
  }
});

test('tones above the 16 kHz output Nyquist are removed (10 kHz and 15 kHz at 48 kHz: < 1e-3 left)', () => {
  for (const hz of [10000, 15000]) {
    const rs = new Resampler(48000, 16000);
    const y = concat([rs.push(tone(48000, hz, 0.3)), rs.end()]);
    let peak = 0;
    for (let n = 200; n < y.length - 200; n++) peak = Math.max(peak, Math.abs(y[n]!));
    assert.ok(peak < 1e-3, `${hz} Hz: peak ${peak}`);
  }
});

test('streaming in uneven blocks (1 … 1000 samples) equals one whole call; 16 kHz input passes unchanged', () => {
  const x = Float32Array.from(
    { length: 44100 },
    (_, i) => Math.sin(i * 0.01) * Math.sin(i * 0.0007) + 0.1 * Math.sin(i * 1.3),
  );
  const whole = new Resampler(44100, 16000);
  const ref = concat([whole.push(x), whole.end()]);
  for (const block of [1, 127, 128, 1000]) {
    const rs = new Resampler(44100, 16000);
    const parts: Float32Array[] = [];
    for (let i = 0; i < x.length; i += block) parts.push(rs.push(x.subarray(i, i + block)));
    parts.push(rs.end());
    assert.deepEqual(concat(parts), ref, `block ${block}`);
  }
  const same = new Resampler(16000, 16000);
  assert.deepEqual(
    concat([same.push(x.subarray(0, 100)), same.push(x.subarray(100, 300)), same.end()]),
    x.slice(0, 300),
  );
  assert.throws(() => new Resampler(0, 16000), /'inRate' must be a positive sample rate/);
});
