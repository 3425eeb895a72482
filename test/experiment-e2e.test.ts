// A tiny end-to-end run of the opt-in method on a synthetic corpus (CSV manifest layout): train T,
// train the obfuscator, train and run every attacker, write report.json and report.html; a second
// run resumes from the checkpoints instead of retraining.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { runExperiment } from '../src/eval/optin/run.js';
import { memory } from '../src/tensor/index.js';
import { keepOutput } from './keep-output.js';

/** 4 speakers (2 female, 2 male) × 2 emotions × 5 sentences of harmonic tones, 0.5 s at 16 kHz. */
function syntheticCorpus(dir: string): string {
  const rows = ['path,speaker,gender,emotion,sentence'];
  const speakers = [['f1', 'female', 220], ['f2', 'female', 260], ['m1', 'male', 110], ['m2', 'male', 130]] as const;
  mkdirSync(path.join(dir, 'wav'), { recursive: true });
  for (const [spk, gender, f0] of speakers) {
    for (const emotion of ['calm', 'tense']) {
      for (let s = 0; s < 5; s++) {
        const n = 8000;
        const x = new Float32Array(n);
        const vib = emotion === 'tense' ? 12 : 2;
        for (let i = 0; i < n; i++) {
          const t = i / 16000;
          const f = f0 * (1 + 0.02 * s) + vib * Math.sin(2 * Math.PI * 5 * t);
          for (let h = 1; h <= 6; h++) x[i]! += (0.3 / h) * Math.sin(2 * Math.PI * f * h * t + s);
        }
        const rel = `wav/${spk}_${emotion}_${s}.wav`;
        writeFileSync(path.join(dir, rel), encodeWav(x, 16000));
        rows.push(`${rel},${spk},${gender},${emotion},s${s}`);
      }
    }
  }
  writeFileSync(path.join(dir, 'labels.csv'), rows.join('\n') + '\n');
  return path.join(dir, 'labels.csv');
}

test('fig4 end to end on a tiny corpus writes a complete report and resumes from checkpoints', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-e2e-'));
  try {
    const manifest = syntheticCorpus(path.join(dir, 'corpus'));
    const tiny = { epochs: 2, batchSize: 4, cropFrames: 24, lr: 3e-3 };
    const config = resolveExperimentConfig('cpu', {
      experiment: 'fig4', reportExamples: 1,
      dataset: { layout: 'csv', manifest, root: '', splitSeed: 0, skipBad: false },
      model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
      targetTrain: tiny, attackerTrain: tiny,
      obfuscator: { channels: 4, residualBlocks: 1 }, deobfuscator: { channels: 4, residualBlocks: 1 },
      obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24, identityWarmupSteps: 2 },
      adr: { adrTrain: { preEpochs: 2, epochs: 3, batchSize: 8 }, classifier: { epochs: 3, hidden: 16 } },
      verification: { xvector: { channels: 8, poolChannels: 16, embedDim: 16 }, train: { epochs: 2, batchSize: 4, cropFrames: 24 } },
    });
    const runDir = path.join(dir, 'run');
    const before = memory().numTensors;
    const logs: string[] = [];
    const r = await runExperiment({ config, runDir, log: (l) => logs.push(l) });
    assert.equal(memory().numTensors, before, 'no tensors outlive the experiment');
    for (const f of ['report.json', 'report.html', 'config.json', 'splits.json', 'target.safetensors', 'obfuscator.safetensors',
      'clean-gender.safetensors', 'informed-gender.safetensors', 'clean-emotion.safetensors', 'informed-emotion.safetensors',
      'mcadams-informed-gender.safetensors', 'xvector-clean.safetensors']) {
      assert.ok(existsSync(path.join(runDir, f)), `${f} written`);
    }
    const json = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    assert.deepEqual(json.attacks.map((a: { attribute: string }) => a.attribute), ['gender', 'emotion']);
    assert.deepEqual(json.target.classes, ['f1', 'f2', 'm1', 'm2']);
    for (const a of r.attacks) {
      for (const s of [a.clean, a.ignorant, a.informed, a.reconstruction]) {
        assert.ok(s.accuracy >= 0 && s.accuracy <= 1 && s.accuracyCI.lo <= s.accuracy && s.accuracy <= s.accuracyCI.hi);
        assert.equal(s.chanceUniform, 0.5);
      }
    }
    // T, then per attribute: ignorant ≈ chance, informed < clean, and opt-in vs ADR and vs McAdams
    assert.equal(r.verdicts.length, 1 + 2 * 4);
    assert.deepEqual(r.baselines.mcadams!.attacks.map((a) => a.attribute), ['gender', 'emotion']);
    assert.deepEqual(r.baselines.adr!.attacks.map((a) => a.attribute), ['gender', 'emotion']);
    assert.deepEqual(r.verification.map((v) => v.system), ['obfuscator', 'mcadams']);
    // the edge stage: ONNX float32 and int8 obfuscators judged by T and the informed attackers
    assert.ok(existsSync(path.join(runDir, 'obfuscator.onnx')) && existsSync(path.join(runDir, 'obfuscator.int8-static.onnx')));
    assert.deepEqual(Object.keys(r.edge!.attacks), ['gender', 'emotion']);
    for (const c of [r.edge!.target, ...Object.values(r.edge!.attacks)]) assert.ok(c.fp32 >= 0 && c.fp32 <= 1 && c.int8 >= 0 && c.int8 <= 1 && c.meanAbsDiff >= 0);
    for (const v of r.verification) for (const k of ['original', 'ignorant', 'lazyInformed', 'informed'] as const) {
      const e = v[k]['all']!.eer;
      assert.ok(e >= 0 && e <= 1, `${v.system} ${k} EER ${e}`);
    }
    assert.equal(json.config.obfuscatorTrain.identityWarmupSteps, 2, 'the resolved config is stored with the report');
    const html = readFileSync(path.join(runDir, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.match(html, /data:audio\/wav;base64,/);
    assert.match(html, /data:image\/png;base64,/);
    assert.match(html, /ONNX float32 and int8/);

    // resume: every stage is finished, so nothing retrains and the numbers are the same
    const mtime = statSync(path.join(runDir, 'target.safetensors')).mtimeMs;
    const logs2: string[] = [];
    const r2 = await runExperiment({ config, runDir, log: (l) => logs2.push(l) });
    assert.equal(statSync(path.join(runDir, 'target.safetensors')).mtimeMs, mtime, 'T was not retrained');
    assert.ok(logs2.some((l) => /finished earlier/.test(l)));
    assert.equal(r2.target.clean.accuracy, r.target.clean.accuracy);
    assert.equal(r2.attacks[0]!.informed.accuracy, r.attacks[0]!.informed.accuracy);
    assert.equal(memory().numTensors, before);
  } finally {
    keepOutput(path.join(dir, 'run'), 'fig4');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fig3b end to end: target gender, the attacked attribute is the speaker', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-e2e3b-'));
  try {
    const manifest = syntheticCorpus(path.join(dir, 'corpus'));
    const tiny = { epochs: 1, batchSize: 4, cropFrames: 24, lr: 3e-3 };
    const config = resolveExperimentConfig('cpu', {
      experiment: 'fig3b', reportExamples: 0,
      dataset: { layout: 'csv', manifest, root: '', splitSeed: 1, skipBad: false },
      model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
      targetTrain: tiny, attackerTrain: tiny,
      obfuscator: { channels: 4, residualBlocks: 1 }, deobfuscator: { channels: 4, residualBlocks: 1 },
      obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24 },
      baselines: { adr: false, mcadams: false, verification: false }, edge: { int8: 'none' },
    });
    const before = memory().numTensors;
    const r = await runExperiment({ config, runDir: path.join(dir, 'run'), log: () => undefined });
    assert.equal(memory().numTensors, before);
    assert.deepEqual(r.target.classes, ['female', 'male']);
    assert.deepEqual(r.attacks.map((a) => [a.attribute, a.classes.length]), [['speaker', 4]]);
    assert.equal(r.attacks[0]!.clean.chanceUniform, 0.25);
    assert.equal(r.edge, undefined);
    assert.deepEqual(r.baselines, {});
    assert.equal(r.verdicts.length, 3);
  } finally {
    keepOutput(path.join(dir, 'run'), 'fig3b');
    rmSync(dir, { recursive: true, force: true });
  }
});
