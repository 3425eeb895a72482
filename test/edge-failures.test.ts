// The sensor fails loudly and every realistic mistake on the edge commands gets a sentence (issue 12):
// a source that ends or fails closes its apps with the reason, refuses new ones (503) and makes `serve`
// exit non-zero after the grace period, or restarts; missing, unreadable and corrupted token stores are
// told apart; the unsafe original phase needs the store's opt-in; /health checks Host and needs a token
// for details; grant refuses anything but an obfuscator; bad flags and ports name the flag; arecord's
// stderr is shown whole. Every wait is bounded; sensors are closed at the end of each test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { encodeWav } from '../src/audio/io.js';
import { grant } from '../src/cli/grant.js';
import { obfuscate } from '../src/cli/obfuscate.js';
import { serve } from '../src/cli/serve.js';
import { GraphBuilder } from '../src/edge/builder.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { encodeModel } from '../src/edge/onnx.js';
import { encodePcm16 } from '../src/edge/pcm.js';
import { PrivacySensor, type ServiceOptions } from '../src/edge/service.js';
import { arecordSource, type AudioSource } from '../src/edge/sources.js';
import { TokenStore } from '../src/edge/tokens.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-fail-'));
const model = path.join(dir, 'obf.onnx');
const cli = fileURLToPath(new URL('../../bin/earmark.js', import.meta.url));
const tone = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i * 0.05));
let store: TokenStore;
let token = '';

before(() => {
  const tensors = memory().numTensors;
  manualSeed(5);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  writeFileSync(
    model,
    encodeModel(exportGenerator(g.config, plainStateDict(g), { features: { windowFrames: 16, lookaheadFrames: 2 } })),
  );
  g.dispose();
  assert.equal(memory().numTensors, tensors);
  store = new TokenStore(path.join(dir, 'tokens.json'));
  token = store.grant('speaker', model).token;
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A source that yields `chunks` chunks of the tone once connected, then ends, or throws `fail`. */
function finiteSource(chunks: number, fail?: Error): AudioSource & { go(): void; runs: number } {
  let go: () => void = () => undefined;
  const started = new Promise<void>((r) => {
    go = r;
  });
  const src = {
    name: 'finite test source',
    kind: 'test',
    runs: 0,
    go: () => go(),
    async *chunks() {
      await started;
      src.runs++;
      for (let i = 0; i < chunks; i++) {
        yield tone.slice(0, 1600);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (fail) throw fail;
    },
  };
  return src;
}

async function start(o: Partial<ServiceOptions> & { source: AudioSource }): Promise<PrivacySensor> {
  return PrivacySensor.start({ tokens: store, port: 0, checkIntervalMs: 50, ...o });
}

interface Conn {
  ws: WebSocket;
  texts: Record<string, unknown>[];
  binary: number;
  bytes: number;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(sensor: PrivacySensor, tok = token): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(sensor.url, { headers: { Authorization: `Bearer ${tok}` } });
    const c: Conn = {
      ws,
      texts: [],
      binary: 0,
      bytes: 0,
      closed: new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() }))),
    };
    ws.on('message', (d: Buffer, isBinary) => {
      if (isBinary) {
        c.binary++;
        c.bytes += d.length - 4;
      } else c.texts.push(JSON.parse(d.toString()) as Record<string, unknown>);
    });
    ws.on('unexpected-response', (_q, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', reject);
    ws.on('open', () => resolve(c));
  });
}

/** A promise, or a failure after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** GET /health with a chosen Host header and token. */
function health(port: number, host: string, tok?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: host, ...(tok ? { Authorization: `Bearer ${tok}` } : {}) };
    const req = request({ host: '127.0.0.1', port, path: '/health', headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a source that ends: apps get the end of the stream and close 1000, new apps 503, /health not ok, stopped resolves', async () => {
  const src = finiteSource(6);
  const sensor = await start({ source: src });
  try {
    const c = await connect(sensor);
    await waitFor(() => c.texts.length > 0, 10000, 'hello');
    src.go();
    assert.deepEqual(await within(c.closed, 10000, 'the close'), { code: 1000, reason: 'source ended' });
    assert.equal(c.bytes, 2 * 6 * 1600, 'the app got the whole stream, its end included');
    assert.deepEqual(await within(sensor.stopped, 10000, 'stopped'), { state: 'ended' });
    await assert.rejects(connect(sensor), /HTTP 503/);
    assert.deepEqual(await health(sensor.port, `127.0.0.1:${sensor.port}`), { status: 503, body: { ok: false } });
  } finally {
    await sensor.close();
  }
});

test('a source that fails closes apps with 1011 and the error; --restart-source starts it again instead', async () => {
  const src = finiteSource(2, new Error('device unplugged'));
  const sensor = await start({ source: src });
  try {
    const c = await connect(sensor);
    await waitFor(() => c.texts.length > 0, 10000, 'hello');
    src.go();
    assert.deepEqual(await within(c.closed, 10000, 'the close'), {
      code: 1011,
      reason: 'source failed: device unplugged',
    });
    const stop = await within(sensor.stopped, 10000, 'stopped');
    assert.equal(stop.state, 'failed');
    assert.match(stop.error!.message, /device unplugged/);
  } finally {
    await sensor.close();
  }
  const again = finiteSource(3, new Error('xrun'));
  const restarting = await start({ source: again, restartSource: true, restartDelayMs: 20 });
  try {
    const c = await connect(restarting);
    await waitFor(() => c.texts.length > 0, 10000, 'hello');
    again.go();
    await waitFor(() => again.runs >= 3, 10000, 'three runs of the source');
    assert.ok(
      c.texts.some((m) => m['type'] === 'source-restart'),
      'the app is told that the audio restarted',
    );
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(await health(restarting.port, 'localhost'), { status: 200, body: { ok: true } });
  } finally {
    await restarting.close();
  }
});

test('`serve` exits non-zero after the grace period when stdin ends', async () => {
  const p = spawn(
    process.execPath,
    [cli, 'serve', '--source', 'stdin', '--tokens', store.file, '--port', '0', '--grace-ms', '50'],
    { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, EARMARK_THREADS: '1' } },
  );
  let err = '';
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  p.stdin.end(Buffer.from(encodePcm16(tone)));
  const code = await new Promise<number | null>((r) => {
    const t = setTimeout(() => {
      p.kill();
      r(-1);
    }, 60000);
    p.on('close', (c) => {
      clearTimeout(t);
      r(c);
    });
  });
  assert.equal(code, 1, err);
  assert.match(err, /source stdin ended/);
});

test('token stores: missing or corrupted at start are errors; corrupted while running closes apps with 4002', async () => {
  const missing = new TokenStore(path.join(dir, 'none.json'));
  await assert.rejects(
    start({ source: finiteSource(1), tokens: missing }),
    /does not exist, so no app could connect.*--allow-empty-store/,
  );
  const empty = await start({ source: finiteSource(1), tokens: missing, allowEmptyStore: true });
  await assert.rejects(connect(empty), /HTTP 403/);
  await empty.close();
  const bad = new TokenStore(path.join(dir, 'bad.json'));
  writeFileSync(bad.file, '{"version":1,"grants":[{"id":1}]}');
  await assert.rejects(start({ source: finiteSource(1), tokens: bad, allowEmptyStore: true }), /is corrupted/);
  const live = new TokenStore(path.join(dir, 'live.json'));
  const t = live.grant('speaker', model).token;
  const sensor = await start({ source: finiteSource(1), tokens: live });
  try {
    const c = await connect(sensor, t);
    writeFileSync(live.file, '{ torn');
    assert.deepEqual(await within(c.closed, 10000, 'the close'), { code: 4002, reason: 'token store corrupted' });
    await assert.rejects(connect(sensor, t), /HTTP 503/);
  } finally {
    await sensor.close();
  }
});

test("the unsafe original phase is refused without the store's opt-in, announced in hello with it", async () => {
  const s = new TokenStore(path.join(dir, 'unsafe.json'));
  const t = s.grant('speaker', model).token;
  const synthesis = { method: 'unsafe-original-phase' as const };
  await assert.rejects(
    start({ source: finiteSource(1), tokens: s, synthesis }),
    /--unsafe-original-phase is refused.*grant --allow-unsafe-original-phase/,
  );
  s.setAllowUnsafeOriginalPhase(true);
  const sensor = await start({ source: finiteSource(1), tokens: s, synthesis });
  try {
    const c = await connect(sensor, t);
    await waitFor(() => c.texts.length > 0, 10000, 'hello');
    assert.equal(c.texts[0]!['unsafeOriginalPhase'], true);
  } finally {
    await sensor.close();
  }
});

test('/health: loopback Host names only; details only with a valid token, never the source path', async () => {
  const sensor = await start({ source: finiteSource(1) });
  try {
    for (const host of ['evil.example', `evil.example:${sensor.port}`, '10.0.0.1', '127.0.0.1.evil.example'])
      assert.equal((await health(sensor.port, host)).status, 403, host);
    for (const host of ['localhost', `127.0.0.1:${sensor.port}`, `[::1]:${sensor.port}`])
      assert.deepEqual(await health(sensor.port, host), { status: 200, body: { ok: true } }, host);
    assert.deepEqual((await health(sensor.port, 'localhost', 'emk_00000000_' + 'A'.repeat(43))).body, { ok: true });
    const h = await health(sensor.port, 'localhost', token);
    assert.equal(h.body['task'], 'speaker');
    assert.equal(h.body['source'], 'test');
    assert.ok(!JSON.stringify(h.body).includes('finite test source'));
  } finally {
    await sensor.close();
  }
});

test('bad sensor options and a port in use are sentences naming the flag', async () => {
  for (const [o, re] of [
    [{ port: 99999 }, /--port must be an integer from 0 to 65535/],
    [{ maxClients: 0 }, /--max-clients must be/],
    [{ threads: 0 }, /--threads must be/],
  ] as const) {
    await assert.rejects(start({ source: finiteSource(1), ...o }), re);
  }
  const a = await start({ source: finiteSource(1) });
  try {
    await assert.rejects(
      start({ source: finiteSource(1), port: a.port }),
      new RegExp(`port ${a.port} on 127.0.0.1 is already in use`),
    );
  } finally {
    await a.close();
  }
  await assert.rejects(
    serve.run({ source: 'stdin', tokens: store.file, host: '127.0.0.1', port: 0, chunkMs: 0, graceMs: 0 }, []),
    /--chunk-ms must be from 1/,
  );
});

test('grant refuses a WAV, a folder and a model that is not an obfuscator', async () => {
  const tokens = path.join(dir, 'grant.json');
  const wav = path.join(dir, 'in.wav');
  writeFileSync(wav, encodeWav(tone, 16000));
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);
  const b = new GraphBuilder();
  b.node('Identity', [b.input('x', ['batch', 4])], {}, 'id', 1, ['y']);
  b.output('y', ['batch', 4]);
  const other = path.join(dir, 'other.onnx');
  writeFileSync(other, encodeModel(b.model('other', {})));
  const run = (m: string): Promise<unknown> => grant.run({ task: 'speaker', model: m, tokens, list: false }, []);
  await assert.rejects(run(wav), /in\.wav is a WAV file, not an ONNX model/);
  await assert.rejects(run(folder), /folder is a folder, not an ONNX model/);
  await assert.rejects(run(other), /has input shape \(batch, 4\); an obfuscator's is \(batch, 161, time\)/);
  await assert.rejects(
    grant.run({ task: 'speaker', model, tokens: path.join(dir, 'no', 'such', 'dir.json'), list: false }, []),
    /the folder .*no.*such does not exist/,
  );
});

test('obfuscate refuses bad flags naming them, and names a WAV with an impossible sample rate', async () => {
  const wav = path.join(dir, 'ok.wav');
  writeFileSync(wav, encodeWav(tone, 16000));
  const base = { model, in: wav, out: path.join(dir, 'o.wav'), threads: 1 };
  for (const [extra, re] of [
    [{ threads: -3 }, /--threads must be/],
    [{ window: 2 }, /--window must be/],
    [{ lookahead: 40 }, /--lookahead 40 is more than a quarter of the window \(W = 16 frames\)/],
    [{ format: 'frames' }, /--format frames applies to stream mode/],
    [{ phase: 'original' }, /--phase must be one of/],
  ] as const) {
    await assert.rejects(obfuscate.run({ ...base, ...extra }, []), re);
  }
  const ghz = encodeWav(tone, 16000);
  new DataView(ghz.buffer).setUint32(24, 2_000_000_000, true);
  writeFileSync(path.join(dir, 'ghz.wav'), ghz);
  await assert.rejects(obfuscate.run({ ...base, in: path.join(dir, 'ghz.wav') }, []), /ghz\.wav/);
});

test('an arecord failure shows its whole stderr, cut only at a line end', async () => {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const lines = Array.from(
    { length: 12 },
    (_, i) => `ALSA lib pcm.c:${2600 + i}:(snd_pcm_open_noupdate) Unknown PCM default, settings line ${i}`,
  );
  writeFileSync(
    path.join(bin, 'arecord'),
    `#!/bin/sh\n[ "$1" = "--version" ] && exit 0\ncat >&2 <<'EOF'\n${lines.join('\n')}\nEOF\nexit 1\n`,
  );
  chmodSync(path.join(bin, 'arecord'), 0o755);
  const saved = process.env['PATH'];
  process.env['PATH'] = `${bin}:${saved ?? ''}`;
  try {
    const src = arecordSource();
    await assert.rejects(
      async () => {
        for await (const _ of src.chunks(new AbortController().signal)) void _;
      },
      (e: Error) => /arecord stopped \(exit code 1\)/.test(e.message) && lines.every((l) => e.message.includes(l)),
    );
  } finally {
    process.env['PATH'] = saved;
  }
});
