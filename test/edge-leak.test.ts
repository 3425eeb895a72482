// What ships carries no more than the obfuscated magnitude (issue 11, deliverables 1, 5 and 8). An
// exported obfuscator whose last convolution is zeroed outputs a constant: with the windowed rule's fixed
// output level (never the input window's mean and std) its magnitude carries nothing, not even the
// input's level. Its audio, re-analysed as an app would (16-bit PCM → DS2 front-end), must then not
// correlate with the input's log1p|STFT| (|r| < 0.05), through `earmark obfuscate` to a WAV and to stdout
// PCM, and through the sensor's WebSocket `pcm` format, on a pause-free paragraph and on ordinary speech
// with pauses (where a per-window level would be a voice-activity envelope). The unsafe original phase is
// the control: the same model's audio then correlates ~0.3 with the input (the leak these tests catch).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { decodeWav, encodeWav, loadAudio } from '../src/audio/io.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { windowPlan, WINDOW_DEFAULTS } from '../src/edge/obfuscate.js';
import { encodeModel } from '../src/edge/onnx.js';
import { encodePcm16 } from '../src/edge/pcm.js';
import { PrivacySensor } from '../src/edge/service.js';
import type { AudioSource } from '../src/edge/sources.js';
import { Ds2Frontend } from '../src/edge/spectrogram.js';
import { reanalyzePcm } from '../src/edge/synthesis.js';
import { TokenStore } from '../src/edge/tokens.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-leak-'));
const model = path.join(dir, 'zeroed.onnx');
const wav = path.join(dir, 'speech.wav');
const cli = fileURLToPath(new URL('../../bin/earmark.js', import.meta.url));
const pausedWav = path.join(dir, 'paused.wav');
/** The pause-free paragraph, and sentences with pauses (0.5 s of silence before, between and after them). */
let speech: Float32Array = new Float32Array(0);
let paused: Float32Array = new Float32Array(0);
const inputLogs = new Map<Float32Array, Float32Array>();

/** Pearson correlation over all values. */
function corr(a: ArrayLike<number>, b: ArrayLike<number>, n = Math.min(a.length, b.length)): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const u = a[i]! - ma;
    const v = b[i]! - mb;
    ab += u * v;
    aa += u * u;
    bb += v * v;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Correlation of (nFreq, frames) spectrograms after removing each window's kept-frame mean from both. */
function withinWindowCorr(a: Float32Array, b: Float32Array, frames: number): number {
  const nFreq = 161;
  const [x, y] = [a.slice(), b.slice()];
  for (const s of windowPlan(frames, WINDOW_DEFAULTS)) {
    for (const m of [x, y]) {
      let sum = 0;
      for (let f = 0; f < nFreq; f++) for (let t = s.keepFrom; t < s.keepTo; t++) sum += m[f * frames + t]!;
      const mean = sum / (nFreq * (s.keepTo - s.keepFrom));
      for (let f = 0; f < nFreq; f++) for (let t = s.keepFrom; t < s.keepTo; t++) m[f * frames + t]! -= mean;
    }
  }
  return corr(x, y);
}

/** Both correlations of re-analysed 16-bit audio with the input speech (over the input's frames). */
function leak(pcm: Uint8Array | Float32Array, input: Float32Array): { plain: number; within: number } {
  const r = reanalyzePcm(pcm);
  const inputLog = inputLogs.get(input)!;
  assert.equal(r.frames, inputLog.length / 161, 'the output has as many frames as the input');
  return { plain: corr(inputLog, r.logMag), within: withinWindowCorr(inputLog, r.logMag, r.frames) };
}

/** espeak-ng's 16 kHz rendering of `text`, trimmed of leading and trailing silence. */
async function espeak(text: string, name: string): Promise<Float32Array> {
  const tts = path.join(dir, `${name}.wav`);
  const r = spawnSync('espeak-ng', ['-s', '150', '-w', tts, text], { encoding: 'utf8' });
  assert.equal(r.status, 0, `espeak-ng failed: ${r.stderr}`);
  const a = (await loadAudio(tts, { sampleRate: 16000, mono: true })).samples;
  let first = 0;
  let last = a.length - 1;
  while (first < a.length && Math.abs(a[first]!) < 0.01) first++;
  while (last > first && Math.abs(a[last]!) < 0.01) last--;
  return a.subarray(first, last + 1);
}

/** On the 16-bit grid, so that the WAV file and the PCM stream carry the same samples. */
const grid = (a: Float32Array): Float32Array => Float32Array.from(a, (v) => Math.round(v * 32767) / 32768);

function assertNoLeak(what: string, l: { plain: number; within: number }, t?: { diagnostic(m: string): void }): void {
  t?.diagnostic(`${what}: correlation ${l.plain.toFixed(4)}, within windows ${l.within.toFixed(4)}`);
  assert.ok(
    Math.abs(l.plain) < 0.05,
    `${what}: re-analysed log1p|STFT| correlates ${l.plain.toFixed(3)} with the input's (limit 0.05)`,
  );
  assert.ok(Math.abs(l.within) < 0.05, `${what}: within-window correlation ${l.within.toFixed(3)} (limit 0.05)`);
}

before(async () => {
  // a spoken paragraph (espeak-ng, a declared dependency), trimmed of leading and trailing silence
  speech = grid(
    await espeak(
      'Please call Stella. Ask her to bring these things with her from the store: six spoons of fresh snow peas, five thick slabs of blue cheese.',
      'tts',
    ),
  );
  assert.ok(speech.length > 16000 * 5, `speech is ${speech.length / 16000} s`);
  writeFileSync(wav, encodeWav(speech, 16000));
  // ordinary speech with pauses: three sentences with half a second of digital silence around each
  const gap = new Float32Array(8000);
  const parts: Float32Array[] = [gap];
  for (const [i, text] of [
    'The train leaves at nine.',
    'Bring the blue folder, please.',
    'We will meet at the harbour.',
  ].entries())
    parts.push(await espeak(text, `s${i}`), gap);
  paused = grid(Float32Array.from(parts.flatMap((p) => Array.from(p))));
  writeFileSync(pausedWav, encodeWav(paused, 16000));
  for (const x of [speech, paused]) inputLogs.set(x, new Ds2Frontend().analyze(x).logMag);

  const tensors = memory().numTensors;
  manualSeed(11);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  const w = plainStateDict(g);
  g.dispose();
  assert.equal(memory().numTensors, tensors);
  for (const k of ['lastConvLayer.weight', 'lastConvLayer.bias']) w.get(k)!.data.fill(0);
  writeFileSync(model, encodeModel(exportGenerator({ nFreq: 161, channels: 4, residualBlocks: 1 }, w)));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the real CLI; resolves with its exit code, stdout bytes and stderr text. */
function earmark(args: string[], stdin?: Uint8Array): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, EARMARK_THREADS: '1' },
    });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => p.kill(), 180000); // a hung CLI fails the test instead of hanging it
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    p.stdin.end(stdin === undefined ? undefined : Buffer.from(stdin));
  });
}

test("`earmark obfuscate` to a WAV: the zeroed model's audio does not correlate with the input, with or without pauses; the unsafe flag warns and leaks", async (t) => {
  const out = path.join(dir, 'out.wav');
  for (const [name, file, x] of [
    ['paragraph', wav, speech],
    ['speech with pauses', pausedWav, paused],
  ] as const) {
    const r = await earmark(['obfuscate', '--model', model, '--in', file, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /WARNING/);
    assertNoLeak(`WAV, ${name}`, leak(decodeWav(readFileSync(out)).channels[0]!, x), t);
  }
  // control: the original phase carries the input whatever the magnitude says
  const u = await earmark(['obfuscate', '--model', model, '--in', wav, '--out', out, '--unsafe-original-phase']);
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stderr, /WARNING: --unsafe-original-phase/);
  const l = leak(decodeWav(readFileSync(out)).channels[0]!, speech);
  t.diagnostic(`unsafe original phase: correlation ${l.plain.toFixed(4)}, within windows ${l.within.toFixed(4)}`);
  assert.ok(
    l.plain > 0.2 && l.within > 0.2,
    `the unsafe original phase should leak (correlation ${l.plain.toFixed(3)}, within ${l.within.toFixed(3)})`,
  );
});

test('`earmark obfuscate --in - --out -`: the stdout PCM of speech with pauses does not correlate with the input', async (t) => {
  const r = await earmark(['obfuscate', '--model', model, '--in', '-', '--out', '-'], encodePcm16(paused));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, 2 * paused.length);
  assertNoLeak('stdout PCM', leak(new Uint8Array(r.stdout), paused), t);
});

test("the sensor's WebSocket pcm: the served stream of speech with pauses does not correlate with the input, and ends with the source", async (t) => {
  const store = new TokenStore(path.join(dir, 'tokens.json'));
  const { token } = store.grant('speaker', model);
  let go: () => void = () => undefined;
  const started = new Promise<void>((r) => {
    go = r;
  });
  // the speech once, in 100 ms chunks as fast as it is read, once the app is connected
  const source: AudioSource = {
    name: 'speech once',
    async *chunks() {
      await started;
      for (let i = 0; i < paused.length; i += 1600) yield paused.slice(i, i + 1600);
    },
  };
  const sensor = await PrivacySensor.start({ source, tokens: store, port: 0 });
  try {
    const ws = new WebSocket(sensor.url, { headers: { Authorization: `Bearer ${token}` } });
    const parts = new Map<number, Buffer>();
    const hello = new Promise<Record<string, unknown>>((resolve) =>
      ws.on('message', (d: Buffer, binary) => {
        if (binary) parts.set(d.readUInt32LE(0), d.subarray(4));
        else resolve(JSON.parse(d.toString()) as Record<string, unknown>);
      }),
    );
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    const bounded = <T>(x: Promise<T>, what: string): Promise<T> =>
      Promise.race([
        x,
        new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), 120000).unref(),
        ),
      ]);
    assert.equal((await bounded(hello, 'hello'))['synthesis'], 'rtisi-la');
    go();
    const c = await bounded(closed, "the close at the source's end");
    assert.deepEqual(c, { code: 1000, reason: 'source ended' });
    const pcm = Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((k) => parts.get(k)!));
    assert.equal(pcm.length, 2 * paused.length, 'the served stream covers the whole source, its end included');
    assertNoLeak('WebSocket pcm', leak(new Uint8Array(pcm), paused), t);
    assert.deepEqual(await bounded(sensor.stopped, 'stopped'), { state: 'ended' });
  } finally {
    await sensor.close();
  }
});
