// `earmark serve`: the privacy sensor. Reads a source (a file looped, stdin, or ALSA via arecord),
// obfuscates on the device and serves each app the stream of the one task its token grants.
import { EarmarkError } from '../errors.js';
import { PrivacySensor } from '../edge/service.js';
import { arecordSource, fileLoopSource, hasArecord, pcmStreamSource, type AudioSource } from '../edge/sources.js';
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
  },
  async run(o) {
    const host = o.host;
    if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') console.error(`warning: binding to ${host} exposes the sensor beyond this device`);
    const source = await sourceFrom(o.source, o.chunkMs);
    const sensor = await PrivacySensor.start({
      source, tokens: new TokenStore(o.tokens), host, port: o.port,
      maxClients: o.maxClients, maxMessageBytes: o.maxMessageBytes, maxMessagesPerSecond: o.maxRate,
      threads: o.threads, log: (l) => console.error(l),
    });
    console.error(`privacy sensor on ${sensor.url} (health: http://${host}:${sensor.port}/health), source ${source.name}; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { resolve(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await sensor.close();
    return 0;
  },
});
