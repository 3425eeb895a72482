// Engine section of `npm run bench` (issues 2, 15): conv2d forward+backward and matmul throughput, one
// bidirectional LSTM layer step, and the fixed cost of one tiny op through the binding, each beside
// PyTorch's figure for the same work (bench/peers/engine.py), measured alternately in this run.
// Ops are called by schema name so the section measures the engine alone, not nn/ wrappers.
// Each row reports the median of 7 timed runs; the note gives the fastest run beside it.
import { native, resolveOps } from '../src/binding/native.js';
import { keep, manualSeed, randn, tensor, tidy, wrap, wrapAll, type Tensor } from '../src/tensor/index.js';
import { formatValue } from './format.js';
import { rateRow, timeRow, versus, type Versus } from './peer.js';
import type { BenchRow } from './types.js';

const OP = resolveOps({ conv2d: 'aten::conv2d', lstm: 'aten::lstm.input' });

const SECTION = 'engine';

const bestNote = (work: number, v: Versus): string =>
  `${formatValue(v.earmark.median * 1e3)} ms per call; best run ${formatValue(work / v.earmark.best)}`;

/** conv2d 8×16×80×64 → 32 channels, 5×5, padding 2; forward and backward to input, weight and bias. */
async function benchConv2d(): Promise<BenchRow> {
  const [n, cin, h, w, cout, k] = [8, 16, 80, 64, 32, 5];
  const x = keep(randn([n, cin, h, w], { requiresGrad: true }));
  const weight = keep(randn([cout, cin, k, k], { requiresGrad: true }));
  const bias = keep(randn([cout], { requiresGrad: true }));
  const gradOut = keep(randn([n, cout, h, w])); // the output keeps H×W with padding 2
  const step = (): void =>
    tidy(() => {
      const y = wrap(native.call(OP.conv2d, x.handle, weight.handle, bias.handle, [1, 1], [2, 2])); // [8, 32, 80, 64]
      y.backward(gradOut);
      for (const p of [x, weight, bias]) p.setGrad(null);
    });
  const v = await versus(
    step,
    { case: 'engine.conv2d', args: { n, cin, h, w, cout, k } },
    { warmup: 2, repeats: 9, iters: 3 },
  );
  for (const p of [x, weight, bias, gradOut]) p.dispose();
  // one pass is 2·N·Cout·H·W·Cin·k² FLOPs; backward costs two more (grad input, grad weight)
  const gflop = (3 * 2 * n * cout * h * w * cin * k * k) / 1e9;
  return rateRow(SECTION, 'conv2d fwd+bwd 8×16×80×64, 32×5×5', gflop, v, 'GFLOP/s', {
    target: '>= 70',
    note: bestNote(gflop, v),
  });
}

/** 1024×1024 by 1024×1024 float32 matrix product. */
async function benchMatmul(): Promise<BenchRow> {
  const size = 1024;
  const a = keep(randn([size, size]));
  const b = keep(randn([size, size]));
  const v = await versus(
    () => {
      a.matmul(b).dispose();
    },
    { case: 'engine.matmul', args: { size }, grad: false },
    { warmup: 3, repeats: 7, iters: 3 },
  );
  a.dispose();
  b.dispose();
  const gflop = (2 * size ** 3) / 1e9;
  return rateRow(SECTION, 'matmul 1024² float32', gflop, v, 'GFLOP/s', { target: '>= 100', note: bestNote(gflop, v) });
}

/** One bidirectional LSTM layer, batch-first [16, 128, 161] → hidden 64 per direction, forward + backward. */
async function benchLstm(): Promise<BenchRow> {
  const [batch, steps, inputSize, hidden] = [16, 128, 161, 64];
  const bound = 1 / Math.sqrt(hidden); // PyTorch's LSTM init: U(-1/√H, 1/√H)
  const uniform = (shape: number[]): Tensor => keep(tidy(() => randn(shape).uniform_(-bound, bound).requiresGrad_()));
  // per direction: w_ih [4H, I], w_hh [4H, H], b_ih [4H], b_hh [4H] (gates i, f, g, o)
  const params = [0, 1].flatMap(() => [
    uniform([4 * hidden, inputSize]),
    uniform([4 * hidden, hidden]),
    uniform([4 * hidden]),
    uniform([4 * hidden]),
  ]);
  const x = keep(randn([batch, steps, inputSize], { requiresGrad: true }));
  const h0 = keep(randn([2, batch, hidden]));
  const c0 = keep(randn([2, batch, hidden]));
  const gradOut = keep(randn([batch, steps, 2 * hidden]));
  const step = (): void =>
    tidy(() => {
      const [output] = wrapAll(
        native.call(
          OP.lstm,
          x.handle,
          [h0.handle, c0.handle],
          params.map((p) => p.handle),
          true,
          1,
          0,
          true,
          true,
          true,
        ),
      ); // has_biases, num_layers, dropout, train, bidirectional, batch_first
      output!.backward(gradOut); // output: [16, 128, 2·64]
      for (const p of [x, ...params]) p.setGrad(null);
    });
  const v = await versus(
    step,
    { case: 'engine.bilstm', args: { batch, steps, input_size: inputSize, hidden } },
    { warmup: 2, repeats: 7 },
  );
  for (const p of [x, h0, c0, gradOut, ...params]) p.dispose();
  return timeRow(SECTION, 'BiLSTM layer fwd+bwd 16×128×161, H=64', v, 'ms', 1e3, {
    note: `${formatValue((batch * steps) / v.earmark.median / 1e3)}k frames/s; best run ${formatValue(v.earmark.best * 1e3)} ms`,
  });
}

/** The fixed cost of one op: add of two 1-element tensors and dispose of the result (issue 15: ≤ 1.0 µs). */
async function benchOverhead(): Promise<BenchRow[]> {
  const a = keep(tensor([1]));
  const b = keep(tensor([2]));
  const opts = { warmup: 2000, repeats: 9, iters: 20_000 };
  const plain = await versus(
    () => {
      a.add(b).dispose();
    },
    { case: 'engine.tiny_add', grad: false },
    opts,
  );
  const scoped = await versus(
    () => {
      tidy(() => a.add(b)).dispose();
    },
    { case: 'engine.tiny_add', grad: false },
    opts,
  );
  a.dispose();
  b.dispose();
  const note = (v: Versus): string =>
    `best run ${formatValue(v.earmark.best * 1e6)}` +
    (v.peer ? `; PyTorch: torch.add(a, b), best ${formatValue(v.peer.best * 1e6)}` : '');
  return [
    timeRow(SECTION, 'tiny add (1 element) + dispose', plain, 'µs/op', 1e6, { target: '<= 1.0', note: note(plain) }),
    timeRow(SECTION, 'tiny add inside its own tidy()', scoped, 'µs/op', 1e6, { note: note(scoped) }),
  ];
}

/**
 * The engine rows of `npm run bench`.
 * @example console.log(formatTable(await benchEngine()));
 */
export async function benchEngine(): Promise<BenchRow[]> {
  manualSeed(0);
  return [await benchConv2d(), await benchMatmul(), await benchLstm(), ...(await benchOverhead())];
}
