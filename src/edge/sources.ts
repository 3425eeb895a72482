// Audio sources for the privacy sensor: 16 kHz mono Float32Array chunks, paced like a microphone.
// A file looped forever, raw s16le PCM on stdin, or ALSA capture through `arecord` when it exists.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { EarmarkError } from '../errors.js';
import { loadAudio } from '../audio/io.js';
import { PcmDecoder } from './pcm.js';

export interface AudioSource {
  /** Shown by /health and in logs (never the audio itself). */
  readonly name: string;
  chunks(signal: AbortSignal): AsyncIterable<Float32Array>;
}

/**
 * Samples looped forever in chunks of `chunkMs`, paced at `speed` × real time (Infinity: no pacing).
 * @example const src = arraySource('test', samples, 100, 4);
 */
export function arraySource(name: string, samples: Float32Array, chunkMs = 100, speed = 1): AudioSource {
  if (samples.length === 0) throw new RangeError(`source '${name}' has no samples`);
  const chunk = Math.max(1, Math.round((16000 * chunkMs) / 1000));
  return {
    name,
    async *chunks(signal: AbortSignal) {
      let at = 0;
      const t0 = performance.now();
      let sent = 0;
      while (!signal.aborted) {
        const out = new Float32Array(chunk);
        for (let i = 0; i < chunk; i++) out[i] = samples[(at + i) % samples.length]!;
        at = (at + chunk) % samples.length;
        sent += chunk;
        yield out;
        if (Number.isFinite(speed)) {
          const due = t0 + (1000 * sent) / 16000 / speed;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
        } else await sleep(0);
      }
    },
  };
}

/** An audio file (any format audio/io.ts reads), resampled to 16 kHz mono, looped. */
export async function fileLoopSource(file: string, chunkMs = 100, speed = 1): Promise<AudioSource> {
  const a = await loadAudio(file, { sampleRate: 16000, mono: true });
  return arraySource(`file ${file} (looped)`, a.samples, chunkMs, speed);
}

/** Raw s16le 16 kHz mono PCM from a readable stream (stdin). */
export function pcmStreamSource(name: string, stream: AsyncIterable<Uint8Array>): AudioSource {
  return {
    name,
    async *chunks(signal: AbortSignal) {
      const dec = new PcmDecoder(name);
      for await (const b of stream) {
        if (signal.aborted) return;
        const x = dec.decode(b);
        if (x.length) yield x;
      }
      dec.end();
    },
  };
}

/** Whether `arecord` (alsa-utils) is on the PATH. */
export function hasArecord(): boolean {
  return spawnSync('arecord', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** ALSA capture: `arecord -q -f S16_LE -r 16000 -c 1 -t raw [-D device]`. */
export function arecordSource(device?: string): AudioSource {
  if (!hasArecord()) throw new EarmarkError('EARMARK_IO', '`arecord` was not found; install alsa-utils, or use --source file:<path> or --source stdin');
  return {
    name: `arecord${device ? ` -D ${device}` : ''}`,
    async *chunks(signal: AbortSignal) {
      const args = ['-q', '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw', ...(device ? ['-D', device] : [])];
      const child = spawn('arecord', args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-500); });
      child.on('error', () => undefined); // aborts surface as the stream's end
      const dec = new PcmDecoder('arecord');
      for await (const b of child.stdout as AsyncIterable<Buffer>) {
        const x = dec.decode(b);
        if (x.length) yield x;
      }
      if (!signal.aborted && child.exitCode !== 0 && err) throw new EarmarkError('EARMARK_IO', `arecord stopped: ${err.trim()}`);
    },
  };
}
