// configs/rdal-*.json are the presets written out in full: `--config configs/rdal-paper.json` and
// `--preset paper` give the same run, and every value a user may edit is visible in the file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { RDAL_PRESETS, resolveRdalConfig, resolveRdalPreset, type RdalPreset } from '../src/methods/rdal/index.js';
import { repoRoot } from '../src/util/paths.js';

for (const preset of Object.keys(RDAL_PRESETS) as RdalPreset[]) {
  test(`configs/rdal-${preset}.json equals the '${preset}' preset`, () => {
    const file = JSON.parse(readFileSync(path.join(repoRoot(), 'configs', `rdal-${preset}.json`), 'utf8')) as unknown;
    assert.deepEqual(resolveRdalConfig(file), resolveRdalPreset(preset));
  });
}

test("the 'paper' preset is the reference's schedule", () => {
  const c = resolveRdalPreset('paper');
  assert.deepEqual(c.model.channels, [64, 128, 256, 512]);
  assert.equal(c.train.maxEpochs, 5000);
  assert.equal(c.train.alphaZeroEpochs, 30);
  assert.equal(c.train.alphaGamma, 100);
  assert.equal(c.train.period, 50);
  assert.equal(c.train.periodMask, 70);
  assert.equal(c.train.patiencePeriods, 10);
  assert.equal(c.attacker.patience, 50);
});
