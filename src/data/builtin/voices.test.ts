import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seeded } from './seeded.js';
import { jitterVariant } from './voices.js';

const STOCK = `language variant
name female2
gender female

pitch 142 220
formant 0 105  80 150
formant 1 110  80 160
echo 140 10
`;

test('jitterVariant renames, scales pitch and every formant within the bounds, keeps other lines', () => {
  const out = jitterVariant(STOCK, 'earmark_F09', seeded(1, 'x'), { formant: 0.04, pitch: 0.07, range: 0.2 });
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'name earmark_F09');
  assert.ok(!lines.includes('name female2'));
  assert.ok(lines.includes('echo 140 10') && lines.includes('gender female'));
  const [base, top] = /pitch (\d+) (\d+)/.exec(out)!.slice(1).map(Number) as [number, number];
  assert.ok(base >= Math.floor(142 * 0.93) && base <= Math.ceil(142 * 1.07), `base ${base}`);
  assert.ok(top - base >= Math.floor(78 * 0.8) - 1 && top - base <= Math.ceil(78 * 1.2) + 1, `range ${top - base}`);
  const formants = [...out.matchAll(/^formant (\d+) (\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(
    formants.map(([k]) => k),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  ); // missing ones are added
  const stock = [105, 110, 100, 100, 100, 100, 100, 100, 100];
  for (const [k, f] of formants)
    assert.ok(Math.abs(f! / stock[k!]! - 1) <= 0.04 + 0.5 / stock[k!]!, `formant ${k}: ${f}`);
  assert.match(out, /formant 1 \d+ {2}80 160/); // height and width kept
  assert.equal(out, jitterVariant(STOCK, 'earmark_F09', seeded(1, 'x'), { formant: 0.04, pitch: 0.07, range: 0.2 }));
  assert.notEqual(out, jitterVariant(STOCK, 'earmark_F09', seeded(2, 'x'), { formant: 0.04, pitch: 0.07, range: 0.2 }));
});
