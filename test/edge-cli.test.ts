// `earmark obfuscate`, `grant` and `revoke` through their Command objects and library functions:
// file → WAV/.npy/safetensors equal to the offline rule; a PCM stream equals the file path; streams cut
// mid-sample, container bytes or too-short input end with EarmarkErrors; grant stores only the hash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeWav, encodeWav } from '../src/audio/io.js';
import { grant } from '../src/cli/grant.js';
import { revoke } from '../src/cli/revoke.js';
import { obfuscate } from '../src/cli/obfuscate.js';
import { EarmarkError } from '../src/errors.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { OUTPUT_LEVEL_DEFAULTS, obfuscateOffline } from '../src/edge/obfuscate.js';
import { obfuscatePcmStream, windowFromModel } from '../src/edge/obfuscate-io.js';
import { encodeModel } from '../src/edge/onnx.js';
import { encodePcm16 } from '../src/edge/pcm.js';
import { OnnxSession } from '../src/edge/runtime.js';
import { TokenStore } from '../src/edge/tokens.js';
import { decodeRaw } from '../src/serialize/safetensors-format.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-cli-'));
const model = path.join(dir, 'obf.onnx');
// on the 16-bit grid so that WAV and PCM inputs carry the same samples
const x = Float32Array.from(
  { length: 16000 * 3 },
  (_, i) => Math.round(8000 * (Math.sin(i * 0.04) * Math.sin(i * 0.0009) + 0.1 * Math.sin(i * 1.1))) / 32768,
);
let session: OnnxSession;

before(async () => {
  const tensors = memory().numTensors;
  manualSeed(9);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  writeFileSync(
    model,
    encodeModel(exportGenerator(g.config, plainStateDict(g), { features: { windowFrames: 64, lookaheadFrames: 8 } })),
  );
  g.dispose();
  assert.equal(memory().numTensors, tensors);
  writeFileSync(path.join(dir, 'in.wav'), encodeWav(x, 16000));
  session = await OnnxSession.load(model);
});

after(async () => {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
});

async function* bytesOf(b: Uint8Array, chunk: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
}

test('obfuscate file → .wav, .npy and .safetensors equal the offline windowed rule (window from the model metadata)', async () => {
  const w = windowFromModel(session);
  // (a model exported without training statistics: the documented default output level)
  assert.deepEqual(w, {
    windowFrames: 64,
    lookaheadFrames: 8,
    outputMean: OUTPUT_LEVEL_DEFAULTS.mean,
    outputStd: OUTPUT_LEVEL_DEFAULTS.std,
  });
  const want = await obfuscateOffline((a) => session.run(a), x, w);
  for (const ext of ['wav', 'npy', 'safetensors']) {
    const out = path.join(dir, `out.${ext}`);
    assert.equal(await obfuscate.run({ model, in: path.join(dir, 'in.wav'), out, threads: 1 }, []), 0);
    const bytes = readFileSync(out);
    if (ext === 'wav') {
      const y = decodeWav(bytes).channels[0]!;
      assert.equal(y.length, x.length);
      let m = 0;
      for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i]! - want.audio![i]!));
      assert.ok(m <= 1 / 32768 + 1e-6, `wav max |Δ| ${m}`);
    } else if (ext === 'npy') {
      assert.equal(bytes.subarray(1, 6).toString('latin1'), 'NUMPY');
      const headerLen = bytes.readUInt16LE(8);
      assert.match(bytes.subarray(10, 10 + headerLen).toString('latin1'), /'shape': \(161, 301\)/);
      const data = new Float32Array(new Uint8Array(bytes.subarray(10 + headerLen)).buffer);
      assert.deepEqual(data, want.logMag);
    } else {
      const st = decodeRaw(bytes, out);
      const t = st.tensors.get('obfuscated')!;
      assert.deepEqual(t.shape, [161, 301]);
      assert.deepEqual(new Float32Array(new Uint8Array(t.data).buffer), want.logMag);
    }
  }
  await assert.rejects(
    obfuscate.run({ model, in: path.join(dir, 'in.wav'), out: path.join(dir, 'out.mp3'), threads: 1 }, []),
    /unknown extension/,
  );
  await assert.rejects(
    obfuscate.run({ model: path.join(dir, 'none.onnx'), in: '-', out: '-', threads: 1 }, []),
    (e: unknown) => e instanceof EarmarkError && /--model: '.*none\.onnx' does not exist/.test(e.message),
  );
});

test("a PCM stream (odd-sized chunks) gives the file path's audio; cut, container and short streams end with clear errors", async () => {
  const w = windowFromModel(session);
  const want = await obfuscateOffline((a) => session.run(a), x, w);
  const pcm = encodePcm16(x);
  const parts: Uint8Array[] = [];
  const r = await obfuscatePcmStream(
    session,
    bytesOf(pcm, 777),
    (b) => {
      parts.push(b.slice());
    },
    { window: w, chunkSamples: 800, output: 'pcm' },
  );
  assert.equal(r.samples, x.length);
  const out = Buffer.concat(parts);
  assert.deepEqual(out, Buffer.from(encodePcm16(want.audio!)));
  const frames: Uint8Array[] = [];
  await obfuscatePcmStream(
    session,
    bytesOf(pcm, 4000),
    (b) => {
      frames.push(b.slice());
    },
    { window: w, chunkSamples: 1600, output: 'frames' },
  );
  assert.equal(Buffer.concat(frames).length, 4 * 161 * want.frames);

  const sink = (): void => undefined;
  await assert.rejects(
    obfuscatePcmStream(session, bytesOf(pcm.subarray(0, 10001), 1000), sink, {
      window: w,
      chunkSamples: 800,
      output: 'pcm',
    }),
    (e: unknown) => e instanceof EarmarkError && /ended mid-sample after 10001 bytes/.test(e.message),
  );
  await assert.rejects(
    obfuscatePcmStream(session, bytesOf(encodeWav(x, 16000), 1000), sink, {
      window: w,
      chunkSamples: 800,
      output: 'pcm',
    }),
    (e: unknown) => e instanceof EarmarkError && /looks like a WAV file/.test(e.message),
  );
  await assert.rejects(
    obfuscatePcmStream(session, bytesOf(pcm.subarray(0, 200), 100), sink, {
      window: w,
      chunkSamples: 800,
      output: 'pcm',
    }),
    (e: unknown) => e instanceof EarmarkError && /ended after 100 samples/.test(e.message),
  );
  // the session survives the failures
  assert.equal((await session.run({ data: new Float32Array(161 * 8), dims: [1, 161, 8] })).dims[2], 8);
});

test('grant prints a token once and stores only its hash; revoke by id or token; unknown ids are refused', async () => {
  const tokens = path.join(dir, 'tokens.json');
  const printed: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: string) => {
    printed.push(String(s));
  };
  console.error = () => undefined;
  try {
    assert.equal(await grant.run({ task: 'speaker', model, tokens, list: false }, []), 0);
    assert.equal(await grant.run({ task: 'gender', model, tokens, list: false }, []), 0);
  } finally {
    console.log = log;
    console.error = err;
  }
  const [t1, t2] = printed as [string, string];
  assert.match(t1, /^emk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  const text = readFileSync(tokens, 'utf8');
  const secret = t1.slice(t1.indexOf('_', 4) + 1); // everything after emk_<id>_ (the secret may hold '_')
  assert.ok(!text.includes(t1) && !text.includes(secret));
  const store = new TokenStore(tokens);
  assert.equal(store.verify(t1)?.task, 'speaker');
  assert.equal(store.verify(t2)?.task, 'gender');
  console.log = () => undefined;
  try {
    await revoke.run({ tokens }, [t1]);
    await revoke.run({ tokens }, [t2.split('_')[1]!]);
  } finally {
    console.log = log;
  }
  assert.equal(store.verify(t1), null);
  assert.equal(store.verify(t2), null);
  await assert.rejects(revoke.run({ tokens }, ['deadbeef']), /no grant 'deadbeef'/);
  await assert.rejects(grant.run({ task: 'a b', model, tokens, list: false }, []), /--task must be/);
  await assert.rejects(
    grant.run({ task: 'x', model: path.join(dir, 'missing.onnx'), tokens, list: false }, []),
    /does not exist/,
  );
});
