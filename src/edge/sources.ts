// Audio sources for the privacy sensor: 16 kHz mono Float32Array chunks, paced like a microphone.
// A file looped forever, raw s16le PCM on stdin, or ALSA capture through `arecord` when it exists.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { EarmarkError } from '../errors.js';
import { loadAudio } from '../audio/io.js';
import { PcmDecoder } from './pcm.js';

/** Chunk length of a source in ms: refused when it is not positive or rounds to no sample at 16 kHz. */
export function checkChunkMs(chunkMs: number): void {
  if (!(Number.isFinite(chunkMs) && chunkMs >= 1 && chunkMs <= 10000)) {
    throw new EarmarkError(
      'EARMARK_BAD_ARGUMENT',
      `--chunk-ms must be from 1 to 10000 ms (a source chunk), got ${chunkMs}`,
    );
  }
}

export interface AudioSource {
  /** Shown in logs (never the audio itself). */
  readonly name: string;
  /** What kind of source, for /health (never a path): 'file', 'stdin', 'arecord', … */
  readonly kind?: string;
  chunks(signal: AbortSignal): AsyncIterable<Float32Array>;
}

/**
 * A source's chunks that stop as soon as `signal` aborts, even while the source waits for data (a
 * quiet stdin, a stalled device): the pending read is abandoned and the iterator asked to return.
 */
export async function* abortableChunks(source: AudioSource, signal: AbortSignal): AsyncGenerator<Float32Array> {
  if (signal.aborted) return;
  const it = source.chunks(signal)[Symbol.asyncIterator]();
  const aborted = new Promise<'aborted'>((r) => signal.addEventListener('abort', () => r('aborted'), { once: true }));
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r === 'aborted' || r.done === true) return;
      yield r.value;
    }
  } finally {
    if (signal.aborted) void it.return?.(undefined)?.catch(() => undefined);
  }
}

/**
 * Samples looped forever in chunks of `chunkMs`, paced at `speed` × real time (Infinity: no pacing).
 * @example const src = arraySource('test', samples, 100, 4);
 */
export function arraySource(
  name: string,
  samples: Float32Array,
  chunkMs = 100,
  speed = 1,
  kind = 'array',
): AudioSource {
  if (samples.length === 0) throw new RangeError(`source '${name}' has no samples`);
  checkChunkMs(chunkMs);
  const chunk = Math.max(1, Math.round((16000 * chunkMs) / 1000));
  return {
    name,
    kind,
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
  return arraySource(`file ${file} (looped)`, a.samples, chunkMs, speed, 'file');
}

/** Raw s16le 16 kHz mono PCM from a readable stream (stdin). */
export function pcmStreamSource(name: string, stream: AsyncIterable<Uint8Array>): AudioSource {
  return {
    name,
    kind: 'stdin',
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

/** At most this much of arecord's stderr is kept (whole lines; the rest is counted). */
const STDERR_KEEP = 8192;

/** ALSA capture: `arecord -q -f S16_LE -r 16000 -c 1 -t raw [-D device]`; its failure shows its whole stderr. */
export function arecordSource(device?: string): AudioSource {
  if (!hasArecord())
    throw new EarmarkError(
      'EARMARK_IO',
      '`arecord` was not found; install alsa-utils, or use --source file:<path> or --source stdin',
    );
  return {
    name: `arecord${device ? ` -D ${device}` : ''}`,
    kind: 'arecord',
    async *chunks(signal: AbortSignal) {
      const args = ['-q', '-f', 'S16_LE', '-r', '16000', '-c', '1', '-t', 'raw', ...(device ? ['-D', device] : [])];
      const child = spawn('arecord', args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
      const err: Buffer[] = [];
      let errBytes = 0;
      child.stderr.on('data', (d: Buffer) => {
        if (errBytes < STDERR_KEEP) err.push(d);
        errBytes += d.length;
      });
      child.on('error', () => undefined); // aborts surface as the stream's end
      // the exit status arrives after stdout's end: wait for 'close' (both streams and the process done)
      const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((r) =>
        child.on('close', (code, sig) => r({ code, sig })),
      );
      const dec = new PcmDecoder('arecord');
      for await (const b of child.stdout as AsyncIterable<Buffer>) {
        const x = dec.decode(b);
        if (x.length) yield x;
      }
      const { code, sig } = await closed;
      if (signal.aborted || code === 0) return;
      throw new EarmarkError(
        'EARMARK_IO',
        `arecord stopped (${code === null ? `signal ${sig}` : `exit code ${code}`})${stderrText(err, errBytes)}`,
      );
    },
  };
}

/** arecord's stderr cut at a line end (never mid-word), with a note of what was left out. */
function stderrText(parts: Buffer[], total: number): string {
  let text = Buffer.concat(parts).toString('utf8');
  if (total > STDERR_KEEP) {
    const cut = text.lastIndexOf('\n', STDERR_KEEP);
    text = `${text.slice(0, cut > 0 ? cut : STDERR_KEEP)}\n(… ${total - (cut > 0 ? cut : STDERR_KEEP)} more bytes of stderr)`;
  }
  text = text.trim();
  return text ? `:\n${text}` : ' with nothing on stderr';
}
