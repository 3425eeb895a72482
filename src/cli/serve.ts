// `earmark serve`: the privacy sensor. Reads a source (a file looped, stdin, or ALSA via arecord),
// obfuscates on the device and serves each app the stream of the one task its token grants.
import { setTimeout as sleep } from 'node:timers/promises';
import { EarmarkError } from '../errors.js';
import { UNSAFE_ORIGINAL_PHASE_WARNING } from '../edge/obfuscate-io.js';
import { PrivacySensor, type SourceStop } from '../edge/service.js';
import { arecordSource, checkChunkMs, fileLoopSource, hasArecord, pcmStreamSource, type AudioSource } from '../edge/sources.js';
import { TokenStore } from '../edge/tokens.js';
import { defineCommand } from './args.js';
import { TOKENS_FLAG } from './grant.js';

/** 'file:<path>', 'stdin', 'arecord[:device]', or 'auto' (arecord when present, else an error naming the others). */
async function sourceFrom(spec: string, chunkMs: number): Promise<AudioSource> {
  if (spec.startsWith('file:')) return fileLoopSource(spec.slice(5), chunkMs);
  if (spec === 'stdin') return pcmStreamSource('stdin', process.stdin);
  if (spec === 'arecord' || spec.startsWith('arecord:')) return arecordSource(spec.slice(8) || undefined);
  if (spec === 'auto') {
    if (hasArecord()) return arecordSource();
    throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--source auto found no `arecord`; give --source file:<path> or --source stdin');
  }
  throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--source '${spec}' is unknown; use file:<path>, stdin, arecord[:device] or auto`);
}

export const serve = defineCommand({
  name: 'serve',
  summary: 'Run the privacy sensor: obfuscate a source on the device and serve each app (WebSocket /stream, bearer token) only the obfuscated stream of the task its token grants; GET /health for status. Binds to 127.0.0.1.',
  flags: {
    source: { type: 'string', description: 'file:<path> (looped), stdin (raw s16le 16 kHz mono), arecord[:device], or auto', default: 'auto' },
    tokens: { ...TOKENS_FLAG.tokens, description: 'token store written by `earmark grant`' },
    host: { type: 'string', description: 'bind address (anything but loopback exposes the sensor to the network)', default: '127.0.0.1' },
    port: { type: 'int', description: 'port (0 = any free port)', default: 8765 },
    maxClients: { type: 'int', description: 'connected apps at most', default: 32 },
    maxMessageBytes: { type: 'int', description: 'largest message an app may send', default: 4096 },
    maxRate: { type: 'int', description: 'messages per second an app may send', default: 10 },
    chunkMs: { type: 'number', description: 'source chunk in ms', default: 100 },
    threads: { type: 'int', description: 'onnxruntime threads per task model', default: 1 },
    allowEmptyStore: {
      type: 'boolean', default: false,
      description: 'start even when the token store is missing or unreadable (every app refused until a grant exists)',
    },
    restartSource: {
      type: 'boolean', default: false,
      description: 'start the source again when it ends or fails (default: disconnect every app and exit non-zero)',
    },
    graceMs: { type: 'int', description: 'wait this long after the source ends or fails before exiting', default: 2000 },
    unsafeOriginalPhase: {
      type: 'boolean', default: false,
      description: "UNSAFE: serve audio with the input's original phase (leaks the input); needs `grant --allow-unsafe-original-phase`",
    },
  },
  async run(o) {
    const host = o.host;
    if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') console.error(`warning: binding to ${host} exposes the sensor beyond this device`);
    checkChunkMs(o.chunkMs);
    const grace = o.graceMs;
    if (!Number.isInteger(grace) || grace < 0) throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--grace-ms must be an integer >= 0, got ${grace}`);
    const restart = o.restartSource;
    if (restart && o.source === 'stdin') throw new EarmarkError('EARMARK_BAD_ARGUMENT', '--restart-source cannot reopen stdin; use it with arecord or file:<path>');
    const unsafe = o.unsafeOriginalPhase;
    if (unsafe) console.error(UNSAFE_ORIGINAL_PHASE_WARNING);
    const source = await sourceFrom(o.source, o.chunkMs);
    const sensor = await PrivacySensor.start({
      source, tokens: new TokenStore(o.tokens), host, port: o.port,
      maxClients: o.maxClients, maxMessageBytes: o.maxMessageBytes, maxMessagesPerSecond: o.maxRate,
      threads: o.threads, allowEmptyStore: o.allowEmptyStore, restartSource: restart,
      ...(unsafe ? { synthesis: { method: 'unsafe-original-phase' as const } } : {}), log: (l) => console.error(l),
    });
    console.error(`privacy sensor on ${sensor.url} (health: http://${host}:${sensor.port}/health), source ${source.name}, ` +
      `audio phase ${sensor.synthesis.method}; Ctrl-C stops`);
    const stop = await new Promise<SourceStop | null>((resolve) => {
      const signal = (): void => { resolve(null); };
      process.once('SIGINT', signal);
      process.once('SIGTERM', signal);
      void sensor.stopped.then(resolve);
    });
    if (stop === null || stop.state === 'closed') {
      await sensor.close();
      return 0;
    }
    // the source is gone for good: apps have their close; give them (and /health readers) a moment
    console.error(`the source ${stop.state}; exiting in ${grace} ms (--restart-source keeps the sensor up)`);
    await sleep(grace);
    await sensor.close();
    throw new EarmarkError('EARMARK_IO', `source ${source.name} ${stop.state}${stop.error ? `: ${stop.error.message}` : ''}`);
  },
});
