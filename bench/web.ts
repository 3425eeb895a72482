// Web section of `npm run bench` (issue 13): the obfuscator (default preset C=32, R=3, random weights: speed
// does not depend on them) in headless Chromium — onnxruntime-web wasm (SIMD), 1 thread, in the sensor's
// Worker, under src/edge's windowed rule — next to onnxruntime-node on 1 thread, same model bytes, same
// 10 s of speechLike audio, same code path (obfuscateOffline: TS front-end + windowed model + resynthesis).
// Browser and Node rounds alternate, so load swings hit both alike. Then the live path: the demo app,
// a WAV as the fake microphone, the user's grant, and the sensor's own measured latency and real-time factor.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { obfuscateOffline, WINDOW_DEFAULTS } from '../src/edge/obfuscate.js';
import { encodeModel } from '../src/edge/onnx.js';
import { OnnxSession } from '../src/edge/runtime.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed } from '../src/tensor/index.js';
import { buildWeb } from '../src/web/build.js';
import { fakeMicrophoneFlags, findChromium, grantInDemo, launchChromium } from '../src/web/chromium.js';
import { describeModel } from '../src/web/models.js';
import type { SensorStats } from '../src/web/protocol.js';
import { WebDemoServer } from '../src/web/server.js';
import { speechLike } from '../src/web/signal.js';
import { formatValue, median } from './format.js';
import type { BenchRow } from './types.js';

const SECTION = 'web';
const SECONDS = 10;
const ROUNDS = 5;

interface BrowserRound {
  msPerSecond: number;
  windowMs: number;
  backend: string;
}

export async function benchWeb(): Promise<BenchRow[]> {
  if (findChromium() === null) {
    return [
      {
        section: SECTION,
        name: 'obfuscator in headless Chromium',
        value: NaN,
        unit: 'ms / s audio',
        note: 'skipped: no Chromium (apt-get install chromium)',
      },
    ];
  }
  const rows: BenchRow[] = [];
  manualSeed(0);
  const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 32, residualBlocks: 3 })).eval();
  const bytes = encodeModel(exportGenerator(g.config, plainStateDict(g)));
  g.dispose();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'earmark-bench-web-'));
  const modelFile = path.join(dir, 'obfuscator.onnx');
  writeFileSync(modelFile, bytes);
  const wav = path.join(dir, 'mic.wav');
  writeFileSync(wav, encodeWav(speechLike(8, 7), 16000));

  const session = await OnnxSession.load(bytes, { threads: 1 });
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    session.run(a);
  const x = speechLike(SECONDS);
  const win = { data: x.subarray(0, 161 * 128).slice(), dims: [1, 161, 128] };
  await buildWeb();
  const server = await WebDemoServer.start({
    models: [describeModel(modelFile, 'm0', 'bench')],
    port: 0,
    sensorPort: 0,
  });
  const browser = await launchChromium(fakeMicrophoneFlags(wav));
  try {
    const page = await browser.newPage();
    await page.goto(`${server.sensorUrl}bench.html?model=m0&seconds=${SECONDS}`);
    await page.waitForFunction(() => (globalThis as any).earmarkBench !== undefined);
    const browserRound = (): Promise<BrowserRound> => page.evaluate(() => (globalThis as any).earmarkBench.run(1));
    await browserRound(); // loads and warms the session
    await obfuscateOffline(forward, x, WINDOW_DEFAULTS);
    const node: number[] = [];
    const nodeWin: number[] = [];
    const web: BrowserRound[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = performance.now();
      await obfuscateOffline(forward, x, WINDOW_DEFAULTS);
      node.push((performance.now() - t0) / SECONDS);
      for (let i = 0; i < 5; i++) {
        t0 = performance.now();
        await session.run(win);
        nodeWin.push(performance.now() - t0);
      }
      web.push(await browserRound());
    }
    const nodeMs = median(node);
    const webMs = median(web.map((w) => w.msPerSecond));
    const chromium = `Chromium ${browser.version()}`;
    const load = `load ${os.loadavg()[0]!.toFixed(1)}`;
    rows.push({
      section: SECTION,
      name: 'obfuscator C=32 R=3, onnxruntime-node, 1 thread (whole pipeline)',
      value: nodeMs,
      unit: 'ms / s audio',
      note:
        `real-time factor ${formatValue(nodeMs / 1000)}; best ${formatValue(Math.min(...node))}; ` +
        `${SECONDS} s input, ${ROUNDS} rounds; ${load}`,
    });
    rows.push({
      section: SECTION,
      name: 'same, in headless Chromium (onnxruntime-web wasm SIMD, 1 thread, Worker)',
      value: webMs,
      unit: 'ms / s audio',
      note:
        `real-time factor ${formatValue(webMs / 1000)}; ` +
        `best ${formatValue(Math.min(...web.map((w) => w.msPerSecond)))}; ${chromium}; ${web[0]!.backend}`,
    });
    rows.push({
      section: SECTION,
      name: 'in-browser / onnxruntime-node',
      value: webMs / nodeMs,
      unit: 'x',
      note: 'rounds alternate browser and Node',
    });
    const nodeW = median(nodeWin);
    const webW = median(web.map((w) => w.windowMs));
    rows.push({
      section: SECTION,
      name: 'one (1, 161, 128) window: onnxruntime-node / in-browser',
      value: nodeW,
      unit: 'ms',
      note: `in-browser ${formatValue(webW)} ms (${formatValue(webW / nodeW)}x)`,
    });

    // the live path: fake microphone → worklet → Worker → app, as the demo runs it
    const demo = await browser.newPage();
    await grantInDemo(demo, server.appUrl, server.sensorUrl, 'm0');
    await demo.waitForFunction(
      () => (globalThis as any).earmarkDemo.got.stats.some((s: { seconds: number }) => s.seconds >= 6),
      null,
      { timeout: 60_000 },
    );
    const stats = (await demo.evaluate(() => (globalThis as any).earmarkDemo.got.stats.at(-1))) as SensorStats;
    rows.push({
      section: SECTION,
      name: 'live in-browser stream: measured latency (worst of the last 100 frames)',
      value: stats.latencyMs,
      unit: 'ms',
      note:
        `mean ${formatValue(stats.meanLatencyMs)} ms; windowed rule ${formatValue(stats.algorithmicLatencyMs)} ms ` +
        `(W=128 M=16, 20 ms blocks); after ${formatValue(stats.seconds)} s`,
    });
    rows.push({
      section: SECTION,
      name: 'live in-browser stream: real-time factor',
      value: stats.realTimeFactor,
      unit: 'x real time',
      note:
        `${formatValue(stats.msPerSecond)} ms per second of audio ` +
        `(front-end + model + resynthesis in the Worker); ${load}`,
    });
  } finally {
    await browser.close();
    await server.close();
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// run alone: node dist/bench/web.js
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import('./format.js');
  console.log(formatTable(await benchWeb()));
}
