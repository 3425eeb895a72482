// `earmark web`'s two origins without a browser: the demo app names the sensor's origin, the sensor's CSP
// lets only that app embed it and connect nowhere else, models.json and the model bytes are served, and
// anything else (paths outside the asset list, the app's bundles from the sensor, bad escapes, POST) is
// refused. Model discovery reads the task from a run's report.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EarmarkError } from '../src/errors.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { encodeModel } from '../src/edge/onnx.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';
import { buildWeb } from '../src/web/build.js';
import { findModels } from '../src/web/models.js';
import { WebDemoServer } from '../src/web/server.js';

test('earmark web: two origins, the sensor CSP, models.json and model bytes; everything else refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-web-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const before = memory().numTensors;
  manualSeed(1);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 2, residualBlocks: 1 }));
  const bytes = encodeModel(
    exportGenerator(g.config, plainStateDict(g), {
      features: { windowFrames: 64, lookaheadFrames: 8, outputMean: 0.2, outputStd: 0.3 },
    }),
  );
  // the window and the fixed output level, as stored in the model's metadata
  const window = { windowFrames: 64, lookaheadFrames: 8, outputMean: 0.2, outputStd: 0.3 };
  g.dispose();
  assert.equal(memory().numTensors, before);
  for (const [run, task] of [
    ['fig4', 'speaker'],
    ['plain', undefined],
  ] as const) {
    mkdirSync(path.join(dir, run));
    writeFileSync(path.join(dir, run, 'obfuscator.onnx'), bytes);
    if (task) writeFileSync(path.join(dir, run, 'report.json'), JSON.stringify({ target: { task } }));
  }
  mkdirSync(path.join(dir, 'empty'));
  const models = findModels(dir);
  assert.deepEqual(
    models.map(({ id, name, task, window }) => ({ id, name, task, window })),
    [
      { id: 'm0', name: 'fig4', task: 'speaker', window },
      { id: 'm1', name: 'plain', task: 'task', window },
    ],
  );
  await assert.rejects(
    WebDemoServer.start({ models: [] }),
    (e: unknown) => e instanceof EarmarkError && /earmark demo.*--model/.test(e.message),
  );

  await buildWeb();
  const web = await WebDemoServer.start({ models, port: 0, sensorPort: 0, appOrigins: ['http://localhost:5173'] });
  try {
    const app = new URL(web.appUrl).origin;
    const sensor = new URL(web.sensorUrl).origin;
    assert.notEqual(new URL(app).hostname, new URL(sensor).hostname, 'two sites on loopback');
    const page = await fetch(web.appUrl);
    assert.match(await page.text(), new RegExp(`<meta name="earmark-sensor" content="${sensor}/"`));
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      new RegExp(`frame-src ${sensor};.*connect-src 'self'`),
    );
    const frame = await fetch(web.sensorUrl);
    const csp = frame.headers.get('content-security-policy') ?? '';
    assert.match(csp, /connect-src 'self';/);
    assert.match(csp, new RegExp(`frame-ancestors 'self' ${app} http://localhost:5173$`));
    assert.match(await frame.text(), /<script type="module" src="assets\/frame.js"><\/script>/);
    const config = (await (await fetch(`${sensor}/models.json`)).json()) as { models: unknown[]; keepCapture: boolean };
    assert.equal(config.models.length, 2);
    assert.equal(config.keepCapture, false);
    const model = await fetch(`${sensor}/models/m1.onnx`);
    assert.deepEqual(new Uint8Array(await model.arrayBuffer()), bytes);
    const wasm = await fetch(`${sensor}/assets/ort/ort-wasm-simd-threaded.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    await wasm.arrayBuffer();
    const status = async (url: string, init?: RequestInit): Promise<number> => (await fetch(url, init)).status;
    assert.equal(await status(`${sensor}/models/m9.onnx`), 404);
    assert.equal(await status(`${sensor}/assets/earmark-web.js`), 404, 'the app module is the app origin’s');
    assert.equal(await status(`${app}/assets/worker.js`), 404, 'the Worker is the sensor origin’s');
    assert.equal(await status(`${sensor}/assets/%2e%2e/%2e%2e/package.json`), 404);
    assert.equal(await status(`${sensor}/assets/%E0%A4%A`), 400);
    assert.equal(await status(`${sensor}/models.json`, { method: 'POST', body: '{}' }), 405);
    await assert.rejects(
      WebDemoServer.start({ models, port: 0, sensorPort: 0, appOrigins: ['http://x/path'] }),
      /--allow-origin 'http:\/\/x\/path' is not an origin/,
    );
  } finally {
    await web.close();
  }
});
