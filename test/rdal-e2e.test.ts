// A tiny end-to-end run of every RDAL method (seconds): a synthetic soundscape folder on disk →
// loadSoundscapes → trainRdal → fresh attackers → report.json / report.html; checkpoint resume; no leaks.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { encodeWav } from '../src/audio/io.js';
import { loadSoundscapes } from '../src/data/soundscape-set.js';
import { runRdalExperiment } from '../src/eval/rdal/run.js';
import type { RdalReport } from '../src/eval/rdal/schema.js';
import { resolveRdalConfig, trainRdal } from '../src/methods/rdal/index.js';
import { memory } from '../src/tensor/index.js';
import { Rng } from '../src/util/rng.js';
import { keepOutput } from './keep-output.js';

const TINY = {
  model: { channels: [4, 4, 4, 8], latent: 8 },
  train: {
    maxEpochs: 4,
    batchPairs: 4,
    alphaZeroEpochs: 1,
    alphaGamma: 100,
    period: 2,
    periodMask: 2,
    patienceEpochs: 2,
    patiencePeriods: 1,
  },
  attacker: { maxEpochs: 8, patience: 2, batchSize: 8 },
  maskTrain: { maxEpochs: 2, patience: 1 },
  mask: { channels: [2, 4] },
};

/** 2 classes × 4 clips per split (half with "speech": a 4 Hz-modulated 600 Hz tone), 1 s at 44.1 kHz. */
function fakeSoundscapes(root: string): void {
  const rows = [
    'path,split,event,event_index,speech,gender,speaker,snr_db,source,source_start_s,speech_source,speech_start_s,event_path',
  ];
  const rng = new Rng(5);
  for (const split of ['train', 'val', 'eval']) {
    for (const [ci, ev] of ['hum', 'hiss'].entries()) {
      for (let k = 0; k < 4; k++) {
        const event = Float32Array.from(
          { length: 44100 },
          (_, i) =>
            (ci === 0 ? 0.3 * Math.sin((2 * Math.PI * 120 * i) / 44100) : 0) +
            (ci === 1 ? 0.2 : 0.02) * rng.uniform(-1, 1),
        );
        const speech = k % 2 === 1;
        const gender = k === 1 ? 'female' : 'male';
        const stem = `e0${ci}_${split}_${k}`;
        const rel = speech
          ? `${split}/${ev}/speech/${stem}_${gender}_S${k}.wav`
          : `${split}/${ev}/no_speech/${stem}.wav`;
        const x = speech
          ? event.map(
              (v, i) =>
                v + 0.3 * Math.sin((2 * Math.PI * 4 * i) / 44100) ** 2 * Math.sin((2 * Math.PI * 600 * i) / 44100),
            )
          : event;
        mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
        writeFileSync(path.join(root, rel), encodeWav(x, 44100));
        let eventRel = '';
        if (speech) {
          eventRel = `events/${split}/${ev}/${stem}.wav`;
          mkdirSync(path.join(root, path.dirname(eventRel)), { recursive: true });
          writeFileSync(path.join(root, eventRel), encodeWav(event, 44100));
        }
        rows.push(
          [
            rel,
            split,
            ev,
            ci,
            speech ? 'speech' : 'no_speech',
            speech ? gender : '',
            speech ? `S${k}` : '',
            speech ? '0' : '',
            'synthetic',
            '0',
            '',
            '',
            eventRel,
          ].join(','),
        );
      }
    }
  }
  writeFileSync(path.join(root, 'labels.csv'), rows.join('\n') + '\n');
}

test('every method end to end: report.json, report.html, no leaked tensors', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'earmark-rdal-'));
  try {
    fakeSoundscapes(path.join(root, 'data'));
    const before = memory().numTensors;
    const out = path.join(root, 'run');
    const report = await runRdalExperiment({
      data: path.join(root, 'data'),
      methods: ['baseline', 'naive', 'rdal', 'rdal-m'],
      runs: 1,
      config: resolveRdalConfig(TINY),
      out,
      quiet: true,
      log: () => undefined,
    });
    assert.equal(memory().numTensors, before);
    assert.deepEqual(
      report.summary.map((s) => s.method),
      ['baseline', 'naive', 'rdal', 'rdal-m'],
    );
    assert.equal(report.config.model.numClasses, 2); // taken from the data
    for (const r of report.runs) {
      assert.ok(r.eventAcc >= 0 && r.eventAcc <= 1);
      assert.ok(r.speechAuc >= 0 && r.speechAuc <= 1);
      assert.equal(r.speechProb.length, 8);
      assert.equal(r.advAcc === null, r.method === 'baseline');
    }
    assert.equal(report.checks.length, 5); // the four on the means and the paired test (n/a with one run)
    assert.equal(report.checks.find((c) => /paired t test/.test(c.claim))!.holds, null);
    assert.equal(report.paired.length, 6 * 3); // every pair of the 4 methods × 3 metrics
    const json = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as RdalReport;
    assert.deepEqual(json.config, report.config); // the resolved config is stored
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg[^>]*>.*<polyline/s); // the ROC plot
    assert.match(html, /RDAL\+M/);
    assert.ok(existsSync(path.join(out, 'rdal-m-run0', 'mask.safetensors')));
    assert.ok(existsSync(path.join(out, 'rdal-run0', 'checkpoint.safetensors')));
  } finally {
    keepOutput(path.join(root, 'run'), 'rdal');
    rmSync(root, { recursive: true, force: true });
  }
});

test('trainRdal resumes from its checkpoint and reproduces the uninterrupted run', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'earmark-rdal-'));
  try {
    fakeSoundscapes(path.join(root, 'data'));
    const data = await loadSoundscapes(path.join(root, 'data'));
    const before = memory().numTensors;
    const config = resolveRdalConfig({ ...TINY, train: { ...TINY.train, patiencePeriods: 5 } });
    const straight = trainRdal({ method: 'rdal', config, train: data.train, val: data.val, quiet: true });
    const dir = path.join(root, 'ckpt');
    assert.throws(
      () =>
        trainRdal({
          method: 'rdal',
          config,
          train: data.train,
          val: data.val,
          dir,
          quiet: true,
          onEpoch: (r) => {
            if (r.epoch === 2) throw new Error('interrupted');
          },
        }),
      /interrupted/,
    );
    const resumed = trainRdal({
      method: 'rdal',
      config,
      train: data.train,
      val: data.val,
      dir,
      resume: true,
      quiet: true,
    });
    assert.equal(resumed.epochsRun, straight.epochsRun);
    assert.deepEqual(
      resumed.history.map((h) => h.epoch),
      straight.history.map((h) => h.epoch),
    );
    const a = straight.encoder.stateDict();
    for (const [k, t] of resumed.encoder.stateDict()) {
      assert.deepEqual(Array.from(t.toFloat32Array()), Array.from(a.get(k)!.toFloat32Array()), k);
    }
    for (const r of [straight, resumed]) for (const m of [r.encoder, r.head, r.adversary]) m.dispose();
    assert.equal(memory().numTensors, before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
