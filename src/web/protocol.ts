// What crosses the boundary between the app's page and the sensor frame (window.postMessage between two
// origins). Everything here is obfuscated output or plain metadata: no message type carries input
// samples, input spectra or the STFT phase, so the app side cannot be handed them by this protocol.
// The same shapes are the app-facing event payloads of `createSensor` (src/web/browser/sensor.ts).

/** Tag on every message, so that unrelated postMessage traffic is ignored. */
export const PROTOCOL = 'earmark-web/1';

/** The sensor's two output formats (as the WebSocket sensor's ?format=): obfuscated PCM, or frames. */
export type SensorFormat = 'frames' | 'pcm';

/** The windowed rule's parameters (src/edge/obfuscate.ts WindowConfig). */
export interface SensorWindow {
  windowFrames: number;
  lookaheadFrames: number;
}

/** First message after the user grants the task (the WebSocket sensor's hello, plus the model and backend). */
export interface SensorHello {
  task: string;
  /** Random id of this grant (one per granted session). */
  grant: string;
  sampleRate: 16000;
  /** Values per frame (161 = nFft/2 + 1). */
  nFreq: number;
  formats: SensorFormat[];
  window: SensorWindow;
  /** Worst-case algorithmic latency of the windowed rule at this chunk size, ms. */
  latencyMs: number;
  /** The model's display name (its run folder). */
  model: string;
  /** e.g. 'onnxruntime-web 1.30.0 wasm (SIMD), 1 thread, in a Worker'. */
  backend: string;
}

/** Obfuscated frames: log1p|STFT| after the obfuscator (161 values each), frame after frame. */
export interface SensorFrames {
  /** Index of the first frame in the stream (frames are 10 ms apart). */
  first: number;
  count: number;
  /** (count, nFreq) row-major. */
  frames: Float32Array;
  /** When the newest frame's centre sample was captured (performance.timeOrigin + now(), ms). */
  capturedAt: number;
}

/** Obfuscated audio, 16 kHz mono float samples in [-1, 1] (the sensor's `pcm` format as floats). */
export interface SensorPcm {
  /** Index of the first sample in the stream. */
  first: number;
  samples: Float32Array;
}

/** Measured speed, about twice a second. */
export interface SensorStats {
  /** Worst capture → obfuscated-frame delay over the last second of frames, ms (measured in the Worker). */
  latencyMs: number;
  /** Mean of the same delays, ms. */
  meanLatencyMs: number;
  /** The windowed rule's worst case, ms (latencyMs minus this is compute and scheduling). */
  algorithmicLatencyMs: number;
  /** Compute seconds per second of audio so far (front-end + model + resynthesis in the Worker). */
  realTimeFactor: number;
  /** The same as ms per second of audio. */
  msPerSecond: number;
  /** Seconds of audio obfuscated so far. */
  seconds: number;
}

export interface SensorEnd {
  frames: number;
  samples: number;
}

/** The app-facing events and their payloads. */
export interface SensorEvents {
  hello: SensorHello;
  frames: SensorFrames;
  pcm: SensorPcm;
  stats: SensorStats;
  end: SensorEnd;
  error: { message: string };
}

/** Messages from the sensor frame to the app. */
export type FrameToApp = { protocol: typeof PROTOCOL } & (
  { type: 'ready' } | { [K in keyof SensorEvents]: { type: K; data: SensorEvents[K] } }[keyof SensorEvents]
);

/** Messages from the app to the sensor frame. */
export type AppToFrame = { protocol: typeof PROTOCOL } & (
  { type: 'request'; task?: string; formats: SensorFormat[] } | { type: 'stop' }
);
