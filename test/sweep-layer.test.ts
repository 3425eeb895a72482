// The sweep's CPU layer (issue 14): at the CPU preset a sweep point keeps the judged attackers (informed on frames
// and PCM, speaker-disjoint; the deobfuscator-size inversion attacker) and drops what single experiments keep
// (closed-set informed attackers, the larger inversion network, int8, verification); --config and flags override it,
// and the paper preset is left as it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sweepConfig } from '../src/cli/sweep.js';
import { resolveExperimentConfig } from '../src/eval/optin/config.js';
import { informedFormats } from '../src/eval/optin/attacks.js';

test("the sweep's CPU layer sits under --config and the flags, and not under the paper preset", async () => {
  const c = await sweepConfig({ preset: 'cpu' }, 'fig4');
  assert.equal(c.experiment, 'fig4');
  assert.deepEqual(c.attack.informed, { 'speaker-disjoint': ['frames', 'pcm'], 'closed-set': [] });
  assert.deepEqual(c.attack.protocols, ['speaker-disjoint', 'closed-set']); // closed-set clean and ignorant rows stay
  assert.deepEqual(
    c.inversion.networks.map((n) => n.name),
    ['deobfuscator-size'],
  );
  assert.equal(c.edge.int8, 'none');
  assert.equal(c.baselines.verification, false);
  assert.equal(c.obfuscatorTrain.epochs, 4);
  // everything else is the experiment's CPU preset
  const e = resolveExperimentConfig('cpu', { experiment: 'fig4' });
  assert.deepEqual(c.targetTrain, e.targetTrain);
  assert.deepEqual(c.attackerTrain, e.attackerTrain);
  assert.deepEqual(c.obfuscator, e.obfuscator);

  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-sweep-layer-'));
  try {
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ obfuscatorTrain: { epochs: 8 }, edge: { int8: 'static' } }));
    const f = await sweepConfig({ preset: 'cpu', config: file }, 'fig3a');
    assert.equal(f.obfuscatorTrain.epochs, 8);
    assert.equal(f.edge.int8, 'static');
    assert.deepEqual(f.attack.informed['closed-set'], []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const p = await sweepConfig({ preset: 'paper' }, 'fig4');
  assert.deepEqual(p.attack.informed, resolveExperimentConfig('paper', { experiment: 'fig4' }).attack.informed);
});

test('the layer never leaves an attribute without its informed attackers (fig3b, or no speaker-disjoint protocol)', async () => {
  const layer = (await sweepConfig({ preset: 'cpu' }, 'fig3b')).attack;
  const both = ['speaker-disjoint', 'closed-set'] as const;
  // fig4 on a corpus with both protocols: informed on the speaker-disjoint one only
  assert.deepEqual(informedFormats(layer, both, 'gender', 'speaker-disjoint'), ['frames', 'pcm']);
  assert.deepEqual(informedFormats(layer, both, 'gender', 'closed-set'), []);
  // fig3b: the speaker is attacked on the closed set alone, so it keeps its informed attackers there
  assert.deepEqual(informedFormats(layer, ['closed-set'], 'speaker', 'closed-set'), ['frames', 'pcm']);
  assert.deepEqual(informedFormats(layer, both, 'speaker', 'closed-set'), ['frames', 'pcm']);
  // a corpus without the speaker-disjoint protocol: gender is judged on the closed set, with its informed attackers
  assert.deepEqual(informedFormats(layer, ['closed-set'], 'gender', 'closed-set'), ['frames', 'pcm']);
  // the experiment's own config is untouched, and a config that lists no informed format anywhere gets none
  const full = resolveExperimentConfig('cpu', { experiment: 'fig4' }).attack;
  assert.deepEqual(informedFormats(full, both, 'gender', 'closed-set'), ['frames', 'pcm']);
  const none = { ...full, informed: { 'speaker-disjoint': [], 'closed-set': [] } };
  assert.deepEqual(informedFormats(none, ['closed-set'], 'speaker', 'closed-set'), []);
});
