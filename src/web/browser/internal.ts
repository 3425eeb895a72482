// Messages inside the sensor's own origin: frame ↔ Worker and capture worklet → Worker. Raw samples and
// input spectra travel only here; src/web/protocol.ts is what the app side gets.
import type { SensorStats, SensorWindow } from '../protocol.js';

export type FrameToWorker =
  | {
      type: 'init';
      model: ArrayBuffer;
      window: SensorWindow;
      threads: number;
      wasmBase: string;
      audio: boolean;
      keepCapture: boolean;
    }
  /** The capture worklet's end of a MessageChannel: audio goes worklet → Worker without the frame's main thread. */
  | { type: 'port'; port: MessagePort }
  | {
      type: 'bench';
      model: ArrayBuffer;
      window: SensorWindow;
      threads: number;
      wasmBase: string;
      seconds: number;
      repeats: number;
    };

/** 16 kHz mono samples from the worklet, in blocks of about 20 ms; `end` after the microphone stops. */
export type WorkletToWorker = { type: 'audio'; samples: Float32Array } | { type: 'end' };

export interface BenchResult {
  backend: string;
  seconds: number;
  /** Median and best wall time of obfuscateOffline (front-end, windowed model, resynthesis) per second of audio. */
  msPerSecond: number;
  bestMsPerSecond: number;
  /** Median time of one model forward on one (1, 161, W) window. */
  windowMs: number;
}

export type WorkerToFrame =
  | { type: 'ready'; backend: string; latencyMs: number }
  | {
      type: 'out';
      first: number;
      count: number;
      frames: Float32Array;
      audioFirst: number;
      audio: Float32Array;
      capturedAt: number;
    }
  /** Un-obfuscated log1p|STFT| frames for the sensor's own "before" view; never forwarded to the app. */
  | { type: 'input'; count: number; frames: Float32Array }
  | { type: 'stats'; stats: SensorStats }
  /** `capture`: every 16 kHz sample the stream received, only when init asked for keepCapture (tests). */
  | { type: 'ended'; frames: number; samples: number; capture?: Float32Array }
  | { type: 'bench'; result: BenchResult }
  | { type: 'error'; message: string };
