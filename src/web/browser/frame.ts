// The sensor page: the page on the sensor's own origin that an app embeds or opens (createSensor) and the
// only place that holds the microphone. It shows the user which origin asks for which task, and after the
// user's grant it runs microphone → capture worklet (16 kHz) → Worker (onnxruntime-web obfuscator) and
// posts only the obfuscated frames/PCM, the hello and the stats to that origin. The raw MediaStream,
// the 16 kHz samples and the "before" spectrogram never leave this origin; the browser's same-origin
// policy keeps the app's code out of this document.
import {
  PROTOCOL,
  type AppToFrame,
  type FrameToApp,
  type SensorFormat,
  type SensorHello,
  type SensorStats,
  type SensorWindow,
} from '../protocol.js';
import type { FrameToWorker, WorkerToFrame } from './internal.js';
import { SpectrogramView } from './view.js';

/** One entry of the sensor server's /models.json. */
interface ModelInfo {
  id: string;
  name: string;
  task: string;
  window: SensorWindow;
}

interface SensorConfig {
  models: ModelInfo[];
  threads: number;
  /** Tests only: keep the 16 kHz stream in this frame (window.earmarkCapture) after the end. */
  keepCapture: boolean;
}

type ToApp = FrameToApp extends infer M ? (M extends unknown ? Omit<M, 'protocol'> : never) : never;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
/** The app: the embedding page ('frame' mode) or the page that opened this window ('window' mode). */
const peer: Window | null = window.parent !== window ? window.parent : (window.opener as Window | null);
const embedded = peer !== null;
/**
 * The app's origin as the browser reports it, never as the app claims it: the ancestor origin of a
 * frame; for a window, the origin of the opener's first request (MessageEvent.origin is set by the browser).
 */
let appOrigin: string | null =
  window.parent !== window
    ? (location.ancestorOrigins?.[0] ?? (document.referrer ? new URL(document.referrer).origin : null))
    : null;

let config: SensorConfig | null = null;
let request: { task?: string; formats: SensorFormat[] } | null = embedded ? null : { formats: ['frames'] };
let worker: Worker | null = null;
let media: MediaStream | null = null;
let audio: AudioContext | null = null;
let capture: AudioWorkletNode | null = null;
let state: 'idle' | 'starting' | 'running' | 'stopping' | 'ended' = 'idle';
const before = new SpectrogramView($<HTMLCanvasElement>('before'));
const after = new SpectrogramView($<HTMLCanvasElement>('after'));

function toApp(m: ToApp, transfer: Transferable[] = []): void {
  // 'ready' carries nothing, so it may go out before an opener's origin is known
  const target = appOrigin ?? (m.type === 'ready' ? '*' : null);
  if (peer !== null && target !== null) peer.postMessage({ protocol: PROTOCOL, ...m }, target, transfer);
}

function status(text: string): void {
  $('status').textContent = text;
}

/** Report an error to the user and the app, and let go of the microphone, the context and the Worker. */
function fail(message: string): void {
  status(`error: ${message}`);
  toApp({ type: 'error', data: { message } });
  state = 'ended';
  for (const t of media?.getTracks() ?? []) t.stop();
  media = null;
  void audio?.close();
  audio = null;
  worker?.terminate();
  worker = null;
}

/** Fill the consent form once both the config and the app's request are here. */
function renderConsent(): void {
  if (config === null || request === null) return;
  const task = request.task;
  const models = config.models.filter((m) => task === undefined || m.task === task);
  const who = appOrigin ?? 'this page';
  $('ask').textContent =
    `${who} asks for the obfuscated ${request.formats.map((f) => (f === 'pcm' ? 'PCM' : f)).join(' and ')} of ` +
    `${task === undefined ? 'one task' : `the task '${task}'`}. It never receives the microphone's samples.`;
  const select = $<HTMLSelectElement>('model');
  select.replaceChildren(
    ...models.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = `${m.task} · ${m.name}`;
      return o;
    }),
  );
  const grant = $<HTMLButtonElement>('grant');
  grant.disabled = models.length === 0;
  if (models.length === 0) fail(`this sensor has no model for the task '${task}'`);
}

function onWorker(e: MessageEvent<WorkerToFrame>, formats: SensorFormat[]): void {
  const m = e.data;
  if (m.type === 'out') {
    after.push(m.frames, m.count);
    if (formats.includes('frames') && m.count > 0)
      toApp({ type: 'frames', data: { first: m.first, count: m.count, frames: m.frames, capturedAt: m.capturedAt } });
    if (formats.includes('pcm') && m.audio.length > 0)
      toApp({ type: 'pcm', data: { first: m.audioFirst, samples: m.audio } });
  } else if (m.type === 'input') before.push(m.frames, m.count);
  else if (m.type === 'stats') {
    renderStats(m.stats);
    toApp({ type: 'stats', data: m.stats });
  } else if (m.type === 'ended') {
    if (m.capture) (window as unknown as { earmarkCapture?: Float32Array }).earmarkCapture = m.capture;
    state = 'ended';
    status(`stopped after ${(m.samples / 16000).toFixed(1)} s (${m.frames} frames)`);
    toApp({ type: 'end', data: { frames: m.frames, samples: m.samples } });
    worker?.terminate();
    worker = null;
  } else if (m.type === 'error') fail(m.message);
}

function renderStats(s: SensorStats): void {
  $('stats').textContent =
    `latency ${s.latencyMs.toFixed(0)} ms measured ` +
    `(worst of the last 100 frames, mean ${s.meanLatencyMs.toFixed(0)} ms; ` +
    `the windowed rule alone ${s.algorithmicLatencyMs.toFixed(0)} ms) · ` +
    `real-time factor ${s.realTimeFactor.toFixed(3)} ` +
    `(${s.msPerSecond.toFixed(1)} ms per second of audio) after ${s.seconds.toFixed(1)} s`;
}

/** The user granted: load the model into the Worker, open the microphone, wire worklet → Worker. */
async function start(model: ModelInfo, formats: SensorFormat[]): Promise<void> {
  state = 'starting';
  $<HTMLButtonElement>('grant').disabled = true;
  status(`loading ${model.name}`);
  const res = await fetch(`models/${encodeURIComponent(model.id)}.onnx`);
  if (!res.ok) throw new Error(`the sensor could not serve model ${model.id} (HTTP ${res.status})`);
  const bytes = await res.arrayBuffer();
  const w = new Worker(new URL('assets/worker.js', location.href), { type: 'module' });
  worker = w;
  const ready = new Promise<Extract<WorkerToFrame, { type: 'ready' }>>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<WorkerToFrame>): void => {
      if (e.data.type === 'ready') {
        w.onmessage = (ev: MessageEvent<WorkerToFrame>): void => onWorker(ev, formats);
        resolve(e.data);
      } else if (e.data.type === 'error') reject(new Error(e.data.message));
    };
    w.onerror = (e): void => reject(new Error(`the sensor Worker failed: ${e.message}`));
  });
  const init: FrameToWorker = {
    type: 'init',
    model: bytes,
    window: model.window,
    threads: config!.threads,
    wasmBase: new URL('assets/ort/', location.href).href,
    audio: formats.includes('pcm'),
    keepCapture: config!.keepCapture,
  };
  w.postMessage(init, [bytes]);
  const r = await ready;
  status('opening the microphone');
  media = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  // run the context at the microphone's own rate where it says it (no browser resampling before ours)
  const rate = media.getAudioTracks()[0]?.getSettings().sampleRate;
  audio = new AudioContext(rate ? { sampleRate: rate, latencyHint: 'interactive' } : { latencyHint: 'interactive' });
  await audio.audioWorklet.addModule(new URL('assets/capture-worklet.js', location.href));
  capture = new AudioWorkletNode(audio, 'earmark-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: 'explicit',
  });
  const channel = new MessageChannel();
  w.postMessage({ type: 'port', port: channel.port1 } satisfies FrameToWorker, [channel.port1]);
  capture.port.postMessage({ type: 'port', port: channel.port2 }, [channel.port2]);
  const mute = audio.createGain();
  mute.gain.value = 0; // the node must reach the destination to be rendered; nothing is played
  audio.createMediaStreamSource(media).connect(capture).connect(mute).connect(audio.destination);
  await audio.resume();
  state = 'running';
  $('consent').hidden = true;
  $('live').hidden = false;
  $<HTMLButtonElement>('stop').disabled = false;
  status(`running at ${audio.sampleRate} Hz → 16 kHz · ${r.backend}`);
  const hello: SensorHello = {
    task: model.task,
    grant: Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join(''),
    sampleRate: 16000,
    nFreq: 161,
    formats,
    window: model.window,
    latencyMs: r.latencyMs,
    model: model.name,
    backend: r.backend,
  };
  $('granted').textContent = `granted: task '${hello.task}' (${hello.model}) to ${appOrigin ?? 'this page'}`;
  toApp({ type: 'hello', data: hello });
}

/** Stop the microphone; the worklet flushes, the Worker ends the stream and reports 'ended'. */
function stop(): void {
  if (state !== 'running') return;
  state = 'stopping';
  $<HTMLButtonElement>('stop').disabled = true;
  capture?.port.postMessage({ type: 'stop' });
  for (const t of media?.getTracks() ?? []) t.stop();
  media = null;
  setTimeout(() => {
    void audio?.close();
    audio = null;
  }, 200);
}

window.addEventListener('message', (e: MessageEvent<AppToFrame>) => {
  if (peer === null || e.source !== peer || e.data?.protocol !== PROTOCOL) return;
  if (appOrigin === null && e.data.type === 'request') appOrigin = e.origin;
  if (e.origin !== appOrigin) return;
  if (e.data.type === 'request' && request === null) {
    const asked: unknown[] = Array.isArray(e.data.formats) ? e.data.formats : [];
    const formats = asked.filter((f): f is SensorFormat => f === 'frames' || f === 'pcm');
    request = {
      ...(typeof e.data.task === 'string' ? { task: e.data.task } : {}),
      formats: formats.length ? formats : ['frames'],
    };
    renderConsent();
  } else if (e.data.type === 'stop') stop();
});

$('grant').addEventListener('click', () => {
  const model = config?.models.find((m) => m.id === $<HTMLSelectElement>('model').value);
  if (model === undefined || request === null || state !== 'idle') return;
  start(model, request.formats).catch((e: unknown) => fail((e as Error).message));
});
$('stop').addEventListener('click', stop);
// a sensor window whose app went away stops its microphone
if (peer !== null && peer !== window.parent)
  setInterval(() => {
    if (peer.closed) stop();
  }, 500);
$('origin').textContent = location.origin;

fetch('models.json')
  .then((r) => r.json() as Promise<SensorConfig>)
  .then(
    (c) => {
      config = c;
      renderConsent();
    },
    (e: unknown) => fail(`cannot read the sensor's models.json: ${(e as Error).message}`),
  );
toApp({ type: 'ready' });
