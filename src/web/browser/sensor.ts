// `earmark/web`: what an app imports. createSensor opens the sensor page from the sensor's origin, as a
// cross-origin iframe or (mode 'window') as its own top-level window, asks it for one task, and turns its
// messages into typed events: obfuscated frames, obfuscated PCM (also as a MediaStream), the hello and the
// measured speed. The microphone, the raw samples and the models stay in the sensor's origin, which this
// page's code cannot read; this object only ever holds what src/web/protocol.ts carries, and it has no
// method that returns input. (docs/web.md: what this does and does not guarantee.)
import { EarmarkError } from '../../errors.js';
import {
  PROTOCOL,
  type AppToFrame,
  type FrameToApp,
  type SensorEvents,
  type SensorFormat,
  type SensorHello,
} from '../protocol.js';

export type {
  SensorEnd,
  SensorEvents,
  SensorFormat,
  SensorFrames,
  SensorHello,
  SensorPcm,
  SensorStats,
  SensorWindow,
} from '../protocol.js';

export interface SensorOptions {
  /** URL of the sensor frame (e.g. `earmark web`'s http://localhost:8767/); another origin than the app's. */
  sensorUrl: string;
  /** Ask for this task; the user grants it (or not) in the sensor frame. Default: the user picks one. */
  task?: string;
  /** What to receive (default ['frames']): obfuscated frames and/or obfuscated 16 kHz PCM. */
  formats?: SensorFormat[];
  /**
   * 'frame' (default): embed the sensor as an iframe in `container`. 'window': open it as its own
   * top-level window (call createSensor from a click handler, or the popup blocker refuses it); the
   * browser then records the microphone permission for the sensor's origin, not for this app's.
   */
  mode?: 'frame' | 'window';
  /** Where the sensor frame (its consent form and live view) goes in 'frame' mode (default document.body). */
  container?: HTMLElement;
  /**
   * Accept a sensor on the app's own origin. Off by default: a same-origin frame is readable by the
   * app's code, so the boundary would be the API only. For development setups.
   */
  allowSameOrigin?: boolean;
}

export type SensorState = 'waiting' | 'running' | 'ended' | 'failed';

/** The app's handle on the sensor. Everything it exposes is obfuscated output or metadata. */
export interface Sensor {
  /** The sensor frame's origin. */
  readonly origin: string;
  /** True when the sensor runs on another origin than the app (the browser then keeps the app out of it). */
  readonly isolated: boolean;
  readonly state: SensorState;
  /** The granted task and stream parameters, once the user has granted. */
  readonly hello: SensorHello | null;
  /** Listen to one event type; returns a function that removes the listener. */
  on<K extends keyof SensorEvents>(type: K, listener: (data: SensorEvents[K]) => void): () => void;
  /** The obfuscated PCM as a live 16 kHz MediaStream (needs 'pcm' in formats). */
  mediaStream(): MediaStream;
  /** Stop the microphone; resolves at the 'end' event, after the last obfuscated frames. */
  stop(): Promise<void>;
  /** Remove the frame and every listener (stops the microphone with it). */
  close(): void;
}

type Listeners = { [K in keyof SensorEvents]: Set<(data: SensorEvents[K]) => void> };

class EarmarkSensor implements Sensor {
  readonly origin: string;
  readonly isolated: boolean;
  /** The iframe ('frame' mode) and the sensor's window (a cross-origin WindowProxy: postMessage and close only). */
  readonly #frame: HTMLIFrameElement | null = null;
  readonly #peer: Window;
  readonly #request: AppToFrame;
  #watch: ReturnType<typeof setInterval> | null = null;
  readonly #listeners: Listeners = {
    hello: new Set(),
    frames: new Set(),
    pcm: new Set(),
    stats: new Set(),
    end: new Set(),
    error: new Set(),
  };
  readonly #onMessage: (e: MessageEvent) => void;
  #state: SensorState = 'waiting';
  #hello: SensorHello | null = null;
  #player: { ctx: AudioContext; dest: MediaStreamAudioDestinationNode; next: number } | null = null;

  constructor(o: SensorOptions, url: URL) {
    this.origin = url.origin;
    this.isolated = url.origin !== location.origin;
    this.#request = {
      protocol: PROTOCOL,
      type: 'request',
      formats: o.formats ?? ['frames'],
      ...(o.task !== undefined ? { task: o.task } : {}),
    };
    this.#onMessage = (e: MessageEvent): void => this.#receive(e);
    window.addEventListener('message', this.#onMessage);
    if (o.mode === 'window') {
      const w = window.open(url.href, '_blank', 'popup,width=960,height=560');
      if (w === null) {
        window.removeEventListener('message', this.#onMessage);
        throw new EarmarkError(
          'EARMARK_BAD_ARGUMENT',
          "the browser blocked the sensor window: call createSensor({ mode: 'window' }) from a click handler",
        );
      }
      this.#peer = w;
      // the user may close the sensor's window: that ends the stream
      this.#watch = setInterval(() => {
        if (!w.closed) return;
        this.#stopWatching();
        if (this.#state === 'waiting' || this.#state === 'running') {
          this.#state = 'ended';
          this.#emit('error', { message: 'the sensor window was closed' });
        }
      }, 500);
      return;
    }
    const frame = document.createElement('iframe');
    frame.src = url.href;
    frame.allow = 'microphone';
    frame.title = 'earmark privacy sensor';
    frame.className = 'earmark-sensor';
    (o.container ?? document.body).append(frame);
    this.#frame = frame;
    this.#peer = frame.contentWindow!;
  }

  #stopWatching(): void {
    if (this.#watch !== null) clearInterval(this.#watch);
    this.#watch = null;
  }

  get state(): SensorState {
    return this.#state;
  }

  get hello(): SensorHello | null {
    return this.#hello;
  }

  on<K extends keyof SensorEvents>(type: K, listener: (data: SensorEvents[K]) => void): () => void {
    const set = this.#listeners[type] as Set<(data: SensorEvents[K]) => void> | undefined;
    if (set === undefined)
      throw new TypeError(
        `unknown sensor event '${String(type)}'; use one of ${Object.keys(this.#listeners).join(', ')}`,
      );
    set.add(listener);
    return () => set.delete(listener);
  }

  #emit<K extends keyof SensorEvents>(type: K, data: SensorEvents[K]): void {
    for (const fn of this.#listeners[type] as Set<(data: SensorEvents[K]) => void>) fn(data);
  }

  #receive(e: MessageEvent): void {
    const m = e.data as FrameToApp | undefined;
    if (e.source !== this.#peer || e.origin !== this.origin || m?.protocol !== PROTOCOL) return;
    if (m.type === 'ready') {
      this.#peer.postMessage(this.#request, this.origin);
      return;
    }
    if (m.type === 'hello') {
      this.#hello = m.data;
      this.#state = 'running';
    } else if (m.type === 'end') this.#state = 'ended';
    else if (m.type === 'error') this.#state = 'failed';
    else if (m.type === 'pcm') this.#play(m.data.samples);
    this.#emit(m.type, m.data as never);
  }

  mediaStream(): MediaStream {
    if (!(this.#request.type === 'request' && this.#request.formats.includes('pcm'))) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        "mediaStream() needs the 'pcm' format: createSensor({ formats: ['pcm'] }) or ['frames', 'pcm']",
      );
    }
    if (this.#player === null) {
      const ctx = new AudioContext({ sampleRate: 16000 });
      this.#player = { ctx, dest: ctx.createMediaStreamDestination(), next: 0 };
    }
    return this.#player.dest.stream;
  }

  /** Schedule one block of obfuscated PCM on the MediaStream (100 ms of jitter buffer). */
  #play(samples: Float32Array): void {
    const p = this.#player;
    if (p === null || samples.length === 0) return;
    const buf = p.ctx.createBuffer(1, samples.length, 16000);
    buf.getChannelData(0).set(samples);
    const src = p.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(p.dest);
    p.next = Math.max(p.next, p.ctx.currentTime + 0.1);
    src.start(p.next);
    p.next += samples.length / 16000;
  }

  stop(): Promise<void> {
    if (this.#state === 'ended' || this.#state === 'failed') return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('end', () => {
        off();
        resolve();
      });
      const offErr = this.on('error', () => {
        offErr();
        resolve();
      });
      this.#peer.postMessage({ protocol: PROTOCOL, type: 'stop' } satisfies AppToFrame, this.origin);
    });
  }

  close(): void {
    window.removeEventListener('message', this.#onMessage);
    for (const set of Object.values(this.#listeners)) set.clear();
    void this.#player?.ctx.close();
    this.#player = null;
    this.#stopWatching();
    if (this.#frame !== null) this.#frame.remove();
    else this.#peer.close();
    if (this.#state !== 'failed') this.#state = 'ended';
  }
}

/**
 * Embed the privacy sensor and ask it for one task's obfuscated stream.
 * @example
 * const sensor = createSensor({ sensorUrl: 'http://localhost:8767/', task: 'speaker', formats: ['frames'] });
 * sensor.on('frames', ({ frames, count }) => classify(frames, count)); // (count, 161) obfuscated log1p|STFT|
 */
export function createSensor(options: SensorOptions): Sensor {
  if (typeof options !== 'object' || options === null || typeof options.sensorUrl !== 'string') {
    throw new TypeError(
      "createSensor needs { sensorUrl: '<URL of the sensor frame>' }, e.g. the one `earmark web` prints",
    );
  }
  const url = new URL(options.sensorUrl, location.href);
  if (options.mode !== undefined && options.mode !== 'frame' && options.mode !== 'window') {
    throw new TypeError(`'mode' must be 'frame' or 'window', got '${String(options.mode)}'`);
  }
  for (const f of options.formats ?? []) {
    if (f !== 'frames' && f !== 'pcm') throw new TypeError(`'formats' holds '${String(f)}'; use 'frames' and/or 'pcm'`);
  }
  if (url.origin === location.origin && !options.allowSameOrigin) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `the sensor at ${url.href} is on this page's own origin, so this page's code could read its ` +
        'microphone stream; serve the sensor from another origin (`earmark web` uses its own port) ' +
        'or pass allowSameOrigin: true for development',
    );
  }
  return new EarmarkSensor(options, url);
}
