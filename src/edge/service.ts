// The privacy sensor (Wang et al.'s deployment): a local service between the microphone and every app.
// It reads one source, obfuscates on the device, and serves each connected app the obfuscated stream
// of the ONE task its token grants: GET /health and the WebSocket /stream are the only routes, raw audio
// is never served, and PCM is synthesised from the obfuscated magnitude alone. The protocol (hello
// message, sequence-numbered binary messages, refusals and close codes) is written out in docs/sensor.md.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { EarmarkError } from '../errors.js';
import { StreamingObfuscator, type StreamOutput, type WindowConfig } from './obfuscate.js';
import { windowFromModel } from './obfuscate-io.js';
import { encodePcm16 } from './pcm.js';
import { OnnxSession } from './runtime.js';
import {
  capitalise,
  checkServiceOptions,
  closeReason,
  helloMessage,
  isLoopbackHost,
  limiterLine,
  listenError,
  reject,
  requestToken,
  sequenced,
  type ServiceOptions,
  type SourceStop,
} from './service-options.js';
import { abortableChunks } from './sources.js';
import { resolveSynthesisConfig, type SynthesisConfig } from './synthesis.js';
import { GrantBook } from './grant-book.js';
import type { Grant } from './tokens.js';

export type { ServiceOptions, SourceStop };

interface Client {
  ws: WebSocket;
  grant: Grant;
  format: 'pcm' | 'frames';
  messages: number;
  windowStart: number;
}

/** One obfuscator stream per model file, shared by every client of that grant's task. */
interface Pipeline {
  model: string;
  session: Promise<OnnxSession>;
  stream: StreamingObfuscator | null;
  window: WindowConfig | null;
  clients: Set<Client>;
  seq: number;
  /** Samples the limiter touched since the last log line about it. */
  limited: number;
  limitLoggedAt: number;
}

const NOTHING: StreamOutput = {
  frames: new Float32Array(0),
  frameCount: 0,
  audio: new Float32Array(0),
  limitedSamples: 0,
};

type Resolved = Required<Omit<ServiceOptions, 'window' | 'log' | 'synthesis'>> & Pick<ServiceOptions, 'window' | 'log'>;

/**
 * Start the sensor; resolves once it listens. Refuses bad options, a missing, unreadable or corrupted
 * token store (unless `allowEmptyStore`) and a port in use, each with a sentence.
 * @example
 * const sensor = await PrivacySensor.start({ source: await fileLoopSource('in.wav'), tokens: new TokenStore('tokens.json') });
 * console.log(sensor.url); // ws://127.0.0.1:8765/stream
 * const why = await sensor.stopped; // { state: 'ended' } when the source ends
 */
export class PrivacySensor {
  readonly #o: Resolved;
  readonly synthesis: SynthesisConfig;
  readonly #app: FastifyInstance;
  readonly #wss: WebSocketServer;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #clients = new Set<Client>();
  readonly #abort = new AbortController();
  readonly #book: GrantBook;
  #timer: NodeJS.Timeout | null = null;
  #sourceState: 'running' | 'restarting' | 'ended' | 'failed' | 'closed' = 'running';
  #stopped: Promise<SourceStop> = Promise.resolve({ state: 'closed' });
  readonly #started = Date.now();
  port = 0;

  private constructor(o: ServiceOptions) {
    checkServiceOptions(o as unknown as Record<string, unknown>);
    this.#o = {
      host: '127.0.0.1',
      port: 8765,
      maxClients: 32,
      maxMessageBytes: 4096,
      maxMessagesPerSecond: 10,
      maxBufferedBytes: 8 << 20,
      checkIntervalMs: 1000,
      threads: 1,
      allowEmptyStore: false,
      restartSource: false,
      restartDelayMs: 1000,
      ...o,
    };
    try {
      this.synthesis = resolveSynthesisConfig(o.synthesis);
    } catch (e) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `synthesis: ${(e as Error).message}`);
    }
    this.#book = new GrantBook(this.#o.tokens, this.#o.allowEmptyStore, (l) => this.#log(l));
    this.#app = Fastify({ logger: false, bodyLimit: 1024 });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#o.maxMessageBytes, perMessageDeflate: false });
  }

  static async start(o: ServiceOptions): Promise<PrivacySensor> {
    const s = new PrivacySensor(o);
    s.#book.checkAtStart(s.synthesis);
    await s.#listen();
    return s;
  }

  get url(): string {
    return `ws://${this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host}:${this.port}/stream`;
  }

  /** Resolves when the sensor stops serving for good: the source ended or failed (without restart), or close(). */
  get stopped(): Promise<SourceStop> {
    return this.#stopped;
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }

  async #listen(): Promise<void> {
    this.#app.get('/health', async (req, reply) => {
      if (!isLoopbackHost(req.headers)) return reply.code(403).send({ ok: false, error: 'Host not allowed' });
      this.#book.refresh();
      const ok = (this.#sourceState === 'running' || this.#sourceState === 'restarting') && this.#book.problem === null;
      const token = requestToken(req.headers, new URL(req.url, 'http://localhost'));
      const grant = this.#book.verify(token);
      reply.code(ok ? 200 : 503);
      if (grant === null) return { ok };
      const clients = [...this.#clients].filter((c) => c.grant.task === grant.task).length;
      const status = this.#sourceState === 'running' ? 'ok' : `source ${this.#sourceState}`;
      return {
        ok,
        status,
        task: grant.task,
        clients,
        source: this.#o.source.kind ?? 'source',
        synthesis: this.synthesis.method,
        uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      };
    });
    await this.#app.ready();
    this.#app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#book.refresh();
    try {
      await this.#app.listen({ host: this.#o.host, port: this.#o.port });
    } catch (e) {
      await this.#app.close().catch(() => undefined);
      throw listenError(e, this.#o.host, this.#o.port);
    }
    const addr = this.#app.server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.#o.port;
    this.#timer = setInterval(() => this.#checkStoreAndRevocations(), this.#o.checkIntervalMs);
    this.#timer.unref();
    this.#stopped = this.#pump();
  }

  #checkStoreAndRevocations(): void {
    this.#book.refresh();
    for (const c of this.#clients) {
      if (this.#book.problem !== null) {
        c.ws.close(4002, `token store ${this.#book.problem}`);
        this.#drop(c);
        continue;
      }
      const g = this.#book.grants.find((x) => x.id === c.grant.id);
      if (g === undefined || g.revoked !== undefined) {
        this.#log(`grant ${c.grant.id} (${c.grant.task}) revoked: disconnecting`);
        c.ws.close(4001, 'token revoked');
        this.#drop(c);
      }
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/stream') return reject(socket, 404, 'Not Found');
    const token = requestToken(req.headers, url);
    if (!token) return reject(socket, 401, 'Unauthorized');
    if (this.#sourceState === 'ended' || this.#sourceState === 'failed')
      return reject(socket, 503, `Source ${capitalise(this.#sourceState)}`);
    this.#book.refresh();
    if (this.#book.problem !== null) return reject(socket, 503, `Token Store ${capitalise(this.#book.problem)}`);
    const grant = this.#book.verify(token);
    if (grant === null) return reject(socket, 403, 'Forbidden');
    if (this.#clients.size >= this.#o.maxClients) return reject(socket, 503, 'Too Many Clients');
    const format = url.searchParams.get('format') ?? 'pcm';
    if (format !== 'pcm' && format !== 'frames') return reject(socket, 400, 'Bad Request');
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, grant, format));
  }

  #newStream(p: Pipeline, s: OnnxSession): StreamingObfuscator {
    return new StreamingObfuscator((x) => s.run(x), p.window!, { synthesis: this.synthesis });
  }

  #connect(ws: WebSocket, grant: Grant, format: 'pcm' | 'frames'): void {
    const c: Client = { ws, grant, format, messages: 0, windowStart: Date.now() };
    this.#clients.add(c);
    let p = this.#pipelines.get(grant.model);
    if (p === undefined) {
      p = {
        model: grant.model,
        session: OnnxSession.load(grant.model, { threads: this.#o.threads }),
        stream: null,
        window: null,
        clients: new Set(),
        seq: 0,
        limited: 0,
        limitLoggedAt: Date.now(),
      };
      this.#pipelines.set(grant.model, p);
      const pipeline = p;
      p.session
        .then((s) => {
          pipeline.window = windowFromModel(s, this.#o.window ?? {});
          pipeline.stream = this.#newStream(pipeline, s);
        })
        .catch((e: unknown) => {
          this.#log(`cannot load ${grant.model}: ${(e as Error).message}`);
          for (const x of pipeline.clients) {
            x.ws.close(1011, 'model unavailable');
            this.#drop(x);
          }
        });
    }
    p.clients.add(c);
    const pipeline = p;
    void p.session.then(
      () => {
        if (ws.readyState !== ws.OPEN || pipeline.window === null) return;
        ws.send(helloMessage(grant, format, pipeline.window, this.synthesis));
      },
      () => undefined,
    );
    ws.on('message', (data, isBinary) => {
      const now = Date.now();
      if (now - c.windowStart >= 1000) {
        c.windowStart = now;
        c.messages = 0;
      }
      if (++c.messages > this.#o.maxMessagesPerSecond) {
        ws.close(1008, 'message rate limit');
        this.#drop(c);
        return;
      }
      if (!isBinary && data.toString() === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    });
    ws.on('close', () => this.#drop(c));
    ws.on('error', () => this.#drop(c, true));
  }

  /** Forget a client (after close(code) was sent, or `terminate` a dead or flooding one). */
  #drop(c: Client, terminate = false): void {
    if (terminate) c.ws.terminate();
    if (!this.#clients.delete(c)) return;
    const p = this.#pipelines.get(c.grant.model);
    if (p === undefined) return;
    p.clients.delete(c);
    if (p.clients.size === 0) {
      this.#pipelines.delete(p.model);
      void p.session.then(
        (s) => s.close(),
        () => undefined,
      );
    }
  }

  /** Send one stream output to every client of a pipeline (sequence number first). */
  #send(p: Pipeline, out: StreamOutput): void {
    const seq = p.seq++;
    p.limited += out.limitedSamples;
    if (p.limited > 0 && Date.now() - p.limitLoggedAt >= 10000) {
      this.#log(limiterLine(p.model, p.limited, Date.now() - p.limitLoggedAt));
      [p.limited, p.limitLoggedAt] = [0, Date.now()];
    }
    const pcm = out.audio.length ? encodePcm16(out.audio) : null;
    const frames = out.frameCount
      ? new Uint8Array(out.frames.buffer, out.frames.byteOffset, out.frames.byteLength)
      : null;
    for (const c of p.clients) {
      const payload = c.format === 'pcm' ? pcm : frames;
      if (payload === null || c.ws.readyState !== c.ws.OPEN) continue;
      if (c.ws.bufferedAmount > this.#o.maxBufferedBytes) {
        this.#log(`client of ${c.grant.id} is too slow: dropping it`);
        this.#drop(c, true);
        continue;
      }
      c.ws.send(sequenced(seq, payload));
    }
  }

  /** Run `step` on every live pipeline's stream; a failing stream closes its own clients only. */
  async #eachStream(step: (s: StreamingObfuscator) => Promise<StreamOutput>): Promise<void> {
    for (const p of [...this.#pipelines.values()]) {
      if (p.stream === null || p.clients.size === 0) continue;
      try {
        this.#send(p, await step(p.stream));
      } catch (e) {
        this.#log(`obfuscation failed for ${p.model}: ${(e as Error).message}`);
        for (const c of p.clients) {
          c.ws.close(1011, 'obfuscation failed');
          this.#drop(c);
        }
      }
    }
  }

  /** The source loop: every chunk goes through every live pipeline, in order; restarts when asked to. */
  async #pump(): Promise<SourceStop> {
    const src = this.#o.source;
    let delay = this.#o.restartDelayMs;
    for (;;) {
      const t0 = Date.now();
      let error: Error | undefined;
      try {
        for await (const chunk of abortableChunks(src, this.#abort.signal)) {
          if (this.#abort.signal.aborted) break;
          this.#sourceState = 'running';
          await this.#eachStream((s) => s.push(chunk));
        }
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
      if (this.#abort.signal.aborted) return { state: 'closed' };
      // the stream's last frames: every app gets the end of what the source said
      await this.#eachStream(async (s) => (s.received > 160 ? s.end() : NOTHING));
      const what = error ? `failed: ${error.message}` : 'ended';
      if (!this.#o.restartSource) {
        this.#sourceState = error ? 'failed' : 'ended';
        this.#log(`source ${src.name} ${what}; disconnecting every app and refusing new ones`);
        for (const c of [...this.#clients]) {
          c.ws.close(error ? 1011 : 1000, closeReason(`source ${what}`));
          this.#drop(c);
        }
        return error ? { state: 'failed', error } : { state: 'ended' };
      }
      this.#sourceState = 'restarting';
      if (Date.now() - t0 > 5000) delay = this.#o.restartDelayMs; // it ran a while: not a fast failure loop
      this.#log(`source ${src.name} ${what}; restarting it in ${delay} ms (--restart-source)`);
      for (const p of this.#pipelines.values()) {
        const session = await p.session.catch(() => null);
        if (session === null || p.window === null) continue;
        p.stream = this.#newStream(p, session);
        for (const c of p.clients)
          if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify({ type: 'source-restart', seq: p.seq }));
      }
      await sleep(delay, undefined, { signal: this.#abort.signal }).catch(() => undefined);
      delay = Math.min(30000, Math.max(1, 2 * delay));
      if (this.#abort.signal.aborted) return { state: 'closed' };
    }
  }

  /** Stop the source, disconnect everyone, close the sessions and the server. */
  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#timer) clearInterval(this.#timer);
    for (const c of [...this.#clients]) {
      c.ws.close(1001, 'sensor shutting down');
      this.#drop(c);
    }
    this.#wss.close();
    await this.#app.close();
    await this.#stopped.catch(() => undefined);
    if (this.#sourceState === 'running' || this.#sourceState === 'restarting') this.#sourceState = 'closed';
    for (const p of this.#pipelines.values())
      await p.session.then(
        (s) => s.close(),
        () => undefined,
      );
    this.#pipelines.clear();
  }
}
