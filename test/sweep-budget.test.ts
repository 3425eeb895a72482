// The utility budget of `train-obfuscator --max-target-drop D` (issue 14): one obfuscator per λ_p, the
// choice made on the validation split only (choice.json, and the exported ONNX carries it). Relabelling
// every test utterance (same audio, same split) leaves the choice unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DATASET_DEFAULTS } from '../src/data/experiment-data.js';
import { decodeModel } from '../src/edge/onnx.js';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { runTrainTarget } from '../src/eval/optin/pipeline.js';
import { runTrainObfuscatorBudget } from '../src/eval/sweep/budget.js';
import { chooseByBudget } from '../src/eval/sweep/frontier.js';
import { memory } from '../src/tensor/index.js';
import { tinyCorpus } from './tiny-corpus.js';

test('chooseByBudget: the most private point within the budget, else the smallest drop', () => {
  const v = (drop: number, g: number) => ({ cleanAcc: 1, targetAcc: 1 - drop, drop, informed: { gender: g } });
  const cands = [
    { id: 'a', val: v(0.01, 0.9) },
    { id: 'b', val: v(0.02, 0.6) },
    { id: 'c', val: v(0.2, 0.5) },
  ];
  assert.equal(chooseByBudget(cands, 3).chosen, 'b');
  assert.equal(chooseByBudget(cands, 25).chosen, 'c');
  const none = chooseByBudget(cands, 0.5);
  assert.deepEqual([none.chosen, none.withinBudget], ['a', false]);
  assert.throws(() => chooseByBudget(cands, -1), /'maxDrop' must be a number of points >= 0/);
});

test('train-obfuscator --max-target-drop: choice.json and ONNX metadata, and relabelled test data changes nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-budget-'));
  try {
    const manifest = tinyCorpus(path.join(dir, 'corpus'), 4);
    const dataset = { ...DATASET_DEFAULTS, layout: 'csv' as const, manifest, root: '' };
    const before = memory().numTensors;
    const cfg = resolveExperimentConfig('cpu', {
      model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
      targetTrain: { epochs: 1, batchSize: 4, cropFrames: 24, lr: 3e-3 },
      obfuscator: { channels: 4, residualBlocks: 1 },
      deobfuscator: { channels: 4, residualBlocks: 1 },
      obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24, identityWarmupSteps: 2 },
    });
    const t = await runTrainTarget({
      task: 'speaker',
      dataset,
      model: cfg.model,
      train: cfg.targetTrain,
      out: path.join(dir, 'target'),
      resume: false,
    });
    const budget = async (labels: string, out: string): Promise<string> => {
      const c = await runTrainObfuscatorBudget({
        target: t.checkpoint,
        task: 'speaker',
        dataset: { ...dataset, manifest: labels },
        obfuscator: cfg.obfuscator,
        deobfuscator: cfg.deobfuscator,
        train: cfg.obfuscatorTrain,
        out,
        resume: false,
        maxTargetDrop: 50,
        lambdaPs: [0.3, 3],
      });
      const choice = JSON.parse(readFileSync(path.join(out, 'choice.json'), 'utf8'));
      assert.equal(choice.candidates.length, 2);
      const meta = decodeModel(readFileSync(path.join(out, 'obfuscator.onnx'))).metadata;
      assert.equal(JSON.parse(meta['earmark.choice']!).chosen, c.chosen);
      return JSON.stringify({ chosen: c.chosen, candidates: c.candidates });
    };
    const a = await budget(manifest, path.join(dir, 'a'));
    // every test utterance relabelled (speakers rotated), same audio, same saved split
    const splits = JSON.parse(readFileSync(path.join(dir, 'a', 'lp0p3', 'splits.json'), 'utf8'));
    const testIds = new Set<string>([...splits.split.test, ...(splits.speakerId?.test ?? [])]);
    const rot: Record<string, string> = { f1: 'm2', f2: 'f1', m1: 'f2', m2: 'm1' };
    const rows = readFileSync(manifest, 'utf8').trim().split('\n');
    const relabelled = rows.map((r, i) => {
      if (i === 0) return r;
      const [p, spk, ...rest] = r.split(',');
      return testIds.has(p!.replace(/\.wav$/, '')) ? [p, rot[spk!], ...rest].join(',') : r;
    });
    assert.ok(relabelled.filter((r, i) => r !== rows[i]).length >= 4, 'test rows relabelled');
    const other = path.join(dir, 'corpus', 'labels-relabelled.csv');
    writeFileSync(other, relabelled.join('\n') + '\n');
    mkdirSync(path.join(dir, 'b', 'lp0p3'), { recursive: true });
    copyFileSync(path.join(dir, 'a', 'lp0p3', 'splits.json'), path.join(dir, 'b', 'lp0p3', 'splits.json'));
    assert.equal(await budget(other, path.join(dir, 'b')), a, 'the choice and every number it read are the same');
    assert.equal(memory().numTensors, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
