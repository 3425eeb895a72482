// `earmark serve`: the privacy sensor. Reads a source (a file looped, stdin, or ALSA via arecord),
// obfuscates on the device and serves each app the stream of the one task its token grants. The flags,
// the source and the token store are checked before the sensor starts; a port in use is a usage error.
import { setTimeout as sleep } from 'node:timers/promises';
import { EarmarkError } from '../errors.js';
import type { SourceStop } from '../edge/service.js';
import type { AudioSource } from '../edge/sources.js';
import { TokenStore } from '../edge/tokens.js';
import { defineCommand, usageError } from './args.js';
import { checkAudioHeader } from './checks.js';
import { checkExists } from './flag-checks.js';
import { TOKENS_FLAG } from './grant.js';
import { isListenUsageError } from './report.js';

type SourceSpec = { kind: 'file'; path: string } | { kind: 'stdin' } | { kind: 'arecord'; device: string | undefined };

/** 'file:<path>', 'stdin', 'arecord[:device]', or 'auto' (arecord when present, else an error naming the others). */
async function parseSource(spec: string): Promise<SourceSpec> {
  if (spec.startsWith('file:')) {
    checkExists('--source', 'file', spec.slice(5));
    checkAudioHeader('--source', spec.slice(5));
    return { kind: 'file', path: spec.slice(5) };
  }
  if (spec === 'stdin') return { kind: 'stdin' };
  const { hasArecord } = await import('../edge/sources.js');
  if (spec === 'arecord' || spec.startsWith('arecord:')) {
    if (!hasArecord())
      throw usageError(
        `--source ${spec}: no \`arecord\` on PATH; install alsa-utils, or give --source file:<path> or --source stdin`,
      );
    return { kind: 'arecord', device: spec.slice(8) || undefined };
  }
  if (spec === 'auto') {
    if (hasArecord()) return { kind: 'arecord', device: undefined };
    throw usageError('--source auto found no `arecord`; give --source file:<path> or --source stdin');
  }
  throw usageError(`--source '${spec}' is unknown; use file:<path>, stdin, arecord[:device] or auto`);
}

async function openSource(s: SourceSpec, chunkMs: number): Promise<AudioSource> {
  const sources = await import('../edge/sources.js');
  if (s.kind === 'file') return sources.fileLoopSource(s.path, chunkMs);
  if (s.kind === 'stdin') return sources.pcmStreamSource('stdin', process.stdin);
  return sources.arecordSource(s.device);
}

export const serve = defineCommand({
  name: 'serve',
  summary:
    'Run the privacy sensor: obfuscate a source on the device and serve each app (WebSocket /stream, bearer token) only the obfuscated stream of the task its token grants; GET /health for status. Binds to 127.0.0.1.',
  flags: {
    source: {
      type: 'string',
      description: 'file:<path> (looped), stdin (raw s16le 16 kHz mono), arecord[:device], or auto',
      default: 'auto',
    },
    tokens: { ...TOKENS_FLAG.tokens, description: 'token store written by `earmark grant`' },
    host: {
      type: 'string',
      description: 'bind address (anything but loopback exposes the sensor to the network)',
      default: '127.0.0.1',
    },
    port: { type: 'int', min: 0, max: 65535, description: 'port (0 = any free port)', default: 8765 },
    maxClients: { type: 'int', min: 1, max: 100000, description: 'connected apps at most', default: 32 },
    maxMessageBytes: {
      type: 'int',
      min: 16,
      max: 1 << 24,
      description: 'largest message an app may send',
      default: 4096,
    },
    maxRate: { type: 'int', min: 1, max: 100000, description: 'messages per second an app may send', default: 10 },
    chunkMs: { type: 'number', min: 1, max: 10000, description: 'source chunk in ms', default: 100 },
    threads: { type: 'int', min: 1, max: 256, description: 'onnxruntime threads per task model', default: 1 },
    allowEmptyStore: {
      type: 'boolean',
      default: false,
      description: 'start even when the token store is missing or unreadable (every app refused until a grant exists)',
    },
    restartSource: {
      type: 'boolean',
      default: false,
      description: 'start the source again when it ends or fails (default: disconnect every app and exit non-zero)',
    },
    graceMs: {
      type: 'int',
      min: 0,
      max: 3600000,
      description: 'wait this long after the source ends or fails before exiting',
      default: 2000,
    },
    unsafeOriginalPhase: {
      type: 'boolean',
      default: false,
      description:
        "UNSAFE: serve audio with the input's original phase (leaks the input); needs `grant --allow-unsafe-original-phase`",
    },
  },
  async check(o) {
    if (o.restartSource && o.source === 'stdin')
      throw usageError('--restart-source cannot reopen stdin; use it with arecord or file:<path>');
    const source = await parseSource(o.source);
    const tokens = new TokenStore(o.tokens);
    if (!o.allowEmptyStore) tokens.check();
    return { source, tokens };
  },
  async run(o, { checked }) {
    const host = o.host;
    const { UNSAFE_ORIGINAL_PHASE_WARNING } = await import('../edge/obfuscate-io.js');
    const { PrivacySensor } = await import('../edge/service.js');
    const unsafe = o.unsafeOriginalPhase;
    if (unsafe) console.error(UNSAFE_ORIGINAL_PHASE_WARNING);
    const source = await openSource(checked.source, o.chunkMs);
    const sensor = await PrivacySensor.start({
      source,
      tokens: checked.tokens,
      host,
      port: o.port,
      maxClients: o.maxClients,
      maxMessageBytes: o.maxMessageBytes,
      maxMessagesPerSecond: o.maxRate,
      threads: o.threads,
      allowEmptyStore: o.allowEmptyStore,
      restartSource: o.restartSource,
      ...(unsafe ? { synthesis: { method: 'unsafe-original-phase' as const } } : {}),
      log: (l) => console.error(l),
    }).catch((e: unknown) => {
      // a port in use or not ours to take is a --port (or --host) the command line cannot have
      if (isListenUsageError(e)) throw usageError((e as Error).message, e);
      throw e;
    });
    if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost')
      console.error(`warning: bound to ${host}, which exposes the sensor beyond this device`);
    console.error(
      `privacy sensor on ${sensor.url} (health: http://${host}:${sensor.port}/health), source ${source.name}, ` +
        `audio phase ${sensor.synthesis.method}; Ctrl-C stops`,
    );
    const stop = await new Promise<SourceStop | null>((resolve) => {
      const signal = (): void => {
        resolve(null);
      };
      process.once('SIGINT', signal);
      process.once('SIGTERM', signal);
      void sensor.stopped.then(resolve);
    });
    if (stop === null || stop.state === 'closed') {
      await sensor.close();
      return 0;
    }
    // the source is gone for good: apps have their close; give them (and /health readers) a moment
    console.error(`the source ${stop.state}; exiting in ${o.graceMs} ms (--restart-source keeps the sensor up)`);
    await sleep(o.graceMs);
    await sensor.close();
    throw new EarmarkError(
      'EARMARK_IO',
      `source ${source.name} ${stop.state}${stop.error ? `: ${stop.error.message}` : ''}`,
    );
  },
});
