// The privacy sensor's options and the checks at its edges: option ranges (refused before anything
// starts, naming the `earmark serve` flag), the Host header of GET /health (loopback names only:
// DNS-rebinding pages get nothing), and the system errors of listen() turned into sentences.
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { EarmarkError } from '../errors.js';
import { algorithmicLatency, type WindowConfig } from './obfuscate.js';
import type { AudioSource } from './sources.js';
import type { SynthesisConfig } from './synthesis.js';
import type { Grant, TokenStore } from './tokens.js';

export interface ServiceOptions {
  source: AudioSource;
  tokens: TokenStore;
  /** Bind address (default 127.0.0.1: loopback only). */
  host?: string;
  /** Port (default 8765; 0 = any free port). */
  port?: number;
  maxClients?: number;
  /** Largest message an app may send (bytes, default 4096). */
  maxMessageBytes?: number;
  /** Messages an app may send per second (default 10). */
  maxMessagesPerSecond?: number;
  /** Apps that fall this far behind (bytes queued) are dropped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** How often the token store is re-read for revocations (ms, default 1000). */
  checkIntervalMs?: number;
  /** onnxruntime threads per task model (default 1). */
  threads?: number;
  window?: Partial<WindowConfig>;
  /** How PCM is synthesised (default: phase-free, SYNTHESIS_DEFAULTS). */
  synthesis?: Partial<SynthesisConfig>;
  /** Run without a token store file (default false: a missing or unreadable store is an error). */
  allowEmptyStore?: boolean;
  /** Start the source again when it ends or fails (default false: the sensor stops serving, see `stopped`). */
  restartSource?: boolean;
  /** First wait before a restart (ms, default 1000; doubles up to 30 s while the source fails fast). */
  restartDelayMs?: number;
  log?: (line: string) => void;
}

/** Why the sensor stopped serving: its source ended or failed (for good), or close() was called. */
export interface SourceStop {
  state: 'ended' | 'failed' | 'closed';
  error?: Error;
}

/** The numeric options of the sensor with their flags and ranges. */
const RANGES: { key: string; flag: string; min: number; max: number; what: string }[] = [
  { key: 'port', flag: '--port', min: 0, max: 65535, what: 'a TCP port (0 = any free port)' },
  { key: 'maxClients', flag: '--max-clients', min: 1, max: 100000, what: 'connected apps at most' },
  { key: 'maxMessageBytes', flag: '--max-message-bytes', min: 16, max: 1 << 24, what: 'bytes per app message' },
  { key: 'maxMessagesPerSecond', flag: '--max-rate', min: 1, max: 100000, what: 'messages per second per app' },
  { key: 'threads', flag: '--threads', min: 1, max: 256, what: 'onnxruntime threads per task model' },
  { key: 'checkIntervalMs', flag: '(checkIntervalMs)', min: 10, max: 3600000, what: 'ms between token store checks' },
  { key: 'maxBufferedBytes', flag: '(maxBufferedBytes)', min: 1024, max: 2 ** 31, what: 'bytes queued per app' },
  { key: 'restartDelayMs', flag: '(restartDelayMs)', min: 0, max: 3600000, what: 'ms before a source restart' },
];

/**
 * Refuse out-of-range sensor options with the flag's name, the value and the range.
 * @example checkServiceOptions({ port: 99999 }); // throws: --port must be an integer from 0 to 65535 …
 */
export function checkServiceOptions(o: Record<string, unknown>): void {
  for (const r of RANGES) {
    const v = o[r.key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < r.min || v > r.max) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        `${r.flag} must be an integer from ${r.min} to ${r.max} (${r.what}), got ${String(v)}`,
      );
    }
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Whether a request's Host header names this machine's loopback interface (any port): localhost,
 * 127.0.0.0/8 or [::1]. A page on another origin that rebinds its DNS name to 127.0.0.1 sends its own
 * name here, and is refused.
 */
export function isLoopbackHost(headers: IncomingHttpHeaders): boolean {
  const host = headers.host;
  if (typeof host !== 'string' || host === '') return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK_NAMES.has(name.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(name);
}

/** The bearer token of a request (Authorization header, else ?token=), or undefined. */
export function requestToken(headers: IncomingHttpHeaders, url: URL): string | undefined {
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token') ?? undefined;
}

/** listen()'s errors as sentences that say what to do. */
export function listenError(e: unknown, host: string, port: number): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new EarmarkError(
      'EARMARK_IO',
      `port ${port} on ${host} is already in use (another sensor?); stop that process or choose another --port`,
      { cause: e },
    );
  }
  if (code === 'EACCES')
    return new EarmarkError(
      'EARMARK_IO',
      `not allowed to listen on ${where} (ports below 1024 need privileges); choose --port 1024 or above`,
      { cause: e },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new EarmarkError('EARMARK_IO', `--host ${host} is not an address of this machine (${code}); use 127.0.0.1`, {
      cause: e,
    });
  }
  return new EarmarkError('EARMARK_IO', `cannot listen on ${where}: ${(e as Error).message}`, { cause: e });
}

/** Refuse a WebSocket upgrade with an HTTP status and a one-line reason. */
export function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
  );
  socket.destroy();
}

export const capitalise = (s: string): string => s.replace(/\b\w/g, (c) => c.toUpperCase());

/** A WebSocket close reason must fit in 123 bytes. */
export const closeReason = (s: string): string =>
  Buffer.byteLength(s) <= 123 ? s : `${Buffer.from(s).subarray(0, 119).toString()}…`;

/** The first message an app gets: what it is granted and how the stream is made. */
export function helloMessage(
  grant: Grant,
  format: 'pcm' | 'frames',
  w: WindowConfig,
  synthesis: SynthesisConfig,
): string {
  const unsafe = synthesis.method === 'unsafe-original-phase' ? { unsafeOriginalPhase: true } : {};
  return JSON.stringify({
    type: 'hello',
    task: grant.task,
    grant: grant.id,
    sampleRate: 16000,
    format,
    window: w,
    latencyMs: Math.round((1000 * algorithmicLatency(w, 1600)) / 16000),
    synthesis: synthesis.method,
    ...unsafe,
  });
}

/** A binary stream message: the u32 little-endian sequence number, then the payload. */
export function sequenced(seq: number, payload: Uint8Array): Uint8Array {
  const msg = new Uint8Array(4 + payload.length);
  new DataView(msg.buffer).setUint32(0, seq >>> 0, true);
  msg.set(payload, 4);
  return msg;
}

/** The sensor's periodic log line about limited samples. */
export function limiterLine(model: string, limited: number, ms: number): string {
  return `limiter: ${limited} samples of ${model}'s audio limited in the last ${Math.round(ms / 1000)} s (they would have clipped)`;
}
