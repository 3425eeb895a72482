// The shipped outputs' cache key names the model by its hash, not by its path (a sweep's baseline folders
// hold hard links of the first point's ONNX and must reuse its shipped outputs and the attackers trained on them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { featureKey } from '../src/data/cache-file.js';
import { shippedFeatureSpec } from '../src/eval/optin/shipped.js';
import { SYNTHESIS_DEFAULTS } from '../src/edge/synthesis.js';

test("the shipped outputs' key follows the model's bytes and the rule, not the model file's path", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-shipped-key-'));
  try {
    const file = (name: string, bytes: string): string => {
      const f = path.join(dir, name);
      writeFileSync(f, bytes);
      return f;
    };
    const base = {
      window: { windowFrames: 128, lookaheadFrames: 16 },
      synthesis: SYNTHESIS_DEFAULTS,
      formats: ['frames', 'pcm'],
    } as unknown as Parameters<typeof shippedFeatureSpec>[0];
    const key = (onnx: string, over = {}): string => featureKey(shippedFeatureSpec({ ...base, onnx, ...over }));
    const a = key(file('a.onnx', 'model one'));
    assert.equal(key(file('b.onnx', 'model one')), a, 'the same model in another folder shares the key');
    assert.notEqual(key(file('c.onnx', 'model two')), a, 'another model has another key');
    assert.notEqual(key(path.join(dir, 'a.onnx'), { formats: ['frames'] }), a, 'another rule has another key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
