// Takes docs/web-demo.png: `earmark web`'s demo page in headless Chromium, a sentence spoken by espeak-ng as
// the (fake) microphone, the grant clicked inside the sensor frame, the page captured after 6 s.
// Usage: node scripts/web-screenshot.mjs [model.onnx [task]] — default: a randomly initialised C=32 R=3 obfuscator.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportGenerator } from '../dist/src/edge/export-obfuscator.js';
import { encodeModel } from '../dist/src/edge/onnx.js';
import { plainStateDict } from '../dist/src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../dist/src/models/cyclegan-vc2.js';
import { manualSeed } from '../dist/src/tensor/index.js';
import { buildWeb } from '../dist/src/web/build.js';
import { fakeMicrophoneFlags, grantInDemo, launchChromium } from '../dist/src/web/chromium.js';
import { describeModel } from '../dist/src/web/models.js';
import { WebDemoServer } from '../dist/src/web/server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'earmark-shot-'));
let model = process.argv[2];
const task = process.argv[3] ?? (model ? undefined : 'speaker');
if (!model) {
  manualSeed(0);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 32, residualBlocks: 3 })).eval();
  model = path.join(dir, 'random-weights-C32-R3.onnx');
  writeFileSync(model, encodeModel(exportGenerator(g.config, plainStateDict(g))));
  g.dispose();
}
const wav = path.join(dir, 'mic.wav');
execFileSync('espeak-ng', [
  '-v',
  'en-us',
  '-s',
  '150',
  '-w',
  wav,
  'The privacy sensor runs in the browser. The app hears only the task you grant, never your voice.',
]);
await buildWeb();
const server = await WebDemoServer.start({ models: [describeModel(model, 'm0', task)], port: 0, sensorPort: 0 });
const browser = await launchChromium(fakeMicrophoneFlags(wav));
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  await grantInDemo(page, server.appUrl, server.sensorUrl, 'm0');
  await page.waitForFunction(() => globalThis.earmarkDemo.got.stats.some((s) => s.seconds >= 6), null, {
    timeout: 60_000,
  });
  const out = path.resolve('docs', 'web-demo.png');
  await page.screenshot({ path: out, fullPage: true });
  const s = await page.evaluate(() => globalThis.earmarkDemo.got.stats.at(-1));
  console.log(
    `${out}: latency ${s.latencyMs.toFixed(0)} ms (windowed rule ${s.algorithmicLatencyMs.toFixed(0)} ms), ` +
      `real-time factor ${s.realTimeFactor.toFixed(3)}, load ${os.loadavg()[0].toFixed(1)}`,
  );
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
