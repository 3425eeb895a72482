// Deterministic test signals shared with the Python golden generator (scripts/goldens/audio.py
// `test_signal`): the same float64 formula and 32-bit LCG, rounded to float32, so goldens need no
// stored audio.

/**
 * Tones at 220 and 3100 Hz, a 300 Hz + 1500 Hz/s chirp, a slow amplitude envelope, 32-bit LCG noise
 * at 0.02, and the last 20% of the signal 60 dB quieter.
 * @example const x = testSignal(16000, 16000, 12345); // 1 s at 16 kHz
 */
export function testSignal(n: number, sampleRate: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let state = seed >>> 0;
  const dur = n / sampleRate;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = (state / 4294967296) * 2 - 1;
    const env = 0.2 + 0.8 * (0.5 - 0.5 * Math.cos(2 * Math.PI * 1.3 * t));
    let x =
      env *
        (0.4 * Math.sin(2 * Math.PI * 220 * t) +
          0.2 * Math.sin(2 * Math.PI * (300 + 1500 * t) * t) +
          0.1 * Math.sin(2 * Math.PI * 3100 * t)) +
      0.02 * u;
    if (t >= 0.8 * dur) x *= 1e-3;
    out[i] = x;
  }
  return out;
}

/** A sine of `freq` Hz and `amplitude`, `n` samples at `sampleRate` (float64 phase, float32 out). */
export function sine(n: number, sampleRate: number, freq: number, amplitude = 0.5, phase = 0): Float32Array {
  return Float32Array.from(
    { length: n },
    (_, i) => amplitude * Math.sin(2 * Math.PI * freq * (i / sampleRate) + phase),
  );
}
