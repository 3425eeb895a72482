// The capture AudioWorklet: takes the microphone's render quanta (128 samples at the context's rate,
// already mono: the node has channelCount 1, 'explicit'), resamples them to 16 kHz (src/web/resample.ts)
// and posts 20 ms blocks straight to the sensor's Worker through the MessagePort the frame hands it.
// 'stop' flushes the resampler and posts 'end' on the same port, after the last block.
import { Resampler } from '../resample.js';
import type { WorkletToWorker } from './internal.js';

// AudioWorkletGlobalScope (not in TypeScript's DOM library)
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;

const BLOCK = 320; // 20 ms at 16 kHz

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #rs = new Resampler(sampleRate, 16000);
  #out: MessagePort | null = null;
  #pending = new Float32Array(BLOCK);
  #fill = 0;
  #stopped = false;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<{ type: 'port'; port: MessagePort } | { type: 'stop' }>): void => {
      if (e.data.type === 'port') this.#out = e.data.port;
      else if (!this.#stopped) {
        this.#stopped = true;
        this.#add(this.#rs.end());
        this.#flush();
        this.#send({ type: 'end' });
      }
    };
  }

  #send(m: WorkletToWorker): void {
    if (m.type === 'audio') this.#out?.postMessage(m, [m.samples.buffer]);
    else this.#out?.postMessage(m);
  }

  #flush(): void {
    if (this.#fill === 0) return;
    this.#send({ type: 'audio', samples: this.#pending.slice(0, this.#fill) });
    this.#fill = 0;
  }

  #add(y: Float32Array): void {
    for (let i = 0; i < y.length;) {
      const n = Math.min(BLOCK - this.#fill, y.length - i);
      this.#pending.set(y.subarray(i, i + n), this.#fill);
      this.#fill += n;
      i += n;
      if (this.#fill === BLOCK) this.#flush();
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false;
    const x = inputs[0]?.[0];
    if (x !== undefined && this.#out !== null) this.#add(this.#rs.push(x));
    return true;
  }
}

registerProcessor('earmark-capture', CaptureProcessor);
