// The privacy sensor with real WebSocket clients on 127.0.0.1 (ephemeral port): refusals (no token,
// wrong token, revoked token, too many clients, wrong path), 20 clients receiving identical streams, no
// route serving raw audio, oversize and flooding clients cut off while the others keep receiving, and
// revoked clients disconnected. Every wait is bounded; the sensor is closed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { encodeModel } from '../src/edge/onnx.js';
import { encodePcm16 } from '../src/edge/pcm.js';
import { PrivacySensor } from '../src/edge/service.js';
import { arraySource } from '../src/edge/sources.js';
import { TokenStore } from '../src/edge/tokens.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'earmark-edge-'));
const store = new TokenStore(path.join(dir, 'tokens.json'));
const signal = Float32Array.from(
  { length: 32000 },
  (_, i) => 0.3 * Math.sin(i * 0.05) * Math.sin(i * 0.0007) + 0.05 * Math.sin(i * 1.3),
);
let sensor: PrivacySensor;
let tokenA = '';
let tokenB = '';

before(async () => {
  const tensors = memory().numTensors;
  manualSeed(4);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 4, residualBlocks: 1 }));
  writeFileSync(path.join(dir, 'speaker.onnx'), encodeModel(exportGenerator(g.config, plainStateDict(g))));
  g.dispose();
  assert.equal(memory().numTensors, tensors);
  tokenA = store.grant('speaker', path.join(dir, 'speaker.onnx')).token;
  tokenB = store.grant('speaker', path.join(dir, 'speaker.onnx')).token;
  sensor = await PrivacySensor.start({
    source: arraySource('test tone', signal, 50, 8),
    tokens: store,
    port: 0,
    maxClients: 22,
    maxMessageBytes: 1024,
    maxMessagesPerSecond: 5,
    checkIntervalMs: 100,
    window: { windowFrames: 16, lookaheadFrames: 2 },
  });
});

after(async () => {
  await sensor.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Conn {
  ws: WebSocket;
  hello: Promise<Record<string, unknown>>;
  messages: Map<number, Buffer>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Open a client; resolves when the upgrade succeeds, rejects with the HTTP status when refused. */
function connect(token: string | null, query = ''): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
    const ws = new WebSocket(`${sensor.url}${query}`, { headers });
    const messages = new Map<number, Buffer>();
    let onHello: (v: Record<string, unknown>) => void = () => undefined;
    const hello = new Promise<Record<string, unknown>>((r) => {
      onHello = r;
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        onHello(JSON.parse(data.toString()) as Record<string, unknown>);
        return;
      }
      messages.set(data.readUInt32LE(0), data.subarray(4));
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () => resolve({ ws, hello, messages, closed }));
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('no token, a malformed or wrong token, and a wrong path are refused at the upgrade', async () => {
  await assert.rejects(connect(null), /HTTP 401/);
  await assert.rejects(connect('not-a-token'), /HTTP 403/);
  const wrongSecret = tokenA.slice(0, -4) + (tokenA.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  await assert.rejects(connect(wrongSecret), /HTTP 403/);
  const stored = readFileSync(store.file, 'utf8');
  assert.ok(!stored.includes(tokenA.split('_').slice(2).join('_')), 'the store must not contain the token secret'); // the base64url secret may hold '_'
  const ws = new WebSocket(sensor.url.replace('/stream', '/raw'), { headers: { Authorization: `Bearer ${tokenA}` } });
  const status = await new Promise<number>((r) => {
    ws.on('unexpected-response', (_q, res) => {
      r(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => r(-1));
  });
  assert.equal(status, 404);
});

test('20 concurrent authorised clients receive identical obfuscated streams; no HTTP route returns audio', async () => {
  const conns = await Promise.all(Array.from({ length: 20 }, () => connect(tokenA)));
  const hello = await conns[0]!.hello;
  assert.equal(hello['task'], 'speaker');
  await waitFor(() => conns.every((c) => c.messages.size >= 6), 15000, '6 messages on every client');
  const seqs = [...conns[0]!.messages.keys()].filter((s) => conns.every((c) => c.messages.has(s)));
  assert.ok(seqs.length >= 3, `common sequence numbers: ${seqs.length}`);
  for (const s of seqs)
    for (const c of conns) assert.deepEqual(c.messages.get(s), conns[0]!.messages.get(s), `seq ${s}`);
  // the payload is obfuscated audio, not the source
  const raw = Buffer.from(encodePcm16(signal));
  for (const s of seqs)
    assert.equal(raw.indexOf(conns[0]!.messages.get(s)!.subarray(0, 64)), -1, 'a payload matches the raw source');
  for (const route of ['/', '/health', '/stream', '/raw', '/audio', '/stream.wav', '/source']) {
    const res = await fetch(`http://127.0.0.1:${sensor.port}${route}`);
    const type = res.headers.get('content-type') ?? '';
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(!/audio|octet-stream/.test(type), `${route} served ${type}`);
    assert.ok(body.length < 2000, `${route} returned ${body.length} bytes`);
    if (route === '/health') {
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(body.toString()), { ok: true }, 'without a token /health says nothing but ok');
    } else assert.equal(res.status, 404, route);
  }
  const h = (await (
    await fetch(`http://127.0.0.1:${sensor.port}/health`, { headers: { Authorization: `Bearer ${tokenA}` } })
  ).json()) as Record<string, unknown>;
  assert.equal(h['status'], 'ok');
  assert.equal(h['clients'], 20);
  assert.equal(h['task'], 'speaker');
  assert.ok(!JSON.stringify(h).includes('test tone'), 'health shows the source name');
  const extra = await Promise.allSettled([connect(tokenA), connect(tokenA), connect(tokenA)]); // 22 at most
  assert.deepEqual(extra.map((r) => r.status).sort(), ['fulfilled', 'fulfilled', 'rejected']);
  assert.match(String((extra.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason), /HTTP 503/);
  for (const r of extra) if (r.status === 'fulfilled') conns.push(r.value);
  for (const c of conns) c.ws.close();
  await Promise.all(conns.map((c) => c.closed));
});

test('oversize and flooding clients are cut off while a well-behaved client keeps receiving', async () => {
  const good = await connect(tokenA);
  const big = await connect(tokenA);
  const flood = await connect(tokenA, '?format=frames');
  big.ws.send(Buffer.alloc(4096));
  assert.equal((await big.closed).code, 1009);
  for (let i = 0; i < 20; i++) flood.ws.send('ping');
  assert.equal((await flood.closed).code, 1008);
  const n = good.messages.size;
  await waitFor(() => good.messages.size >= n + 3, 10000, 'the good client to keep receiving');
  good.ws.close();
  await good.closed;
});

test('a revoked token is refused and its connected clients are disconnected (4001); other grants keep streaming', async () => {
  const a = await connect(tokenA);
  const b = await connect(tokenB);
  await waitFor(() => a.messages.size >= 1 && b.messages.size >= 1, 10000, 'first messages');
  store.revoke(tokenA);
  const closed = await Promise.race([
    a.closed,
    new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -1 }), 5000)),
  ]);
  assert.equal(closed.code, 4001);
  await assert.rejects(connect(tokenA), /HTTP 403/);
  const n = b.messages.size;
  await waitFor(() => b.messages.size >= n + 2, 10000, 'grant B to keep streaming');
  const res = await fetch(`http://127.0.0.1:${sensor.port}/health`);
  assert.equal(res.status, 200);
  b.ws.close();
  await b.closed;
});
