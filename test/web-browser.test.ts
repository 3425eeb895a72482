// The browser sensor in real headless Chromium (Debian's chromium through playwright-core): a known WAV is
// the microphone (Chromium's fake capture device), the demo app page embeds the sensor frame from the
// second origin, the user's grant is a click inside the frame, and then:
// (a) the obfuscated frames and PCM the app received equal src/edge's obfuscateOffline under
//     onnxruntime-node on the 16 kHz samples the capture worklet produced, and those samples are the
//     WAV (normalised cross-correlation after finding the fake device's offset in the looped file);
// (b) nothing reachable from the app returns input samples: the sensor object's whole surface is known,
//     its values are metadata, obfuscated frames or a MediaStream that is not the microphone, the frame's
//     document and globals throw SecurityError, and the app page never called getUserMedia;
// (c) the page works with the network blocked: every request not to loopback is aborted (and would not
//     resolve: --host-resolver-rules), and none was made.
// Then the sensor in its own top-level window (createSensor mode 'window'), the microphone permission
// granted to the sensor's origin only: the stream reaches the app, and the app page's own getUserMedia
// is refused. (In 'frame' mode Chromium keys the permission to the app's site, so the app could open the
// microphone itself; docs/web.md says so.)
import { test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../src/audio/io.js';
import { exportGenerator } from '../src/edge/export-obfuscator.js';
import { obfuscateOffline } from '../src/edge/obfuscate.js';
import { encodeModel } from '../src/edge/onnx.js';
import { OnnxSession } from '../src/edge/runtime.js';
import { Fft } from '../src/edge/spectrogram.js';
import { reanalyzePcm, spectralConvergence } from '../src/edge/synthesis.js';
import { plainStateDict } from '../src/deploy/export.js';
import { CycleGanVc2Generator, resolveCycleGanVc2Config } from '../src/models/cyclegan-vc2.js';
import { manualSeed, memory } from '../src/tensor/index.js';
import { buildWeb } from '../src/web/build.js';
import { fakeMicrophoneFlags, findChromium, grantInDemo, launchChromium } from '../src/web/chromium.js';
import { describeModel } from '../src/web/models.js';
import { WebDemoServer } from '../src/web/server.js';
import { speechLike } from '../src/web/signal.js';

const CHROMIUM = findChromium();
const SKIP =
  CHROMIUM === null
    ? 'no Chromium found (apt-get install chromium; scripts/apt-packages.txt lists it): browser tests skipped'
    : false;
/** Frames the app must have received before the test stops the microphone: two windows of the stream (W=128, M=16). */
const FRAMES = 208;

const isLoopback = (url: string): boolean =>
  /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url) || /^(data|blob):/.test(url);

/**
 * Normalised cross-correlation of `seg` against `x` looped, best over every lag (FFT-based: x·conj(seg)
 * over 2^17 points, the window energies of x from prefix sums).
 */
function bestLag(x: Float32Array, seg: Float32Array): { lag: number; corr: number } {
  const n = 1 << 17;
  if (x.length + seg.length > n) throw new RangeError('bestLag: signal too long for the 2^17-point FFT');
  const fft = new Fft(n);
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  for (let i = 0; i < x.length + seg.length; i++) xr[i] = x[i % x.length]!;
  const sr = new Float64Array(n);
  const si = new Float64Array(n);
  sr.set(seg);
  fft.transform(xr, xi);
  fft.transform(sr, si);
  for (let k = 0; k < n; k++) {
    const re = xr[k]! * sr[k]! + xi[k]! * si[k]!; // X · conj(S)
    const im = xi[k]! * sr[k]! - xr[k]! * si[k]!;
    xr[k] = re;
    xi[k] = im;
  }
  fft.transform(xr, xi, true);
  let segNorm = 0;
  for (const v of seg) segNorm += v * v;
  const prefix = new Float64Array(x.length + seg.length + 1);
  for (let i = 0; i < x.length + seg.length; i++) prefix[i + 1] = prefix[i]! + x[i % x.length]! ** 2;
  let best = { lag: 0, corr: -1 };
  for (let lag = 0; lag < x.length; lag++) {
    const c = xr[lag]! / n / Math.sqrt((prefix[lag + seg.length]! - prefix[lag]!) * segNorm + 1e-20);
    if (c > best.corr) best = { lag, corr: c };
  }
  return best;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test(
  'in Chromium: microphone → sensor → app gets frames and PCM equal to Node offline; ' +
    'no raw input reachable; no network; window mode',
  { skip: SKIP, timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'earmark-web-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const before = memory().numTensors;
    manualSeed(3);
    const g = new CycleGanVc2Generator(resolveCycleGanVc2Config({ channels: 8, residualBlocks: 1 }));
    const bytes = encodeModel(exportGenerator(g.config, plainStateDict(g)));
    g.dispose();
    assert.equal(memory().numTensors, before);
    const modelFile = path.join(dir, 'obfuscator.onnx');
    writeFileSync(modelFile, bytes);
    const wavSamples = speechLike(4, 7);
    const wav = path.join(dir, 'mic.wav');
    writeFileSync(wav, encodeWav(wavSamples, 16000));
    const wavGrid = wavSamples.map((v) => Math.round(v * 32768) / 32768); // what the 16-bit file holds

    await buildWeb();
    const model = describeModel(modelFile, 'm0', 'speaker');
    const server = await WebDemoServer.start({ models: [model], port: 0, sensorPort: 0, keepCapture: true });
    // no auto-accepted prompts: each context holds the microphone permission where Chromium would
    // store the user's grant
    const browser = await launchChromium(fakeMicrophoneFlags(wav, { acceptPrompts: false }));
    const appOrigin = new URL(server.appUrl).origin;
    const sensorOrigin = new URL(server.sensorUrl).origin;
    const requests: string[] = [];
    const blocked: string[] = [];
    /** A context that records every request, aborts any not to loopback, and counts the app's getUserMedia calls. */
    const newContext = async (micFor: string): Promise<BrowserContext> => {
      const context = await browser.newContext();
      await context.grantPermissions(['microphone'], { origin: micFor });
      context.on('request', (r) => {
        requests.push(r.url());
      });
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (isLoopback(url)) return route.continue();
        blocked.push(url);
        return route.abort('internetdisconnected');
      });
      // (in-page callbacks reach the DOM through `w`, typed loosely: this file compiles without the DOM library)
      await context.addInitScript(() => {
        const w: any = globalThis;
        if (w !== w.top || w.opener !== null) return; // the app page only, not the sensor frame or window
        w.earmarkTestGum = 0;
        const md = w.navigator.mediaDevices;
        const orig = md.getUserMedia.bind(md);
        md.getUserMedia = (c: unknown): Promise<unknown> => {
          w.earmarkTestGum++;
          return orig(c);
        };
      });
      return context;
    };
    try {
      // 'frame' mode: Chromium attributes an embedded frame's microphone to the top-level site, the app
      const context = await newContext(appOrigin);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`app page: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      const frame = await grantInDemo(page, server.appUrl, server.sensorUrl, 'm0', async (consent) => {
        assert.equal(
          await consent.textContent('#ask'),
          `${appOrigin} asks for the obfuscated frames and PCM of one task. ` +
            "It never receives the microphone's samples.",
        );
      });
      await page.waitForFunction(
        (n) => {
          const w: any = globalThis;
          return w.earmarkDemo.got.frames.reduce((a: number, f: { count: number }) => a + f.count, 0) >= n;
        },
        FRAMES,
        { timeout: 40_000, polling: 100 },
      );

      // (b) the app's view of the sensor, while it runs
      const surface = await page.evaluate(() => {
        const w: any = globalThis;
        const s = w.earmarkDemo.sensor;
        const keys: string[] = [];
        for (
          let o: object | null = s;
          o !== null && o !== Object.prototype;
          o = Object.getPrototypeOf(o) as object | null
        )
          keys.push(...Reflect.ownKeys(o).map(String));
        const found: string[] = [];
        const seen = new Set<unknown>();
        const walk = (v: unknown, at: string, depth: number): void => {
          if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 8) return;
          seen.add(v);
          if (ArrayBuffer.isView(v)) {
            found.push(`${at}: ${v.constructor.name}`);
            return;
          }
          if (typeof v === 'function') return;
          for (const k of Reflect.ownKeys(v))
            walk((v as Record<string | symbol, unknown>)[k], `${at}.${String(k)}`, depth + 1);
        };
        for (const k of ['origin', 'isolated', 'state', 'hello']) walk(s[k], k, 0);
        const stream = s.mediaStream();
        const iframe = w.document.querySelector('iframe');
        const probe = (fn: () => unknown): string => {
          try {
            fn();
            return 'readable';
          } catch (e) {
            return (e as Error).name;
          }
        };
        return {
          keys: [...new Set(keys)].sort(),
          found,
          values: { origin: s['origin'], isolated: s['isolated'], state: s['state'] },
          streamTracks: stream.getAudioTracks().map((t: { label: string }) => t.label) as string[],
          streamIsMediaStream: stream instanceof w.MediaStream,
          frameDocument: probe(() => iframe.contentWindow.document.body),
          frameCapture: probe(() => iframe.contentWindow.earmarkCapture),
          gum: w.earmarkTestGum as number,
        };
      });
      assert.deepEqual(
        surface.keys,
        ['close', 'constructor', 'hello', 'isolated', 'mediaStream', 'on', 'origin', 'state', 'stop'],
        'the whole API surface',
      );
      assert.deepEqual(surface.found, [], 'no typed array reachable from the sensor object');
      assert.deepEqual(surface.values, { origin: sensorOrigin, isolated: true, state: 'running' });
      assert.equal(surface.streamIsMediaStream, true);
      const micLabel = await frame.evaluate(async () => {
        const w: any = globalThis;
        const devices: { kind: string; label: string }[] = await w.navigator.mediaDevices.enumerateDevices();
        return devices.filter((x) => x.kind === 'audioinput').map((x) => x.label);
      });
      for (const label of surface.streamTracks)
        assert.ok(
          !micLabel.includes(label),
          `the app's MediaStream track '${label}' is not the microphone (${micLabel.join(', ')})`,
        );
      assert.equal(surface.frameDocument, 'SecurityError');
      assert.equal(surface.frameCapture, 'SecurityError');
      assert.equal(surface.gum, 0, 'the app page never called getUserMedia');
      const sameOrigin = await page.evaluate(async () => {
        const url = '/assets/earmark-web.js';
        try {
          (await import(url)).createSensor({ sensorUrl: '/' });
          return 'created';
        } catch (e) {
          return (e as Error).message;
        }
      });
      assert.match(sameOrigin, /is on this page's own origin, so this page's code could read its microphone stream/);

      await page.evaluate(() => (globalThis as any).earmarkDemo.sensor.stop());
      const got = await page.evaluate(() => {
        const d = (globalThis as any).earmarkDemo.got as {
          frames: { first: number; count: number; frames: Float32Array }[];
          pcm: { first: number; samples: Float32Array }[];
          stats: { latencyMs: number; realTimeFactor: number; algorithmicLatencyMs: number }[];
          hello: unknown;
          ended: boolean;
        };
        return {
          firsts: d.frames.map((f) => f.first),
          counts: d.frames.map((f) => f.count),
          pcmFirsts: d.pcm.map((p) => p.first),
          frames: d.frames.flatMap((f) => Array.from(f.frames)),
          pcm: d.pcm.flatMap((p) => Array.from(p.samples)),
          stats: d.stats,
          hello: d.hello,
          ended: d.ended,
        };
      });
      await frame.waitForFunction(() => (globalThis as any).earmarkCapture !== undefined, null, { timeout: 10_000 });
      const capture = Float32Array.from(
        await frame.evaluate(() => Array.from((globalThis as any).earmarkCapture as Float32Array)),
      );
      assert.deepEqual([...errors], []);
      assert.equal(got.ended, true);

      // (a) the captured 16 kHz stream is the WAV (Chromium resamples it to the device rate, we back to 16 kHz);
      // the fake device loops the file and, on a busy machine, glitches now and then, so 0.25 s segments are
      // matched one by one: a few near-perfect matches prove the identity, and the rest is reported
      const segs: number[] = [];
      const step = Math.max(4000, Math.ceil((capture.length - 8000) / 8)); // at most 8 segments
      for (let at = 4000; at + 4000 <= capture.length; at += step)
        segs.push(bestLag(wavGrid, capture.subarray(at, at + 4000)).corr);
      const clean = segs.filter((c) => c > 0.99).length;
      assert.ok(
        clean >= 3 && Math.max(...segs) > 0.995,
        `the worklet's 16 kHz samples are the WAV: segment correlations ${segs.map((c) => c.toFixed(3)).join(' ')}`,
      );
      // … and the app's frames and PCM are obfuscateOffline of it under onnxruntime-node
      const session = await OnnxSession.load(bytes);
      const off = await obfuscateOffline((x) => session.run(x), capture, model.window, true);
      await session.close();
      let next = 0;
      got.firsts.forEach((f, i) => {
        assert.equal(f, next, 'frame batches are contiguous');
        next += got.counts[i]!;
      });
      assert.equal(next, off.frames, `the app received every frame (${next}) of ${capture.length} samples`);
      const offFrameMajor = new Float32Array(off.frames * 161);
      for (let t = 0; t < off.frames; t++)
        for (let k = 0; k < 161; k++) offFrameMajor[t * 161 + k] = off.logMag[k * off.frames + t]!;
      const frameErr = maxAbs(got.frames, offFrameMajor);
      assert.ok(frameErr < 1e-4, `frames: browser vs Node max |Δ| ${frameErr}`);
      assert.equal(got.pcm.length, capture.length);
      // Phase retrieval turns the frames' last-bit differences (onnxruntime-web vs -node) into other
      // waveforms of the same magnitude, so the PCM is compared as an app hears it: both re-analysed
      // through the DS2 front-end, each as close to its obfuscated frames as the other
      const browserPcm = Float32Array.from(got.pcm);
      const gotRowMajor = new Float32Array(off.frames * 161);
      for (let t = 0; t < off.frames; t++)
        for (let k = 0; k < 161; k++) gotRowMajor[k * off.frames + t] = got.frames[t * 161 + k]!;
      const scBrowser = spectralConvergence(gotRowMajor, browserPcm);
      const scNode = spectralConvergence(off.logMag, off.audio!);
      const reB = reanalyzePcm(browserPcm).logMag;
      const reN = reanalyzePcm(off.audio!).logMag;
      let pcmErr = 0;
      for (let i = 0; i < reB.length; i++) pcmErr += Math.abs(reB[i]! - reN[i]!) / reB.length;
      t.diagnostic(
        `PCM re-analysed: spectral convergence browser ${scBrowser.toFixed(4)}, Node ${scNode.toFixed(4)}; mean |Δ log1p| ${pcmErr.toExponential(2)}`,
      );
      assert.ok(
        Math.abs(scBrowser - scNode) < 0.02,
        `PCM: spectral convergence browser ${scBrowser} vs Node ${scNode}`,
      );
      assert.ok(pcmErr < 0.05, `PCM: browser vs Node re-analysed mean |Δ log1p| ${pcmErr}`);
      assert.ok(maxAbs(got.pcm, capture) > 0.05, 'the PCM the app got is not the input');
      const hello = got.hello as { task: string; window: unknown; sampleRate: number; nFreq: number };
      assert.deepEqual(
        [hello.task, hello.sampleRate, hello.nFreq, hello.window],
        ['speaker', 16000, 161, model.window],
      );
      assert.ok(
        got.stats.length > 0 && got.stats.every((s) => s.latencyMs > 0 && s.realTimeFactor > 0 && s.realTimeFactor < 1),
        JSON.stringify(got.stats.at(-1)),
      );
      t.diagnostic(
        `browser = Node: frames max |Δ| ${frameErr.toExponential(2)}, PCM ${pcmErr.toExponential(2)}; ` +
          `${clean}/${segs.length} capture segments match the WAV > 0.99 (best ${Math.max(...segs).toFixed(4)}); ` +
          `last stats ${JSON.stringify(got.stats.at(-1))}`,
      );

      // 'window' mode: the sensor as its own top-level window, opened from the app's click; the microphone
      // permission is the sensor origin's alone, so the app page's own getUserMedia is refused
      const context2 = await newContext(sensorOrigin);
      const app2 = await context2.newPage();
      app2.on('pageerror', (e) => errors.push(`app page (window mode): ${e.message}`));
      await app2.goto(`${server.appUrl}?mode=window`);
      const [popup] = await Promise.all([context2.waitForEvent('page'), app2.click('#connect')]);
      await popup.waitForSelector('#grant:not([disabled])', { timeout: 20_000 });
      assert.equal(new URL(popup.url()).origin, sensorOrigin);
      assert.match((await popup.textContent('#ask')) ?? '', new RegExp(`^${appOrigin.replace(/[.:/]/g, '\\$&')} asks`));
      await popup.click('#grant');
      await app2.waitForFunction(
        () => {
          const w: any = globalThis;
          return w.earmarkDemo.got.frames.reduce((a: number, f: { count: number }) => a + f.count, 0) >= 112;
        },
        null,
        { timeout: 40_000, polling: 100 },
      );
      const win = await app2.evaluate(async () => {
        const w: any = globalThis;
        const s = w.earmarkDemo.sensor;
        let ownMic = 'opened';
        try {
          for (const tr of (await w.navigator.mediaDevices.getUserMedia({ audio: true })).getTracks()) tr.stop();
        } catch (e) {
          ownMic = (e as Error).name;
        }
        await s.stop();
        return { isolated: s.isolated, state: s.state, frames: w.frames.length, ownMic };
      });
      assert.deepEqual(win, { isolated: true, state: 'ended', frames: 0, ownMic: 'NotAllowedError' });
      assert.deepEqual([...errors], []);

      // (c) nothing but loopback was asked for, so nothing was blocked; the worker's runtime fetch was seen
      assert.deepEqual(blocked, []);
      assert.ok(requests.every(isLoopback), requests.filter((u) => !isLoopback(u)).join(', '));
      assert.ok(
        requests.some((u) => u.endsWith('/models/m0.onnx')),
        requests.join('\n'),
      );
    } finally {
      await browser.close();
      await server.close();
    }
  },
);
