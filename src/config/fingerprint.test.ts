import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, fingerprint, fingerprintDiff, stageSeed } from './fingerprint.js';

test('fingerprint: key order does not matter, values do', () => {
  assert.equal(fingerprint({ a: 1, b: { c: [1, 2], d: 'x' } }), fingerprint({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  assert.notEqual(fingerprint({ a: 1 }), fingerprint({ a: 2 }));
  assert.notEqual(fingerprint([1, 2]), fingerprint([2, 1]));
  assert.match(fingerprint({}), /^[0-9a-f]{16}$/);
  assert.equal(canonicalJson({ b: undefined, a: null }), '{"a":null}');
});

test('fingerprintDiff names the dotted paths that differ', () => {
  const a = { train: { lr: 1e-3, epochs: 8 }, ids: ['u1', 'u2'], seed: 0 };
  const b = { train: { lr: 3e-3, epochs: 8 }, ids: ['u1', 'u3'], seed: 0, extra: true };
  assert.deepEqual(fingerprintDiff(a, b), ['extra', 'ids', 'train.lr']);
  assert.deepEqual(fingerprintDiff(a, structuredClone(a)), []);
});

test('stageSeed depends on the seed and the stage name only', () => {
  assert.equal(stageSeed(0, 'target'), stageSeed(0, 'target'));
  assert.notEqual(stageSeed(0, 'target'), stageSeed(1, 'target'));
  assert.notEqual(stageSeed(0, 'target'), stageSeed(0, 'clean-gender'));
  assert.ok(Number.isInteger(stageSeed(7, 'x')) && stageSeed(7, 'x') >= 0);
  assert.throws(() => stageSeed(0.5, 'x'), /integer/);
});
