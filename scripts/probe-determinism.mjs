// Which libtorch CPU kernels the training loops use give other bits at another thread count, and which
// (if any) give other bits from one call to the next at the same count (docs/determinism.md). Each case
// runs forward and backward on seeded inputs of the sizes the CPU preset trains on: once at 1 thread,
// then R times at N threads; it prints whether the N-thread runs agree bit for bit with each other and
// the largest |difference| from the 1-thread run, over the output and every gradient, and a digest of
// the N-thread bits (compare two processes' digests: the same in every process?).
// Usage: npx tsc -p tsconfig.json && node scripts/probe-determinism.mjs [N=2] [R=5]
import { createHash } from 'node:crypto';
import { crossEntropy, functional as F } from '../dist/src/nn/index.js';
import { manualSeed, randint, randn, setNumThreads, tidy } from '../dist/src/tensor/index.js';

const threads = Number(process.argv[2] ?? 2);
const reps = Number(process.argv[3] ?? 5);

/** name → () => [output, ...inputs whose gradients count]; inputs are rebuilt from seed 0 each time. */
const CASES = {
  'matmul (linear) fwd+bwd': () => leaf([[64 * 50, 512], [161, 512], [161]], (x, w, b) => F.linear(x, w, b)),
  'conv2d 41x11 fwd+bwd (DS2 front)': () =>
    leaf(
      [
        [8, 1, 161, 200],
        [8, 1, 41, 11],
      ],
      (x, w) => F.conv2d(x, w, null, { stride: [2, 2], padding: [20, 5] }),
    ),
  'conv1d k5 fwd+bwd (CycleGAN-VC2)': () =>
    leaf(
      [
        [8, 64, 128],
        [128, 64, 5],
      ],
      (x, w) => F.conv1d(x, w, null, { padding: 2 }),
    ),
  'convTranspose1d fwd+bwd': () =>
    leaf(
      [
        [8, 64, 64],
        [64, 32, 4],
      ],
      (x, w) => F.convTranspose1d(x, w, null, { stride: 2, padding: 1 }),
    ),
  'batchNorm (train) fwd+bwd': () =>
    leaf([[16, 32, 81, 100], [32], [32]], (x, g, b) =>
      F.batchNorm(x, null, null, { weight: g, bias: b, training: true }),
    ),
  'instanceNorm fwd+bwd': () => leaf([[8, 128, 256]], (x) => F.instanceNorm(x, null, null, { useInputStats: true })),
  'lstm bidirectional fwd+bwd': () => rnn('lstm'),
  'gru bidirectional fwd+bwd': () => rnn('gru'),
  'sum / mean of 4M': () => leaf([[2048, 2048]], (x) => x.sum().add(x.mean([1]).sum())),
  'crossEntropy fwd+bwd': () => {
    const [x] = inputs([[64 * 50, 40]]);
    return [crossEntropy(x, randint(0, 40, [64 * 50])), x];
  },
  'indexSelect bwd (index_add_)': () => {
    const [x] = inputs([[1000, 256]]);
    return [x.indexSelect(0, randint(0, 1000, [20000])), x];
  },
  'gather bwd (scatter_add_)': () => {
    const [x] = inputs([[256, 4096]]);
    return [x.gather(1, randint(0, 4096, [256, 20000])), x];
  },
  'embedding bwd': () => {
    const [w] = inputs([[1000, 256]]);
    return [F.embedding(randint(0, 1000, [64, 400]), w), w];
  },
  'stft 320/160': () => leaf([[16, 16000 * 4]], (x) => x.stft(320, { hopLength: 160 }).square().sum(-1)),
};

function inputs(shapes, scale = 1) {
  manualSeed(0);
  return shapes.map((s) => randn(s).mul(scale).requiresGrad_(true));
}

function leaf(shapes, f) {
  const xs = inputs(shapes);
  return [f(...xs), ...xs];
}

function rnn(kind) {
  const [l, b, i, h] = [200, 16, 128, 128];
  const g = (kind === 'lstm' ? 4 : 3) * h; // gates × hidden
  const shapes = [[l, b, i], ...[0, 1].flatMap(() => [[g, i], [g, h], [g], [g]])]; // per direction w_ih, w_hh, b_ih, b_hh
  const [x, ...params] = inputs(shapes, 1 / Math.sqrt(h)); // weights as torch initialises them: no overflow
  const h0 = randn([2, b, h]);
  const o = { hasBiases: true, numLayers: 1, dropout: 0, training: true, bidirectional: true, batchFirst: false };
  const out = kind === 'lstm' ? F.lstm(x, h0, randn([2, b, h]), params, o).output : F.gru(x, h0, params, o).output;
  return [out, x, ...params];
}

/** Output and gradients (seeded upstream gradient) of one case, as Float32Arrays. */
function run(make) {
  return tidy(() => {
    const [y, ...xs] = make();
    manualSeed(1);
    y.backward(randn(y.shape));
    return [y.detach(), ...xs.map((x) => x.grad)].map((t) => t.contiguous().toFloat32Array());
  });
}

// NaN-safe: two NaNs in one place agree, a NaN against a number counts as an infinite difference
const diff = (v, w) => (Number.isNaN(v) && Number.isNaN(w) ? 0 : Number.isNaN(v - w) ? Infinity : Math.abs(v - w));
const maxDiff = (a, b) => Math.max(...a.map((x, k) => x.reduce((m, v, i) => Math.max(m, diff(v, b[k][i])), 0)));
const nans = (a) => a.reduce((n, x) => n + x.reduce((c, v) => c + Number(Number.isNaN(v)), 0), 0);
const maxAbs = (a) => Math.max(...a.map((x) => x.reduce((m, v) => Math.max(m, Math.abs(v) || 0), 0)));
const bytesOf = (x) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
const digest = (a) =>
  a
    .reduce((h, x) => h.update(bytesOf(x)), createHash('sha256'))
    .digest('hex')
    .slice(0, 12);
const bitsEqual = (a, b) => a.every((x, k) => Buffer.from(bytesOf(x)).equals(Buffer.from(bytesOf(b[k]))));

console.log(`${threads} threads, ${reps} runs of each case`);
for (const [name, make] of Object.entries(CASES)) {
  setNumThreads(1);
  const one = run(make);
  setNumThreads(threads);
  const runs = Array.from({ length: reps }, () => run(make));
  const stable = runs.every((r) => bitsEqual(r, runs[0]));
  const spread = Math.max(...runs.map((r) => maxDiff(r, runs[0])));
  const d1 = maxDiff(runs[0], one);
  const rel = d1 === 0 ? '' : ` (${(d1 / maxAbs(one)).toExponential(1)} of max |value|)`;
  const same = stable ? 'bit-identical' : `DIFFERS (max ${spread.toExponential(2)})`;
  const nan = nans(runs[0]) > 0 ? `; ${nans(runs[0])} NaN` : '';
  console.log(
    `${name.padEnd(36)} ${same}; vs 1 thread: max |d| ${d1.toExponential(2)}${rel}; sha256 ${digest(runs[0])}${nan}`,
  );
}
