// The sensor's Worker: onnxruntime-web runs the obfuscator under src/edge's StreamingObfuscator (the same
// windowed rule and DS2 front-end as the Node runtime, so a browser stream equals obfuscateOffline).
// Audio arrives from the capture worklet through a MessagePort, already 16 kHz mono; obfuscated frames,
// obfuscated audio and measured speed go to the sensor frame, which alone decides what the app gets.
import { StreamingObfuscator, algorithmicLatency, obfuscateOffline, type StreamOutput } from '../../edge/obfuscate.js';
import { Ds2Frontend, type FrameSpectrum } from '../../edge/spectrogram.js';
import type { SensorStats } from '../protocol.js';
import { speechLike } from '../signal.js';
import type { FrameToWorker, WorkerToFrame, WorkletToWorker } from './internal.js';
import { WebSession } from './ort-web.js';

const RATE = 16000;
/** Samples per worklet block (20 ms); the latency figure of the hello message assumes it. */
const BLOCK = 320;

const scope = self as unknown as {
  postMessage(m: WorkerToFrame, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<FrameToWorker>) => void) | null;
};
const post = (m: WorkerToFrame, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
/** Wall time comparable across the frame, the Worker and the app page (ms since the epoch, sub-ms). */
const now = (): number => performance.timeOrigin + performance.now();

/** log1p|STFT| of the raw stream as it arrives, for the "before" view only (no windows, no model). */
class LiveSpectrum {
  readonly #fe = new Ds2Frontend();
  readonly #spec: FrameSpectrum = { logMag: new Float32Array(161), phase: new Float32Array(161) };
  #buf = new Float32Array(0);
  #base = 0;
  #next = 0;

  push(x: Float32Array): { count: number; frames: Float32Array } {
    const fe = this.#fe;
    const merged = new Float32Array(this.#buf.length + x.length);
    merged.set(this.#buf);
    merged.set(x, this.#buf.length);
    this.#buf = merged;
    const received = this.#base + this.#buf.length;
    const ready = received <= fe.nFft / 2 ? 0 : Math.floor((received - fe.nFft / 2) / fe.hop) + 1;
    const count = Math.max(0, ready - this.#next);
    const frames = new Float32Array(count * fe.nFreq);
    for (let i = 0; i < count; i++) {
      fe.frame(this.#buf, this.#next + i, this.#spec, 0, 1, this.#base, Number.MAX_SAFE_INTEGER);
      frames.set(this.#spec.logMag, i * fe.nFreq);
    }
    this.#next = ready;
    const keepFrom = Math.max(0, ready * fe.hop - fe.nFft);
    if (keepFrom > this.#base + 4 * fe.nFft) {
      this.#buf = this.#buf.slice(keepFrom - this.#base);
      this.#base = keepFrom;
    }
    return { count, frames };
  }
}

/** The stream's state between init and end. */
interface Live {
  stream: StreamingObfuscator;
  view: LiveSpectrum;
  /** Wall time of sample 0: the earliest (arrival − duration so far) over all blocks (see capturedAt). */
  t0: number;
  received: number;
  framesOut: number;
  samplesOut: number;
  computeMs: number;
  latencies: number[];
  lastStats: number;
  algorithmicMs: number;
  capture: Float32Array[] | null;
}

let session: WebSession | null = null;
let live: Live | null = null;
let chain: Promise<void> = Promise.resolve();

/** Messages are handled one at a time, in order (each push awaits the model). */
function queue(fn: () => Promise<void> | void): void {
  chain = chain.then(fn).catch((e: unknown) => post({ type: 'error', message: (e as Error).message ?? String(e) }));
}

async function init(m: Extract<FrameToWorker, { type: 'init' }>): Promise<void> {
  session = await WebSession.load(new Uint8Array(m.model), { wasmBase: m.wasmBase, threads: m.threads });
  const s = session;
  // one warm-up forward, so that the first real window does not pay onnxruntime's first-run set-up
  await s.run({ data: new Float32Array(161 * m.window.windowFrames), dims: [1, 161, m.window.windowFrames] });
  const algorithmicMs = (1000 * algorithmicLatency(m.window, BLOCK)) / RATE;
  live = {
    stream: new StreamingObfuscator((x) => s.run(x), m.window, { audio: m.audio }),
    view: new LiveSpectrum(),
    t0: Infinity,
    received: 0,
    framesOut: 0,
    samplesOut: 0,
    computeMs: 0,
    latencies: [],
    lastStats: 0,
    algorithmicMs,
    capture: m.keepCapture ? [] : null,
  };
  post({ type: 'ready', backend: `${s.backend}, in a Worker`, latencyMs: Math.round(algorithmicMs) });
}

/**
 * When sample i was captured. The audio clock puts it at t0 + (i + 1)/16 kHz; t0 is estimated as the
 * earliest (arrival − samples so far / 16 kHz) over all blocks, because a block may reach the Worker late
 * (its event loop is busy in the model) but never before it was recorded.
 */
function capturedAt(l: Live, i: number): number {
  return l.t0 + (1000 * (i + 1)) / RATE;
}

/** Send a push's output to the frame; `final` (the flush after the microphone stopped) is left out of the latency. */
function emit(l: Live, out: StreamOutput, final = false): void {
  const at = now();
  const hop = 160;
  const first = l.framesOut;
  if (!final)
    for (let t = first; t < first + out.frameCount; t++)
      l.latencies.push(at - capturedAt(l, Math.min(t * hop, l.received - 1)));
  if (l.latencies.length > 100) l.latencies.splice(0, l.latencies.length - 100);
  const newest = Math.min((first + out.frameCount - 1) * hop, l.received - 1);
  if (out.frameCount > 0 || out.audio.length > 0) {
    // copied, not transferred: the stream may hand out views of buffers it keeps
    post({
      type: 'out',
      first,
      count: out.frameCount,
      frames: out.frames,
      audioFirst: l.samplesOut,
      audio: out.audio,
      capturedAt: capturedAt(l, newest),
    });
  }
  l.framesOut += out.frameCount;
  l.samplesOut += out.audio.length;
  const seconds = l.received / RATE;
  if (seconds - l.lastStats >= 0.5 && l.latencies.length) {
    l.lastStats = seconds;
    const stats: SensorStats = {
      latencyMs: Math.max(...l.latencies),
      meanLatencyMs: l.latencies.reduce((a, b) => a + b, 0) / l.latencies.length,
      algorithmicLatencyMs: l.algorithmicMs,
      realTimeFactor: l.computeMs / 1000 / seconds,
      msPerSecond: l.computeMs / seconds,
      seconds,
    };
    post({ type: 'stats', stats });
  }
}

async function onAudio(m: WorkletToWorker, at: number): Promise<void> {
  const l = live;
  if (l === null) return;
  if (m.type === 'end') {
    const t0 = performance.now();
    const out = await l.stream.end();
    l.computeMs += performance.now() - t0;
    emit(l, out, true);
    const capture = l.capture === null ? undefined : concat(l.capture);
    post({ type: 'ended', frames: l.framesOut, samples: l.received, ...(capture ? { capture } : {}) });
    live = null;
    await session?.close();
    session = null;
    return;
  }
  const x = m.samples;
  l.received += x.length;
  l.t0 = Math.min(l.t0, at - (1000 * l.received) / RATE);
  l.capture?.push(x.slice());
  const view = l.view.push(x);
  if (view.count) post({ type: 'input', ...view }, [view.frames.buffer]);
  const t0 = performance.now();
  const out = await l.stream.push(x);
  l.computeMs += performance.now() - t0;
  emit(l, out);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The in-browser half of `npm run bench`: obfuscateOffline on speechLike(seconds), timed here. The session
 * is loaded (and warmed up) by the first bench message and reused, so the bench can alternate with Node. */
let benchSession: WebSession | null = null;

async function bench(m: Extract<FrameToWorker, { type: 'bench' }>): Promise<void> {
  const x = speechLike(m.seconds);
  const win = { data: x.subarray(0, 161 * m.window.windowFrames).slice(), dims: [1, 161, m.window.windowFrames] };
  if (benchSession === null) {
    benchSession = await WebSession.load(new Uint8Array(m.model), { wasmBase: m.wasmBase, threads: m.threads });
    await benchSession.run(win);
  }
  const s = benchSession;
  const forward = (a: { data: Float32Array; dims: number[] }): Promise<{ data: Float32Array; dims: number[] }> =>
    s.run(a);
  const times: number[] = [];
  for (let r = 0; r < m.repeats; r++) {
    const t0 = performance.now();
    await obfuscateOffline(forward, x, m.window);
    times.push(performance.now() - t0);
  }
  const wins: number[] = [];
  for (let r = 0; r < 5 * m.repeats; r++) {
    const t0 = performance.now();
    await s.run(win);
    wins.push(performance.now() - t0);
  }
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  post({
    type: 'bench',
    result: {
      backend: s.backend,
      seconds: m.seconds,
      msPerSecond: median(times) / m.seconds,
      bestMsPerSecond: Math.min(...times) / m.seconds,
      windowMs: median(wins),
    },
  });
}

scope.onmessage = (e: MessageEvent<FrameToWorker>): void => {
  const m = e.data;
  if (m.type === 'init') queue(() => init(m));
  else if (m.type === 'bench') queue(() => bench(m));
  else if (m.type === 'port')
    m.port.onmessage = (ev: MessageEvent<WorkletToWorker>): void => {
      const at = now();
      queue(() => onAudio(ev.data, at));
    };
};
