// The sweep's seed axis (issue 14 follow-up): `--seeds` and a grid's "seed" are validated with errors naming
// the flag or key; points end in -s<N>; a seed moves the obfuscator's seeds and its own attackers' but no shared
// stage's, and the base seed keeps the fingerprint of the point made without the axis; the seed groups' mean and
// min–max are those of their members; the budget chooses a group by its seed means; and a tiny two-seed sweep
// links the same shared files into both points while each trains its own obfuscator and warm-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { decodeModel } from '../src/edge/onnx.js';
import { obfuscatorSeeds, resolveExperimentConfig } from '../src/eval/optin/config.js';
import type { ClassScores } from '../src/eval/metrics.js';
import { attributeFrontier, chooseByBudget, frontierPoint } from '../src/eval/sweep/frontier.js';
import { expandGrid, parseGrid, parseSeedList, pointConfig, pointFingerprint } from '../src/eval/sweep/grid.js';
import type { PointValidation, TestScores } from '../src/eval/sweep/points.js';
import { SHARED_FILES } from '../src/eval/sweep/jobs.js';
import { runSweep } from '../src/eval/sweep/run.js';
import type { SweepPointRecord, SweepReport } from '../src/eval/sweep/schema.js';
import { chooseBySeeds, groupId, seedGroups, spread } from '../src/eval/sweep/seeds.js';
import { frontierMarkdown } from '../src/eval/sweep/table.js';
import { keepOutput } from './keep-output.js';
import { tinyCorpus } from './tiny-corpus.js';
import { tinySweepConfig } from './tiny-sweep.js';

/** `earmark …` in this process: its exit code and what it printed on stderr. */
async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await run(argv), err: err.join('\n') };
  } finally {
    console.error = error;
  }
}

test('--seeds and a grid\'s "seed": validated, errors naming the flag or key; ids end in -s<N>', async () => {
  assert.deepEqual(parseSeedList('0, 1,2'), [0, 1, 2]);
  for (const bad of ['0,1.5', '-1', 'a', ','])
    assert.throws(() => parseSeedList(bad), /--seeds must list integers >= 0 \(e\.g\. 0,1,2\)/, bad);
  assert.throws(() => parseSeedList('1,1'), /--seeds lists a seed twice/);
  assert.deepEqual(parseGrid({ seed: [2, 0] }, 'g.json').seed, [2, 0]);
  assert.deepEqual(parseGrid({}, 'g.json').seed, [], 'no axis: the base config seed');
  assert.throws(() => parseGrid({ seed: [0.5] }, 'g.json'), /g\.json: 'seed' must be a list of integers >= 0/);
  assert.throws(() => parseGrid({ seed: [1, 1] }, 'g.json'), /g\.json: 'seed' lists a value twice/);
  assert.throws(() => parseGrid({ seeds: [1] }, 'g.json'), /unknown key 'seeds'; known keys: .*, seed/);
  // the seed varies slowest: each seed's points come together, so a sweep cut short has whole frontiers
  assert.deepEqual(
    expandGrid(parseGrid({ lambdaP: [1, 3], window: [[8, 2]], seed: [0, 2] }, 'g')).map((p) => p.id),
    ['lp1-w8m2-s0', 'lp3-w8m2-s0', 'lp1-w8m2-s2', 'lp3-w8m2-s2'],
  );
  assert.deepEqual(expandGrid({ lambdaP: [], width: [], epochs: [], window: [], norm: [], seed: [0, 1] }), [
    { id: 's0', seed: 0 },
    { id: 's1', seed: 1 },
  ]);
  // a grid without the axis (or a sweep.json from before it) has the points it had
  assert.deepEqual(expandGrid(parseGrid({ lambdaP: [1], norm: ['time-local'] }, 'g')), [
    { id: 'lp1-time-local', lambdaP: 1, norm: 'time-local' },
  ]);
  assert.deepEqual(groupId('lp1-w8m2-s12'), 'lp1-w8m2');
  assert.deepEqual(groupId('s3'), 'base');
  // the flag, through the CLI's one error path (exit code 2, the flag named), before any work
  const r = await cli(['sweep', 'fig4', '--seeds', '0,1.5']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--seeds must list integers >= 0 \(e\.g\. 0,1,2\), got '0,1\.5'/);
});

test("a seed point's config: the obfuscator's and its own attackers' seeds move, no shared stage's; seed 0 is the point without the axis", () => {
  const base = resolveExperimentConfig('cpu', { seed: 5 });
  const [s0, s2] = expandGrid(parseGrid({ lambdaP: [1], seed: [0, 2] }, 'g'));
  const c2 = pointConfig(base, s2!);
  assert.equal(c2.obfuscatorTrain.seed, 2);
  assert.deepEqual(obfuscatorSeeds(c2), { obfuscator: 7, informed: base.attackerTrain.seed + 2, inversion: 7 });
  assert.deepEqual(obfuscatorSeeds(base), { obfuscator: 5, informed: base.attackerTrain.seed, inversion: 5 });
  // what shared/ trains reads only these, and they are the base config's
  for (const k of ['seed', 'dataset', 'model', 'targetTrain', 'attackerTrain', 'attack'] as const)
    assert.deepEqual(c2[k], base[k], k);
  const without = pointConfig(base, { id: 'lp1', lambdaP: 1 });
  assert.equal(pointFingerprint(pointConfig(base, s0!)), pointFingerprint(without), 'seed 0: the same fingerprint');
  assert.notEqual(pointFingerprint(c2), pointFingerprint(without));
});

const cs = (accuracy: number): ClassScores => ({
  n: 40,
  accuracy,
  accuracyCI: { lo: accuracy - 0.05, hi: accuracy + 0.05 },
  uar: accuracy,
  uarCI: { lo: accuracy - 0.05, hi: accuracy + 0.05 },
  chanceUniform: 0.5,
  chanceMajority: 0.55,
});

/** A judged point with T on PCM at `t`, gender's informed attacker at `inf` and its ignorant one at `ign`. */
function record(id: string, seed: number, drop: number, t: number, inf: number, ign: number): SweepPointRecord {
  const a = { attribute: 'gender', format: 'pcm', protocol: 'speaker-disjoint', chance: 0.55, clean: cs(0.95) };
  const test: TestScores = {
    clean: cs(0.99),
    target: { frames: cs(t + 0.01), pcm: cs(t) },
    attackers: [
      { ...a, attacker: 'informed', score: cs(inf) },
      { ...a, attacker: 'ignorant', score: cs(ign) },
    ],
  };
  const val: PointValidation = { cleanAcc: 1, targetAcc: 1 - drop, drop, informed: { gender: inf + 0.01 } };
  const settings = { lambdaP: 1, width: 8, epochs: 1, window: { w: 96, m: 16 }, latencyMs: 1160, seed };
  return { id, point: { id, seed }, status: 'done', dir: id, fingerprint: id, settings, val, test };
}

function frontiers(points: SweepPointRecord[]): ReturnType<typeof attributeFrontier>[] {
  return [
    attributeFrontier(
      'gender',
      points.filter((p) => p.test).map((p) => frontierPoint(p.id, 'point', p.test!, 'gender')!),
    ),
  ];
}

test('seed groups: the mean and min–max over the seeds of the validation drop, T and every attacker', () => {
  assert.deepEqual(spread([0.2, 0.4, 0.9]), { mean: 0.5, min: 0.2, max: 0.9 });
  const pts = [
    record('lp1-s0', 0, 0.02, 0.9, 0.7, 0.6),
    record('lp3-s0', 0, 0.1, 0.6, 0.6, 0.65),
    record('lp1-s1', 1, 0.06, 0.8, 0.8, 0.55),
    record('lp3-s1', 1, 0.2, 0.5, 0.5, 0.7),
    { ...record('lp1-s2', 2, 0.04, 0.7, 0.9, 0.5), status: 'failed' as const, val: undefined, test: undefined },
  ];
  const g = seedGroups(pts, frontiers(pts));
  assert.deepEqual(
    g.map((x) => [x.id, x.seeds, x.points]),
    [
      ['lp1', [0, 1], ['lp1-s0', 'lp1-s1']],
      ['lp3', [0, 1], ['lp3-s0', 'lp3-s1']],
    ],
    'a failed member is left out',
  );
  const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);
  const lp1 = g[0]!;
  near(lp1.valDrop.mean, 0.04, 'val drop mean');
  assert.deepEqual([lp1.valDrop.min, lp1.valDrop.max], [0.02, 0.06]);
  near(lp1.val.drop, 0.04, 'the validation numbers the budget reads');
  near(lp1.val.targetAcc, 0.96, 'val T');
  near(lp1.val.informed['gender']!, 0.76, 'val informed');
  near(lp1.target.mean, 0.85, 'T on PCM (the frontier x)');
  assert.deepEqual([lp1.target.min, lp1.target.max], [0.8, 0.9]);
  const gender = lp1.attributes['gender']!;
  near(gender.informed!.mean, 0.75, 'informed');
  near(gender.attackers['ignorant/pcm/speaker-disjoint']!.mean, 0.575, 'ignorant');
  assert.deepEqual([gender.attackers['ignorant/pcm/speaker-disjoint']!.min, gender.strongest.max], [0.55, 0.8]);
  // the strongest attacker per seed, whichever it is: ignorant in lp3-s0 (0.65), ignorant in lp3-s1 (0.7)
  assert.deepEqual(g[1]!.attributes['gender']!.strongest, { mean: 0.675, min: 0.65, max: 0.7 });
  // the Markdown: each seed's row stays, and a table of the groups says how many seeds
  const report = {
    experiment: 'fig3a',
    dataset: 'x',
    task: 'speaker',
    points: pts,
    baselines: [],
    frontiers: frontiers(pts),
  } as unknown as SweepReport;
  const md = frontierMarkdown({ ...report, seedGroups: g });
  assert.match(md, /^\| lp1-s1 \| 1 \|/m);
  assert.match(md, /^Over 2 obfuscator seeds \(0, 1; obfuscatorTrain\.seed\)/m);
  assert.match(
    md,
    /^\| lp1 \| 0, 1 \| 4\.0 \(2\.0 to 6\.0\) \| 85\.0 \(80\.0 to 90\.0\) \| 75\.0 \(70\.0 to 80\.0\) \| 75\.0 \(70\.0 to 80\.0\) \|/m,
  );
  assert.equal(md.replace(/\n\nOver 2 obfuscator seeds[^]*?\n\n(?=- )/, '\n\n'), frontierMarkdown(report));
  assert.doesNotMatch(frontierMarkdown(report), /obfuscator seeds/, 'no group table without seed groups');
  // a baseline that ran with nothing to judge (ADR on a non-binary protected attribute): its note, no empty row
  const note = 'ADR is not run: ADR hides one binary attribute, and the protected attribute speaker is not binary.';
  const adr = frontierMarkdown({ ...report, baselines: [{ id: 'ADR', dir: 'b', status: 'done', note }] });
  assert.doesNotMatch(adr, /^\| ADR \|/m, 'no row of dashes');
  assert.match(adr, new RegExp(`^- ADR: ${note.replace(/[.]/g, '\\.')}$`, 'm'));
});

test("the budget with several seeds chooses a group by its seed means, names the seeds and exports the group's first seed", () => {
  // lp3-s1 alone is the most private point within 5 points, but lp3's mean drop (11) is outside: lp1 is chosen
  const pts = [
    record('lp1-s0', 0, 0.02, 0.9, 0.7, 0.6),
    record('lp3-s0', 0, 0.2, 0.6, 0.6, 0.65),
    record('lp1-s1', 1, 0.04, 0.8, 0.8, 0.55),
    record('lp3-s1', 1, 0.02, 0.5, 0.5, 0.7),
  ];
  const byPoint = chooseByBudget(
    pts.map((p) => ({ id: p.id, val: p.val! })),
    5,
  );
  assert.equal(byPoint.chosen, 'lp3-s1');
  const c = chooseBySeeds(seedGroups(pts, frontiers(pts)), 5);
  assert.deepEqual(
    [c.chosen, c.withinBudget, c.seeds],
    ['lp1', true, { seeds: [0, 1], points: ['lp1-s0', 'lp1-s1'], exported: 'lp1-s0' }],
  );
  assert.deepEqual(
    c.candidates.map((x) => [x.id, Math.round(1000 * x.drop)]),
    [
      ['lp1', 30],
      ['lp3', 110],
    ],
  );
  assert.match(c.reason, /^1 of 2 seed groups keep T's validation drop within 5 points; lp1 is the most private/);
  assert.match(c.reason, /mean over obfuscator seeds 0, 1; lp1-s0 \(seed 0, the group's first\) is exported$/);
  const none = chooseBySeeds(seedGroups(pts, frontiers(pts)), 1);
  assert.deepEqual([none.chosen, none.withinBudget], ['lp1', false]);
  assert.match(none.reason, /^no seed group keeps T's validation drop within 1 points/);
  // without seeds, the reason reads as it always has
  assert.match(byPoint.reason, /^3 of 4 points keep T's validation drop within 5 points; lp3-s1 is the most private/);
});

test('a tiny two-seed sweep: the shared files are the same links in both points; each trains its own obfuscator', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-sweep-seeds-'));
  const outDir = path.join(dir, 'sweep');
  try {
    const manifest = tinyCorpus(path.join(dir, 'corpus'), 3);
    const config = tinySweepConfig(manifest, {
      formats: [],
      networks: [],
      train: { epochs: 1, batchSize: 4, cropFrames: 24, lr: 3e-3, maxNorm: 10 },
    });
    const logs: string[] = [];
    const r = await runSweep({
      config,
      grid: parseGrid({ lambdaP: [1], seed: [0, 1] }, 'test'),
      outDir,
      mcadamsAlphas: [],
      adr: false,
      maxTargetDrop: 100,
      log: (l) => logs.push(l),
    });
    assert.deepEqual(
      r.points.map((p) => [p.id, p.status, p.settings.seed]),
      [
        ['lp1-s0', 'done', 0],
        ['lp1-s1', 'done', 1],
      ],
      logs.slice(-5).join('\n'),
    );
    const shared = path.join(outDir, 'shared');
    const at = (d: string, n: string): string => path.join(outDir, 'points', d, n);
    // every shared file but the warm-up (which is keyed by the seed), and the feature cache's files
    const names = readdirSync(shared).filter(
      (n) =>
        SHARED_FILES.some((x) => x.test(n)) && !/^obfuscator-warmup/.test(n) && statSync(path.join(shared, n)).isFile(),
    );
    const features = readdirSync(path.join(shared, 'features')).map((n) => path.join('features', n));
    assert.ok(names.some((n) => n.startsWith('target.')) && names.some((n) => n.startsWith('clean-')), names.join());
    for (const n of [...names, ...features])
      assert.equal(statSync(at('lp1-s1', n)).ino, statSync(path.join(shared, n)).ino, `lp1-s1/${n} is shared/'s`);
    for (const n of names) assert.equal(statSync(at('lp1-s0', n)).ino, statSync(at('lp1-s1', n)).ino, n);
    // seed 0 loads shared/'s warm-up; seed 1 redid its own (which replaced the link), then trained another obfuscator
    const w = 'obfuscator-warmup.safetensors';
    assert.equal(statSync(at('lp1-s0', w)).ino, statSync(path.join(shared, w)).ino, 'seed 0 loads the shared warm-up');
    assert.notEqual(statSync(at('lp1-s1', w)).ino, statSync(path.join(shared, w)).ino, 'seed 1 warms up itself');
    assert.ok(!readFileSync(at('lp1-s1', w)).equals(readFileSync(path.join(shared, w))), "seed 1's warm-up differs");
    const obf = 'obfuscator.safetensors';
    assert.ok(!readFileSync(at('lp1-s0', obf)).equals(readFileSync(at('lp1-s1', obf))), 'two seeds, two obfuscators');
    assert.equal(JSON.parse(readFileSync(at('lp1-s1', 'config.json'), 'utf8')).obfuscatorTrain.seed, 1);
    // one group of two seeds, its table, and the choice among groups
    assert.deepEqual(
      r.seedGroups?.map((g) => [g.id, g.points]),
      [['lp1', ['lp1-s0', 'lp1-s1']]],
    );
    assert.match(readFileSync(path.join(outDir, 'frontier.md'), 'utf8'), /^\| lp1 \| 0, 1 \|/m);
    const choice = JSON.parse(readFileSync(path.join(outDir, 'choice.json'), 'utf8'));
    assert.deepEqual([choice.chosen, choice.seeds.exported, choice.dir], ['lp1', 'lp1-s0', 'points/lp1-s0']);
    assert.match(choice.reason, /obfuscator seeds 0, 1/);
    const meta = JSON.parse(
      decodeModel(readFileSync(path.join(outDir, 'obfuscator.onnx'))).metadata['earmark.choice']!,
    );
    assert.deepEqual([meta.chosen, meta.seeds.exported], ['lp1', 'lp1-s0'], 'the ONNX says what it was picked for');
    assert.match(readFileSync(path.join(outDir, 'report.html'), 'utf8'), /<h2>Over 2 obfuscator seeds \(0, 1\)<\/h2>/);
  } finally {
    keepOutput(outDir, 'sweep-seeds');
    rmSync(dir, { recursive: true, force: true });
  }
});
