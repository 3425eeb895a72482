// A deterministic speech-like signal for the speed measurements (the bench and the in-browser bench run
// the same samples): a gliding voiced tone with harmonics under a syllable-rate envelope, plus a little
// noise. DOM- and Node-free, so the Worker bundles it and Node imports it.

/**
 * `seconds` of 16 kHz mono audio; equal seeds give equal samples in Node and in the browser.
 * @example const x = speechLike(10); // 160000 samples
 */
export function speechLike(seconds: number, seed = 1): Float32Array {
  if (!(seconds > 0)) throw new RangeError(`'seconds' must be positive, got ${seconds}`);
  const n = Math.round(seconds * 16000);
  const x = new Float32Array(n);
  let s = seed >>> 0;
  const rnd = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5;
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    ph += (2 * Math.PI * (120 + 60 * Math.sin(2 * Math.PI * 0.7 * t))) / 16000;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    x[i] = env * (0.3 * Math.sin(ph) + 0.15 * Math.sin(2 * ph) + 0.08 * Math.sin(3.1 * ph)) + 0.02 * rnd();
  }
  return x;
}
