// The README's and docs/methods.md's quoted results match results/ (issue 11, deliverable 9): every
// `<!-- results:NAME -->` block is exactly what src/eval/results-readme.ts makes of results/NAME/report.json
// (`node scripts/results.mjs --readme-only` rewrites them), and every reference report in results/ is
// quoted in the README. The generator itself is checked on a small report: a changed number is caught.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsBlock, resultsBlockNames, syncResultsBlocks } from '../src/eval/results-readme.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (name: string): unknown => {
  const file = path.join(root, 'results', name, 'report.json');
  assert.ok(existsSync(file), `results/${name}/report.json is quoted but missing (run node scripts/results.mjs ${name})`);
  return JSON.parse(readFileSync(file, 'utf8'));
};

test("the README's and docs/methods.md's results blocks are generated from results/, and every result is quoted", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const doc of ['README.md', 'docs/methods.md']) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    const { changed } = syncResultsBlocks(text, load);
    assert.deepEqual(changed, [], `${doc}: the quoted results differ from results/ (node scripts/results.mjs --readme-only)`);
  }
  const results = existsSync(path.join(root, 'results')) ? readdirSync(path.join(root, 'results')).filter((n) => existsSync(path.join(root, 'results', n, 'report.json'))) : [];
  for (const n of results) assert.ok(resultsBlockNames(readme).includes(n), `results/${n} is not quoted in the README (add <!-- results:${n} --><!-- /results:${n} -->)`);
});

const s = (accuracy: number, n = 40): unknown => ({ accuracy, accuracyCI: { lo: accuracy - 0.1, hi: accuracy + 0.1 }, n, chanceUniform: 0.5, chanceMajority: 0.5 });

test('a results block quotes T and every attacker per format, and a changed number in results/ is caught', () => {
  const report = {
    format: 'earmark-experiment-report', title: 'Fig. 3a', dataset: { name: 'tiny' },
    target: { task: 'speaker', clean: s(1), formats: { frames: s(0.98), pcm: s(0.97) } },
    attacks: [{ attribute: 'gender', protocol: 'speaker-disjoint', functionOfTask: true, clean: s(0.9),
      formats: { frames: { ignorant: s(0.52), informed: s(0.61), inTraining: s(0.5), inversion: { a: s(0.55), b: s(0.58) } }, pcm: { ignorant: s(0.5), informed: s(0.6), inTraining: s(0.49), inversion: {} } } }],
    verdicts: [{ judged: true, status: 'holds' }, { judged: true, status: 'fails' }, { judged: false, status: 'fails' }], stages: [{ name: 'mcadams', status: 'failed' }],
  };
  const block = resultsBlock('fig3a', report);
  assert.match(block, /\| T \(speaker\) \| 100\.0% \| 98\.0% \/ 97\.0% \|/);
  assert.match(block, /\| gender \(speaker-disjoint\) \| 90\.0% \| 52\.0% \/ 50\.0% \| 61\.0% \/ 60\.0% \| 58\.0% \/ — \| 50\.0% \/ 49\.0% \|/);
  assert.match(block, /1 hold, 1 fail, 0 inconclusive; failed stages: mcadams/);
  const doc = `intro\n<!-- results:fig3a -->\n${block}\n<!-- /results:fig3a -->\nend\n`;
  assert.deepEqual(syncResultsBlocks(doc, () => report), { text: doc, changed: [] });
  const moved = structuredClone(report);
  moved.attacks[0]!.formats.pcm.informed = s(0.7);
  const r = syncResultsBlocks(doc, () => moved);
  assert.deepEqual(r.changed, ['fig3a']);
  assert.match(r.text, /61\.0% \/ 70\.0%/);
  assert.throws(() => resultsBlock('x', { hello: 1 }), /neither/);
});
