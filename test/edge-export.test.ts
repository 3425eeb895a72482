// ONNX = libtorch: the exported obfuscator (any C, R; fused and literal graphs) and the DS2 target give
// the libtorch forward's values on random inputs and random weights; the files pass the structural
// checker, which also rejects broken graphs; the int8 export stays close to float.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOnnxModel, assertValidOnnx } from '../src/edge/checker.js';
import { exportDeepSpeech2 } from '../src/edge/export-ds2.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { decodeModel, encodeModel, type OnnxModel } from '../src/edge/onnx.js';
import { calibrate, quantizeStaticInt8, quantizeWeightsInt8 } from '../src/edge/quantize.js';
import { OnnxSession } from '../src/edge/runtime.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { saveCheckpoint } from '../src/methods/checkpoint.js';
import { exportObfuscator, exportTarget, plainStateDict } from '../src/deploy/export.js';
import { int8Cost } from '../src/deploy/int8-cost.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import type { Module } from '../src/nn/index.js';
import { manualSeed, memory, noGrad, randn, tensor, tidy } from '../src/tensor/index.js';

/** Random weights everywhere (norm scales near 1, running variances positive) so no branch is trivial. */
function randomize(m: Module): void {
  noGrad(() => {
    for (const [k, t] of m.stateDict()) {
      if (t.dtype !== 'float32') continue;
      tidy(() => {
        if (k.endsWith('running_var')) t.copy_(randn(t.shape).abs().add(0.5));
        else if (/(tfan|\.1|\.2|norm.*)\.weight$/.test(k) && t.ndim === 1) t.copy_(randn(t.shape).mul(0.2).add(1));
        else t.copy_(randn(t.shape).mul(t.ndim > 1 ? 1 / Math.sqrt(t.numel / t.shape[0]!) : 0.1));
      });
    }
  });
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / Math.max(scale, 1e-12);
}

async function onnxVsTorch(
  model: OnnxModel,
  module: Module & { forward(x: ReturnType<typeof randn>): ReturnType<typeof randn> },
  dims: number[],
): Promise<number> {
  const bytes = encodeModel(model);
  assertValidOnnx(bytes, model.graph.name);
  const session = await OnnxSession.load(bytes);
  const x = tidy(() => randn(dims).toFloat32Array());
  const want = noGrad(() => tidy(() => module.forward(tensor(x, dims)).contiguous().toFloat32Array()));
  const got = await session.run({ data: x, dims });
  await session.close();
  return maxRelErr(got.data, want);
}

/** Export `g` fused and literal and compare each with its libtorch forward on every input shape. */
async function assertExportEqualsTorch(g: CycleGanVc2Generator, label: string, shapes: number[][]): Promise<void> {
  const w = plainStateDict(g);
  for (const optimize of [true, false]) {
    const model = exportGenerator(g.config, w, { optimize });
    for (const dims of shapes) {
      const err = await onnxVsTorch(model, g, dims);
      assert.ok(err < 1e-4, `${label} optimize=${optimize} dims=${dims.join('×')}: relative error ${err}`);
    }
  }
}

test('the exported obfuscator equals the libtorch generator (C=4 R=1, C=6 R=2; odd and aligned T; fused and literal)', async () => {
  const before = memory().numTensors;
  manualSeed(7);
  for (const [c, r] of [
    [4, 1],
    [6, 2],
  ] as const) {
    const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: c, residualBlocks: r }));
    randomize(g);
    g.eval();
    await assertExportEqualsTorch(g, `C=${c} R=${r}`, [
      [2, 161, 37],
      [1, 161, 64],
    ]);
    g.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('the exported DS2 target equals libtorch (LSTM and GRU, eval BatchNorm with random statistics)', async () => {
  const before = memory().numTensors;
  manualSeed(3);
  for (const rnnType of ['lstm', 'gru'] as const) {
    const m = new DeepSpeech2(
      resolveDeepSpeech2Config({ convChannels: 4, rnnLayers: 2, hiddenSize: 8, numClasses: 3, rnnType }),
    );
    randomize(m);
    m.eval();
    const model = exportDeepSpeech2({ ...m.config }, plainStateDict(m));
    const err = await onnxVsTorch(model, m, [2, 161, 41]);
    assert.ok(err < 1e-4, `${rnnType}: relative error ${err}`);
    // from a train-target checkpoint (module 'best'), shape inferred from the weights
    const dir = mkdtempSync(path.join(tmpdir(), 'earmark-t-'));
    saveCheckpoint(path.join(dir, 'target.safetensors'), { modules: { best: m } }, { modelConfig: m.config });
    exportTarget(path.join(dir, 'target.safetensors'), path.join(dir, 'target.onnx'));
    const back = decodeModel(readFileSync(path.join(dir, 'target.onnx')));
    assert.equal(JSON.parse(back.metadata['earmark.model']!).rnnType, rnnType);
    const err2 = await onnxVsTorch(back, m, [1, 161, 30]);
    assert.ok(err2 < 1e-4, `${rnnType} from checkpoint: relative error ${err2}`);
    rmSync(dir, { recursive: true, force: true });
    m.dispose();
  }
  assert.equal(memory().numTensors, before);
});

test('metadata round-trips and the checker rejects broken graphs, naming the rule', () => {
  const w = new Map<string, { data: Float32Array; shape: number[] }>();
  const before = memory().numTensors;
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  for (const [k, v] of plainStateDict(g)) w.set(k, v);
  g.dispose();
  assert.equal(memory().numTensors, before);
  const model = exportGenerator({ nFreq: 161, channels: 4, residualBlocks: 1 }, w);
  const back = decodeModel(encodeModel(model));
  assert.deepEqual(checkOnnxModel(back), []);
  assert.equal(back.metadata['earmark.kind'], 'obfuscator');
  assert.equal(JSON.parse(back.metadata['earmark.features']!).windowFrames, 128);
  assert.equal(back.opsetImports[0]!.version, 17);

  const broken = (edit: (m: OnnxModel) => void): string[] => {
    const m = decodeModel(encodeModel(model));
    edit(m);
    return checkOnnxModel(decodeModel(encodeModel(m))).map((i) => i.rule);
  };
  assert.ok(
    broken((m) => {
      m.graph.nodes.reverse();
    }).includes('topological'),
  );
  assert.ok(
    broken((m) => {
      m.graph.nodes[3]!.name = m.graph.nodes[2]!.name;
    }).includes('unique_node'),
  );
  assert.ok(
    broken((m) => {
      m.graph.nodes[5]!.outputs = [...m.graph.nodes[4]!.outputs];
    }).includes('ssa'),
  );
  assert.ok(
    broken((m) => {
      m.opsetImports = [];
    }).includes('opset'),
  );
  assert.ok(
    broken((m) => {
      m.graph.inputs[0]!.shape = undefined;
    }).includes('typed'),
  );
  assert.ok(
    broken((m) => {
      m.graph.outputs[0]!.name = 'nothing';
    }).includes('outputs'),
  );
  assert.ok(
    broken((m) => {
      m.graph.initializers[0]!.dims = [999];
    }).includes('initializer_size'),
  );
  assert.ok(
    broken((m) => {
      m.graph.nodes[0]!.opType = 'Frobnicate';
    }).includes('operator'),
  );
  assert.throws(
    () => assertValidOnnx(new Uint8Array([0x0a, 0xff, 0xff]), 'junk.onnx'),
    /junk\.onnx is not an ONNX protobuf/,
  );
});

test('int8 exports (dynamic ConvInteger, weight-only, static QDQ) stay close to the float export', async () => {
  const before = memory().numTensors;
  manualSeed(11);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 8, residualBlocks: 1 }));
  randomize(g);
  g.eval();
  const model = exportGenerator(g.config, plainStateDict(g));
  g.dispose();
  assert.equal(memory().numTensors, before);
  const dims = [1, 161, 64];
  const x = new Float32Array(161 * 64).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
  const fp = await OnnxSession.load(encodeModel(model));
  const want = (await fp.run({ data: x, dims })).data;
  await fp.close();
  for (const mode of ['dynamic', 'weights'] as const) {
    const bytes = encodeModel(quantizeWeightsInt8(model, mode));
    assertValidOnnx(bytes, mode);
    const s = await OnnxSession.load(bytes);
    const got = (await s.run({ data: x, dims })).data;
    await s.close();
    const err = maxRelErr(got, want);
    assert.ok(err > 0 && err < 0.1, `${mode}: relative error ${err} (int8 must differ from float, but only a little)`);
  }
  // static QDQ, calibrated on other inputs of the same kind: coarser (per-tensor uint8 activations before InstanceNorm)
  const calib = [0.21, 0.5, 0.77].map((f) => ({
    data: new Float32Array(161 * 64).map((_, i) => Math.sin(i * f) + Math.cos(i * 0.011)),
    dims,
  }));
  const q = quantizeStaticInt8(model, await calibrate(model, calib));
  const bytes = encodeModel(q);
  assertValidOnnx(bytes, 'static');
  assert.ok(q.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').length >= 12);
  const s = await OnnxSession.load(bytes);
  const got = (await s.run({ data: x, dims })).data;
  await s.close();
  let mae = 0;
  let ms = 0;
  for (let i = 0; i < got.length; i++) {
    mae += Math.abs(got[i]! - want[i]!);
    ms += want[i]! ** 2;
  }
  const rel = mae / got.length / Math.sqrt(ms / got.length);
  assert.ok(rel > 0 && rel < 0.5, `static: mean |Δ| / rms ${rel}`);
});

test('exportObfuscator reads a train-obfuscator checkpoint without libtorch (C, R from the weights), and int8Cost scores T on both exports', async () => {
  const before = memory().numTensors;
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-export-'));
  manualSeed(5);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 6, residualBlocks: 2 }));
  randomize(g);
  g.eval();
  saveCheckpoint(path.join(dir, 'obfuscator.safetensors'), { modules: { obfuscator: g } }, { epoch: 1 });
  const { file, int8File } = exportObfuscator(path.join(dir, 'obfuscator.safetensors'), path.join(dir, 'obf.onnx'), {
    int8: 'weights',
  });
  assert.equal(int8File, path.join(dir, 'obf.int8.onnx'));
  const m = decodeModel(readFileSync(file));
  assert.deepEqual(JSON.parse(m.metadata['earmark.model']!), {
    architecture: 'CycleGAN-VC2 generator',
    nFreq: 161,
    channels: 6,
    residualBlocks: 2,
  });
  const s = await OnnxSession.load(file);
  const dims = [1, 161, 50];
  const x = tidy(() => randn(dims).toFloat32Array());
  const want = noGrad(() => tidy(() => g.forward(tensor(x, dims)).toFloat32Array()));
  assert.ok(maxRelErr((await s.run({ data: x, dims })).data, want) < 1e-4);
  await s.close();
  g.dispose();

  const t = new DeepSpeech2(
    resolveDeepSpeech2Config({ convChannels: 4, rnnLayers: 1, hiddenSize: 8, numClasses: 2 }),
  ).eval();
  const specs = [0, 1, 2, 3].map((i) => tidy(() => randn([161, 60 + 7 * i]).toFloat32Array()));
  const data = {
    set: { ids: ['a', 'b', 'c', 'd'], specs, frames: [60, 67, 74, 81], nFreq: 161 },
    labels: [0, 1, 0, 1],
    numClasses: 2,
  };
  const cost = await int8Cost(t, file, int8File!, data, { windowFrames: 32, lookaheadFrames: 4 });
  for (const k of ['clean', 'fp32', 'int8'] as const)
    assert.ok(cost[k] >= 0 && cost[k] <= 1 && Number.isInteger(cost[k] * 4), `${k} ${cost[k]}`);
  assert.ok(Number.isInteger(cost.changed) && cost.changed <= 4);
  assert.ok(cost.meanAbsDiff > 0 && cost.meanAbsDiff < 0.5, `mean |fp32 − int8| ${cost.meanAbsDiff}`);
  t.dispose();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(memory().numTensors, before);
});

test("the 'time-local' generator: ONNX = libtorch (fused and literal), its marker names the variant in a checkpoint, and its output frames ignore frames beyond the receptive field", async () => {
  const before = memory().numTensors;
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-export-'));
  manualSeed(9);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 6, residualBlocks: 2, norm: 'time-local' }));
  randomize(g);
  g.eval();
  await assertExportEqualsTorch(g, 'time-local', [
    [2, 161, 37],
    [1, 161, 12],
  ]);
  assert.throws(
    () => exportGenerator({ nFreq: 161, channels: 6, residualBlocks: 2 }, plainStateDict(g)),
    /time_local_norm/,
  );
  saveCheckpoint(path.join(dir, 'obfuscator.safetensors'), { modules: { obfuscator: g } }, { epoch: 1 });
  const { file } = exportObfuscator(path.join(dir, 'obfuscator.safetensors'), path.join(dir, 'obf.onnx'));
  assert.equal(JSON.parse(decodeModel(readFileSync(file)).metadata['earmark.model']!).norm, 'time-local');

  // frame t reads frames t ± (38 + 8R) at most: a 120-frame prefix of a 200-frame input gives the same first 60
  // frames; with InstanceNorm (whose statistics span the window) it does not
  const headAgrees = (m: CycleGanVc2Generator): number =>
    noGrad(() =>
      tidy(() => {
        const x = randn([1, 161, 200]);
        const full = m.forward(x).narrow(2, 0, 60);
        const head = m.forward(x.narrow(2, 0, 120).contiguous()).narrow(2, 0, 60);
        return full.sub(head).abs().max().item();
      }),
    );
  assert.ok(headAgrees(g) < 1e-4, `time-local: prefix changes the head by ${headAgrees(g)}`);
  const inst = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 6, residualBlocks: 2 }));
  randomize(inst);
  inst.eval();
  assert.ok(headAgrees(inst) > 1e-3, 'InstanceNorm: the prefix should change the head');
  inst.dispose();
  g.dispose();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(memory().numTensors, before);
});
