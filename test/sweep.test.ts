// The sweep (issue 14): a tiny two-point sweep (window-aware training on one window, two λ_p) with one
// McAdams baseline writes a report with both points and the frontier, picks a point for a utility budget
// on validation only (choice.json, ONNX metadata), and resumed, trains nothing again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeModel } from '../src/edge/onnx.js';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { chooseByBudget, paretoFront } from '../src/eval/sweep/frontier.js';
import {
  expandGrid,
  latencyMs,
  parseGrid,
  parseNormList,
  parseWindowList,
  pointConfig,
  pointFingerprint,
  pointWindow,
} from '../src/eval/sweep/grid.js';
import { validationOf } from '../src/eval/sweep/points.js';
import { runSweep } from '../src/eval/sweep/run.js';
import { resultsBlock } from '../src/eval/results-readme.js';
import { deployedWindow, obfuscatorObjective } from '../src/methods/obfuscator.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { DeepSpeech2, resolveDeepSpeech2Config } from '../src/models/deepspeech2.js';
import { manualSeed, memory, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { keepOutput } from './keep-output.js';
import { tinyCorpus } from './tiny-corpus.js';
import { tinySweepConfig } from './tiny-sweep.js';

test('grid: flags and JSON are validated with errors that name the key; points, latency and the Pareto front', () => {
  const g = parseGrid({ lambdaP: [1, 3], window: [[32, 4], { w: 8, m: 2 }] }, 'grid.json');
  assert.deepEqual(
    expandGrid(g).map((p) => p.id),
    ['lp1-w32m4', 'lp3-w32m4', 'lp1-w8m2', 'lp3-w8m2'],
  );
  assert.throws(() => parseGrid({ lambda: [1] }, 'grid.json'), /grid\.json: unknown key 'lambda'/);
  assert.throws(() => parseGrid({ window: [[30, 4]] }, 'g.json'), /'window' must be a list of windows/);
  assert.throws(() => parseGrid({ lambdaP: [1, 1] }, 'g.json'), /'lambdaP' lists a value twice/);
  assert.throws(() => parseWindowList('32-4'), /--window must be W:M pairs/);
  // the generator's norm is an axis: its points sit on one frontier; 'instance' is the paper's unset default
  const gn = parseGrid({ lambdaP: [1], window: [[8, 2]], norm: ['instance', 'time-local'] }, 'grid.json');
  const pn = expandGrid(gn);
  assert.deepEqual(
    pn.map((p) => p.id),
    ['lp1-w8m2-instance', 'lp1-w8m2-time-local'],
  );
  const base = resolveExperimentConfig('cpu', {});
  assert.equal(pointConfig(base, pn[1]!).obfuscator.norm, 'time-local');
  assert.equal(
    pointFingerprint(pointConfig(base, pn[0]!)),
    pointFingerprint(pointConfig(base, { id: 'lp1-w8m2', lambdaP: 1, window: { w: 8, m: 2 } })),
    "an 'instance' point is the point made without the axis",
  );
  const tl = resolveExperimentConfig('cpu', { obfuscator: { norm: 'time-local' } });
  assert.equal(pointConfig(tl, pn[0]!).obfuscator.norm, undefined, "'instance' overrides a time-local base config");
  assert.deepEqual(parseNormList('time-local'), ['time-local']);
  assert.throws(
    () => parseGrid({ norm: ['batch'] }, 'g.json'),
    /g\.json: 'norm' must be a list of 'instance', 'time-local'/,
  );
  assert.throws(() => parseNormList('instance,layer'), /--norm: 'norm' must be a list/);
  assert.equal(latencyMs({ w: 8, m: 2 }), 140);
  assert.equal(latencyMs({ w: 96, m: 16 }), 1160); // the deployed default: windows of 128 frames, M = 16
  // a point trained without context is deployed (and its latency read) with the edge default
  assert.deepEqual(pointWindow(resolveExperimentConfig('cpu', {})), { w: 96, m: 16 });
  assert.deepEqual(
    pointWindow(resolveExperimentConfig('cpu', { obfuscatorTrain: { cropFrames: 8, contextFrames: 2 } })),
    { w: 8, m: 2 },
  );
  assert.deepEqual(
    paretoFront([
      { id: 'a', x: 0.9, y: 0.8 },
      { id: 'b', x: 0.8, y: 0.5 },
      { id: 'c', x: 0.7, y: 0.6 },
    ]),
    ['b', 'a'],
  );
});

test('window-aware training: with context M the obfuscator objective reads only the centre W of a W + 2M crop', () => {
  const before = memory().numTensors;
  manualSeed(3);
  const target = new DeepSpeech2(
    resolveDeepSpeech2Config({ numClasses: 3, convChannels: 2, rnnLayers: 1, hiddenSize: 8 }),
  ).freeze();
  const deobf = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 })).requiresGrad_(
    false,
  );
  // a pass-through "obfuscator" plus a fixed offset, so X̃'s centre is X's centre and only the context differs between inputs
  const obf = { forward: (x: Tensor) => x.add(0.5) } as unknown as CycleGanVc2Generator;
  const c = { lambdaT: 1, lambdaP: 1, latentStage: 'conv2dto1d' as const, cropFrames: 16, contextFrames: 4 };
  const [a, b, whole] = noGrad(() =>
    tidy(() => {
      const x = randn([2, 161, 24]);
      const y = x.clone();
      y.narrow(2, 0, 4).mul_(-3); // only the left context changes
      const loss = (t: Tensor, cfg: typeof c): number => {
        const o = obfuscatorObjective(target, obf, deobf, t, cfg);
        return o.ls.item();
      };
      return [
        loss(x, c),
        loss(y, c),
        loss(x, { ...c, cropFrames: 24, contextFrames: 0 }) - loss(y, { ...c, cropFrames: 24, contextFrames: 0 }),
      ];
    }),
  );
  assert.ok(Math.abs(a! - b!) < 1e-6, `the loss reads the context: ${a} vs ${b}`);
  assert.ok(Math.abs(whole!) > 1e-4, 'without context, the same change moves the loss');
  assert.deepEqual(deployedWindow(c), { windowFrames: 24, lookaheadFrames: 4 });
  assert.deepEqual(deployedWindow({ cropFrames: 96, contextFrames: 0 }), { windowFrames: 128, lookaheadFrames: 16 });
  for (const m of [target, deobf]) m.dispose();
  assert.equal(memory().numTensors, before);
});

test('a tiny sweep reports both points and the frontier, chooses on validation only, and resumes without training', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-sweep-'));
  const outDir = path.join(dir, 'sweep');
  try {
    const manifest = tinyCorpus(path.join(dir, 'corpus'), 4);
    const config = tinySweepConfig(manifest, {
      formats: ['frames'],
      networks: [{ name: 'same', channels: 0, residualBlocks: 0 }],
      train: { epochs: 1, batchSize: 4, cropFrames: 24, lr: 1e-3, maxNorm: 10 },
    });
    const grid = parseGrid({ lambdaP: [0.3, 3], window: [[16, 4]] }, 'test');
    const logs: string[] = [];
    const r = await runSweep({
      config,
      grid,
      outDir,
      jobs: 2,
      mcadamsAlphas: [0.5],
      adr: false,
      maxTargetDrop: 50,
      log: (l) => logs.push(l),
    });
    assert.deepEqual(
      r.points.map((p) => [p.id, p.status]),
      [
        ['lp0p3-w16m4', 'done'],
        ['lp3-w16m4', 'done'],
      ],
      logs.slice(-5).join('\n'),
    );
    assert.deepEqual(
      r.points.map((p) => p.settings.window),
      [
        { w: 16, m: 4 },
        { w: 16, m: 4 },
      ],
    );
    const cfg = JSON.parse(readFileSync(path.join(outDir, 'points', 'lp3-w16m4', 'config.json'), 'utf8'));
    assert.equal(
      cfg.obfuscatorTrain.contextFrames,
      4,
      'the point trains on crops of W + 2M with the loss on the centre W',
    );
    assert.equal(cfg.obfuscatorTrain.lambdaP, 3);
    // T and the clean classifiers are trained once, in shared/ (no obfuscator there); every folder links them
    const shared = path.join(outDir, 'shared');
    const sharedFiles = readdirSync(shared);
    assert.ok(sharedFiles.includes('target.safetensors'), sharedFiles.join(', '));
    assert.ok(!sharedFiles.includes('obfuscator.safetensors'), 'shared/ trains no obfuscator');
    // ... but warms it up once: every point loads that warm-up (its own would have replaced the link)
    for (const d of ['points/lp0p3-w16m4', 'points/lp3-w16m4']) {
      const n = 'obfuscator-warmup.safetensors';
      assert.equal(statSync(path.join(outDir, d, n)).ino, statSync(path.join(shared, n)).ino, `${d}/${n} is shared/'s`);
    }
    const clean = sharedFiles.filter((n) => /^clean-.*\.safetensors$/.test(n));
    assert.ok(clean.length > 0, sharedFiles.join(', '));
    for (const d of ['points/lp0p3-w16m4', 'points/lp3-w16m4', 'baselines/mcadams-0.5'])
      for (const n of ['target.safetensors', ...clean])
        assert.equal(
          statSync(path.join(outDir, d, n)).ino,
          statSync(path.join(shared, n)).ino,
          `${d}/${n} is shared/'s`,
        );
    // the baseline folder runs the baselines' stages only: no obfuscator, no obfuscator attackers
    const base = path.join(outDir, 'baselines', 'mcadams-0.5');
    assert.ok(
      !readdirSync(base).some((n) => /^(obfuscator\.|informed-|inversion-)/.test(n)),
      readdirSync(base).join(', '),
    );
    const baseReport = JSON.parse(readFileSync(path.join(base, 'report.json'), 'utf8'));
    assert.deepEqual(
      baseReport.stages.map((x: { name: string }) => x.name),
      ['data', 'target', 'clean-attackers', 'mcadams'],
    );
    const pointMeta = decodeModel(readFileSync(path.join(outDir, 'points', 'lp3-w16m4', 'obfuscator.onnx'))).metadata;
    const features = JSON.parse(pointMeta['earmark.features']!);
    assert.deepEqual(
      [features.windowFrames, features.lookaheadFrames],
      [24, 4],
      'the point deploys the window it was trained for',
    );
    const f = r.frontiers.find((x) => x.attribute === 'gender')!;
    assert.ok(f, 'a frontier for the attacked attribute');
    assert.deepEqual(
      f.points.map((p) => p.id),
      ['lp0p3-w16m4', 'lp3-w16m4', 'McAdams α=0.5'],
    );
    assert.ok(f.pareto.length >= 1 && f.pareto.every((id) => id.startsWith('lp')));
    for (const p of f.points) {
      assert.ok(
        p.attackers.some((a) => a.attacker === 'informed'),
        `${p.id} has an informed attacker`,
      );
      assert.ok(p.attackers.every((a) => a.protocol === 'speaker-disjoint'));
      if (p.kind === 'point')
        assert.ok(
          p.attackers.some((a) => a.attacker === 'inversion:same'),
          `${p.id} has the fresh inversion attacker`,
        );
      assert.ok(p.target.accuracyCI.lo <= p.target.accuracy && p.target.accuracy <= p.target.accuracyCI.hi);
    }
    assert.deepEqual(
      f.bins.map((b) => b.points),
      [5, 10, 20],
    );
    assert.equal(r.latency.length, 1);
    const html = readFileSync(path.join(outDir, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.match(html, /lp0p3-w16m4[\s\S]*lp3-w16m4/);
    assert.match(html, /polyline|Pareto front: lp/);
    assert.match(readFileSync(path.join(outDir, 'frontier.md'), 'utf8'), /\| lp3-w16m4 \| 3 \| 4 \| 1 \| 16:4 \|/);
    // the README's results block of a sweep is its frontier table
    assert.match(
      resultsBlock('sweep-x', r),
      /^\*\*sweep-x\*\* \(`results\/sweep-x\/`, 2 points[\s\S]*\| lp3-w16m4 \| 3 \|/,
    );
    // the budget: choice.json, and the exported obfuscator carries the choice
    const choice = JSON.parse(readFileSync(path.join(outDir, 'choice.json'), 'utf8'));
    assert.equal(choice.chosen, r.choice!.chosen);
    const meta = decodeModel(readFileSync(path.join(outDir, 'obfuscator.onnx'))).metadata;
    assert.equal(JSON.parse(meta['earmark.choice']!).chosen, choice.chosen);
    // the choice never reads test data: scramble every test number and label of the reports, the choice stays
    const reports = r.points.map((p) => JSON.parse(readFileSync(path.join(outDir, p.dir, 'report.json'), 'utf8')));
    const scrambled = reports.map((rep) =>
      JSON.parse(
        JSON.stringify(rep, (k, v) =>
          ['accuracy', 'uar', 'n'].includes(k)
            ? 0.123
            : k === 'classes'
              ? ['x']
              : k === 'test' && Array.isArray(v)
                ? []
                : v,
        ),
      ),
    );
    const pick = (reps: unknown[]): string =>
      chooseByBudget(
        reps.map((x, i) => ({ id: r.points[i]!.id, val: validationOf(x as Record<string, never>) })),
        50,
      ).chosen;
    assert.equal(pick(scrambled), pick(reports));
    assert.deepEqual(
      scrambled.map((x) => validationOf(x)),
      reports.map((x) => validationOf(x)),
      'every number the choice reads is the same',
    );
    assert.equal(pick(reports), choice.chosen);

    // resume: every point and the baseline finished, so nothing trains again
    const ckpt = path.join(outDir, 'points', 'lp3-w16m4', 'obfuscator.safetensors');
    const mtime = statSync(ckpt).mtimeMs;
    const logs2: string[] = [];
    const r2 = await runSweep({
      config,
      grid,
      outDir,
      jobs: 1,
      mcadamsAlphas: [0.5],
      adr: false,
      maxTargetDrop: 50,
      log: (l) => logs2.push(l),
    });
    assert.equal(statSync(ckpt).mtimeMs, mtime, 'the obfuscator was not retrained');
    assert.deepEqual(
      r2.points.map((p) => p.status),
      ['reused', 'reused'],
    );
    assert.equal(logs2.filter((l) => /finished earlier/.test(l)).length, 3, logs2.join('\n'));
    assert.ok(!logs2.some((l) => /epoch|starting/.test(l)), 'no training log line');
    assert.deepEqual(r2.frontiers, r.frontiers);
    assert.ok(existsSync(path.join(outDir, 'report.json')));
  } finally {
    keepOutput(outDir, 'sweep');
    rmSync(dir, { recursive: true, force: true });
  }
});
