// Tiny end-to-end runs of the opt-in method on a synthetic corpus (CSV manifest layout): train T and the
// obfuscator, export it, make what ships (frames and phase-free PCM re-analysed), train and run every
// attacker per protocol and format, the fresh inversion networks and the baselines, and write report.json
// and report.html. Read back from report.json: attacker training and test ids are disjoint, speaker-
// disjoint under that protocol, and no source take crosses the splits; the speaker-disjoint scores count
// their test speakers and their intervals resample them. One clip starts with 0.5 s of exact zeros and
// every stage runs, McAdams included. A second run resumes instead of retraining; a failing stage is
// marked failed, the others still run and their results stay readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { attackerSet } from '../src/eval/optin/attacker-set.js';
import { createRunContext, ExperimentStageError, runExperiment } from '../src/eval/optin/run.js';
import { dataStage, targetStage } from '../src/eval/optin/stages.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import type { ClassScores } from '../src/eval/metrics.js';
import type { ExperimentReport, FormatAttack } from '../src/eval/optin/schema.js';
import { memory } from '../src/tensor/index.js';
import { keepOutput } from './keep-output.js';
import { tinyCorpusWithClips, type TinyClip } from './tiny-corpus.js';

/** The tiny corpus (test/tiny-corpus.ts); f1's first clip starts with 0.5 s of exact zeros and 0.25 s of a 1-LSB floor. */
function syntheticCorpus(dir: string): { manifest: string; rows: TinyClip[] } {
  const c = tinyCorpusWithClips(dir, { silentLead: true });
  return { manifest: c.manifest, rows: c.clips };
}

const tiny = { epochs: 2, batchSize: 4, cropFrames: 24, lr: 3e-3 };
const TINY_MODELS = {
  model: { convChannels: 2, rnnLayers: 1, hiddenSize: 8 },
  targetTrain: tiny,
  attackerTrain: tiny,
  obfuscator: { channels: 4, residualBlocks: 1 },
  deobfuscator: { channels: 4, residualBlocks: 1 },
  inversion: {
    formats: ['frames', 'pcm'],
    networks: [
      { name: 'same', channels: 0, residualBlocks: 0 },
      { name: 'wide', channels: 8, residualBlocks: 1 },
    ],
    train: { epochs: 1, batchSize: 4, cropFrames: 24, lr: 1e-3, maxNorm: 10 },
  },
};

/** Every attacker's scores on one format. */
const attackerScores = (fa: FormatAttack): ClassScores[] => [
  fa.ignorant,
  ...(fa.informed ? [fa.informed] : []),
  ...(fa.taskOutput ? [fa.taskOutput] : []),
  fa.inTraining,
  ...Object.values(fa.inversion),
];

/** Every protocol's attacker train/val ids are disjoint from its test ids, by utterance and (speaker-disjoint) by speaker. */
function assertProtocolsDisjoint(json: ExperimentReport, speakerOf: Map<string, string>): void {
  const splits = json.protocols!.splits;
  assert.deepEqual(Object.keys(splits).sort(), ['closed-set', 'speaker-disjoint']);
  for (const s of Object.values(splits)) {
    const train = new Set([...s!.train, ...s!.val]);
    assert.ok(s!.train.length > 0 && s!.test.length > 0, `${s!.protocol}: empty part`);
    assert.deepEqual(
      s!.test.filter((id) => train.has(id)),
      [],
      `${s!.protocol}: a test utterance is attacker training data`,
    );
    if (s!.protocol !== 'speaker-disjoint') continue;
    const trainSpk = new Set([...train].map((id) => speakerOf.get(id)));
    assert.deepEqual(
      s!.test.map((id) => speakerOf.get(id)).filter((x) => trainSpk.has(x)),
      [],
      'a test speaker is in attacker training data',
    );
    assert.deepEqual([...new Set(s!.test.map((id) => speakerOf.get(id)))].sort(), s!.heldOutSpeakers);
  }
}

test('fig4 end to end on a tiny corpus: every format, protocol and attacker, disjoint ids, a clip of leading zeros, and a resume', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-e2e-'));
  try {
    const corpus = syntheticCorpus(path.join(dir, 'corpus'));
    const config = resolveExperimentConfig('cpu', {
      experiment: 'fig4',
      reportExamples: 1,
      ...TINY_MODELS,
      dataset: { layout: 'csv', manifest: corpus.manifest, root: '', splitSeed: 0, skipBad: false },
      obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24, identityWarmupSteps: 2 },
      adr: { adrTrain: { preEpochs: 2, epochs: 3, batchSize: 8 }, classifier: { epochs: 3, hidden: 16 } },
      verification: {
        xvector: { channels: 8, poolChannels: 16, embedDim: 16 },
        train: { epochs: 2, batchSize: 4, cropFrames: 24 },
      },
    });
    const runDir = path.join(dir, 'run');
    const before = memory().numTensors;
    const r = await runExperiment({ config, runDir, log: () => undefined });
    assert.equal(memory().numTensors, before, 'no tensors outlive the experiment');
    const json = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ExperimentReport;
    assert.equal(json.version, 2);
    assert.deepEqual(
      json.stages.map((s) => [s.name, s.status]),
      [
        'data',
        'target',
        'obfuscator',
        'deploy',
        'outputs',
        'attacks',
        'inversion',
        'edge',
        'mcadams',
        'xvector-baselines',
      ].map((n) => [n, 'done']),
    );
    for (const f of [
      'report.html',
      'splits.json',
      'target.safetensors',
      'obfuscator.safetensors',
      'obfuscator.onnx',
      'clean-gender-closed-set.safetensors',
      'clean-gender-speaker-disjoint.safetensors',
      'informed-gender-pcm-speaker-disjoint.safetensors',
      'informed-emotion-frames-closed-set.safetensors',
      'inversion-wide-pcm.safetensors',
      'mcadams-informed-gender-speaker-disjoint.safetensors',
      'xvector-clean.safetensors',
    ]) {
      assert.ok(existsSync(path.join(runDir, f)), `${f} written`);
    }
    // ids read from report.json: attackers never train on a test utterance; speaker-disjoint: never on a test speaker
    const speakerOf = new Map(corpus.rows.map((x) => [x.id, x.speaker]));
    assertProtocolsDisjoint(json, speakerOf);
    // no (speaker, sentence) take crosses the main split (the corpus renders both emotions from one "take")
    const splits = JSON.parse(readFileSync(path.join(runDir, 'splits.json'), 'utf8')) as {
      config: { groupBy: string[] };
      split: Record<string, string[]>;
    };
    assert.deepEqual(splits.config.groupBy, ['speaker', 'sentence']);
    const take = new Map(corpus.rows.map((x) => [x.id, `${x.speaker}/${x.sentence}`]));
    const where = new Map<string, string>();
    for (const [part, ids] of Object.entries(splits.split))
      for (const id of ids) {
        assert.ok(
          !where.has(take.get(id)!) || where.get(take.get(id)!) === part,
          `take ${take.get(id)} is in ${where.get(take.get(id)!)} and ${part}`,
        );
        where.set(take.get(id)!, part);
      }
    // T and every attacker on both formats, each protocol; gender is a function of the speaker on the closed set
    assert.deepEqual(Object.keys(json.target!.formats), ['frames', 'pcm']);
    assert.deepEqual(
      json.attacks!.map((a) => `${a.attribute}/${a.protocol}/${a.functionOfTask}`),
      [
        'gender/speaker-disjoint/true',
        'gender/closed-set/true',
        'emotion/speaker-disjoint/false',
        'emotion/closed-set/false',
      ],
    );
    for (const a of r.attacks!) {
      for (const f of ['frames', 'pcm'] as const) {
        const fa = a.formats[f]!;
        for (const s of [
          a.clean,
          fa.ignorant,
          fa.informed!,
          fa.inTraining,
          fa.inversion['same']!,
          fa.inversion['wide']!,
        ]) {
          assert.ok(
            s.accuracy >= 0 && s.accuracy <= 1 && s.accuracyCI.lo <= s.accuracy && s.accuracy <= s.accuracyCI.hi,
          );
          assert.equal(s.chanceUniform, 0.5);
        }
      }
    }
    // speaker-disjoint rows rest on their held-out voices: the intervals resample speakers, and are no
    // narrower than the utterance bootstrap's; closed-set rows resample utterances
    const held = json.protocols!.splits['speaker-disjoint']!.heldOutSpeakers!.length;
    const width = (iv: { lo: number; hi: number }): number => iv.hi - iv.lo;
    for (const a of json.attacks!) {
      const scores = [a.clean, ...Object.values(a.formats).flatMap((fa) => attackerScores(fa!))];
      for (const s of scores) {
        if (a.protocol === 'closed-set') {
          assert.equal(s.speakers, undefined);
          continue;
        }
        assert.equal(s.speakers, held, `${a.attribute}: ${s.n} utterances of ${held} held-out speakers`);
        assert.ok(
          width(s.accuracyCI) >= width(s.utteranceCI!.accuracy) - 1e-12,
          `${a.attribute}: by speaker ${JSON.stringify(s.accuracyCI)}, by utterance ${JSON.stringify(s.utteranceCI)}`,
        );
      }
    }
    for (const m of json.baselines!.mcadams!['speaker-disjoint']!.attacks)
      assert.deepEqual([m.clean.speakers, m.ignorant.speakers, m.informed.speakers], [held, held, held]);
    assert.deepEqual(
      json.inversion!.map((n) => `${n.name}/${n.format}/${n.protocol}`),
      [
        'same/frames/speaker-disjoint',
        'wide/frames/speaker-disjoint',
        'same/pcm/speaker-disjoint',
        'wide/pcm/speaker-disjoint',
      ],
    );
    // the app's view (T's posteriors) beside every informed attacker, and on clean audio where they run
    for (const a of json.attacks!) {
      assert.ok(a.taskOutputClean !== undefined, `${a.attribute}/${a.protocol}: T's posteriors on clean audio`);
      for (const fa of Object.values(a.formats)) assert.equal(fa!.taskOutput !== undefined, fa!.informed !== undefined);
    }
    assert.equal(json.verdicts.filter((v) => /^the task-output .* is near chance$/.test(v.claim)).length, 8);
    // verdicts: every informed attacker (format × protocol) against chance; closed-set gender shown, not judged
    const informedVerdicts = json.verdicts.filter((v) => /^the informed .* is near chance$/.test(v.claim));
    assert.equal(informedVerdicts.length, 8);
    assert.ok(
      json.verdicts.filter((v) => v.attribute === 'gender' && v.protocol === 'closed-set').every((v) => !v.judged),
    );
    assert.ok(json.notes.some((n) => /gender is a function of the granted speaker/.test(n)));
    // ADR hides the protected gender; McAdams per protocol (the clip of leading zeros included); EERs
    assert.equal(json.baselines!.adr!.hidden, 'gender');
    assert.deepEqual(Object.keys(json.baselines!.mcadams!), ['speaker-disjoint', 'closed-set']);
    assert.deepEqual(
      json.verification!.map((v) => v.system),
      ['obfuscator', 'mcadams'],
    );
    assert.deepEqual(Object.keys(json.edge!.attacks), ['gender', 'emotion']);
    assert.ok(json.deployed!.outputStd > 0 && Number.isFinite(json.deployed!.outputMean));
    const html = readFileSync(path.join(runDir, 'report.html'), 'utf8');
    for (const re of [
      /<svg/,
      /data:audio\/wav;base64,/,
      /data:image\/png;base64,/,
      /phase-free/,
      /in-training \(optimistic\)/,
      /speaker-disjoint protocol \([^)]*n = \d+ utterances of 2 speakers; intervals resample speakers\)/,
    ])
      assert.match(html, re);

    // resume: every stage is finished, so nothing retrains and the numbers are the same
    const mtime = statSync(path.join(runDir, 'target.safetensors')).mtimeMs;
    const r2 = await runExperiment({ config, runDir, log: () => undefined });
    assert.equal(statSync(path.join(runDir, 'target.safetensors')).mtimeMs, mtime, 'T was not retrained');
    assert.deepEqual(r2.attacks, r.attacks);
    assert.deepEqual(r2.target!.formats, r.target!.formats);
    assert.equal(memory().numTensors, before);
  } finally {
    keepOutput(path.join(dir, 'run'), 'fig4');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fig3b end to end: the speaker is attacked on the closed set only, ADR is not told to hide the granted gender, and a failing stage is marked while the others run', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-e2e3b-'));
  try {
    const corpus = syntheticCorpus(path.join(dir, 'corpus'));
    const config = resolveExperimentConfig('cpu', {
      experiment: 'fig3b',
      reportExamples: 0,
      ...TINY_MODELS,
      dataset: { layout: 'csv', manifest: corpus.manifest, root: '', splitSeed: 1, skipBad: false },
      targetTrain: { ...tiny, epochs: 1 },
      attackerTrain: { ...tiny, epochs: 1 },
      obfuscatorTrain: { epochs: 1, batchSize: 4, cropFrames: 24 },
      attack: { formats: ['frames'], informed: { 'speaker-disjoint': ['frames'], 'closed-set': ['frames'] } },
      // an odd width is refused by the generator when the stage builds it: the inversion stage fails
      inversion: {
        formats: ['frames'],
        networks: [{ name: 'odd', channels: 3, residualBlocks: 1 }],
        train: TINY_MODELS.inversion.train,
      },
      baselines: { adr: true, mcadams: false, verification: false },
      edge: { int8: 'none' },
      adr: { adrTrain: { preEpochs: 1, epochs: 1, batchSize: 8 }, classifier: { epochs: 1, hidden: 8 } },
      verification: {
        xvector: { channels: 8, poolChannels: 16, embedDim: 16 },
        train: { epochs: 1, batchSize: 4, cropFrames: 24 },
      },
    });
    assert.throws(
      () => resolveExperimentConfig('cpu', { experiment: 'fig3b', adr: { hide: 'gender' } }),
      /never the granted task 'gender'/,
    );
    const before = memory().numTensors;
    const runDir = path.join(dir, 'run');
    await assert.rejects(
      runExperiment({ config, runDir, log: () => undefined }),
      (e: unknown) => e instanceof ExperimentStageError && /stage inversion failed: .*channels/.test(e.message),
    );
    assert.equal(memory().numTensors, before);
    const r = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ExperimentReport;
    const inv = r.stages.find((s) => s.name === 'inversion')!;
    assert.equal(inv.status, 'failed');
    assert.match(inv.error!, /channels/);
    assert.equal(
      r.stages.find((s) => s.name === 'xvector-baselines')!.status,
      'done',
      'a later independent stage still ran',
    );
    assert.deepEqual(r.target!.classes, ['female', 'male']);
    assert.deepEqual(
      r.attacks!.map((a) => [a.attribute, a.protocol, a.classes.length]),
      [['speaker', 'closed-set', 4]],
    );
    assert.equal(
      r.protocols!.unavailable['speaker-disjoint'],
      'the only protected attribute is the speaker, which needs the closed set',
    );
    assert.equal(
      r.baselines!.adr,
      undefined,
      'ADR cannot hide the 4-valued speaker and is not told to hide the granted gender',
    );
    assert.ok(r.baselines!.notes.some((n) => /ADR is not run: .*not binary.*granted gender/.test(n)));
    assert.match(readFileSync(path.join(runDir, 'report.html'), 'utf8'), /failed/);

    // the attacker set of another obfuscator (what a sweep calls): its own files, the run's clean attackers reused
    const cleanFile = path.join(runDir, 'clean-speaker-closed-set.safetensors');
    const mtime = statSync(cleanFile).mtimeMs;
    const run = createRunContext({ config, runDir, log: () => undefined });
    const d = await dataStage(run);
    const target = await targetStage(run, d);
    const other = {
      obfuscator: new CycleGanVc2Generator(resolveCycleGanVc2Config(config.obfuscator)),
      deobfuscator: new CycleGanVc2Generator(resolveCycleGanVc2Config(config.deobfuscator)),
    };
    const set = await attackerSet(run, d, target, other, { prefix: 'sweep/random/', inversion: false });
    for (const m of [target.model, other.obfuscator, other.deobfuscator]) m.dispose();
    assert.equal(memory().numTensors, before);
    assert.equal(statSync(cleanFile).mtimeMs, mtime, 'the clean attacker was loaded, not retrained');
    for (const f of ['obfuscator.onnx', 'informed-speaker-frames-closed-set.safetensors'])
      assert.ok(existsSync(path.join(runDir, 'sweep/random', f)), `sweep/random/${f}`);
    assert.deepEqual(
      set.attacks.map((a) => [a.attribute, a.protocol, Object.keys(a.formats)]),
      [['speaker', 'closed-set', ['frames']]],
    );
    assert.deepEqual(set.attacks[0]!.clean, r.attacks![0]!.clean, 'the same clean classifier on the same test ids');
    assert.ok(
      set.target.frames!.n === r.target!.formats.frames!.n &&
        set.verdicts.some((v) => /informed speaker attacker on frames/.test(v.claim)),
    );
    assert.deepEqual(
      JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')),
      r,
      "the run's report is unchanged",
    );
  } finally {
    keepOutput(path.join(dir, 'run'), 'fig3b');
    rmSync(dir, { recursive: true, force: true });
  }
});
