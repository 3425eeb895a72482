// The privacy sensor (Wang et al.'s deployment): a local service between the microphone and every app.
// It reads one source, obfuscates on the device, and serves each connected app the obfuscated stream
// of the ONE task its token grants. Nothing else leaves it: the only routes are GET /health (JSON
// status) and the WebSocket /stream; raw audio is never served.
//
// Protocol: connect to ws://127.0.0.1:<port>/stream with `Authorization: Bearer <token>` (or
// ?token=<token> for clients that cannot set headers) and optionally ?format=pcm|frames. The first
// message is JSON text {type:'hello', task, grant, sampleRate, format, window, latencyMs, synthesis}; then binary
// messages: a 4-byte little-endian u32 sequence number (one per source chunk, shared by every client of
// the task, so equal numbers mean equal payloads) followed by obfuscated s16le PCM or float32 frames of
// 161 values (obfuscated log1p|STFT|). Apps may send small text messages ('ping' → {type:'pong'});
// oversize messages (ws close 1009) and floods (close 1008) end that client only. After a source restart
// the sensor sends {type:'source-restart'}: the audio that follows does not continue the previous audio.
// Refusals at the upgrade: 401 no token, 403 unknown or revoked token, 503 too many clients, source ended
// or failed, token store missing/unreadable/corrupted; 404 other paths. Revoked grants are closed with 4001
// at the next store check, every app with 4002 and the reason when the store becomes unusable.
// PCM is synthesised from the obfuscated magnitude alone; the unsafe original phase needs the store's opt-in.
// When the source ends or fails, apps get the end of their stream, then a close with the reason (1000
// 'source ended', 1011 'source failed: …'); new apps get 503 and `stopped` resolves (unless restartSource).
// GET /health answers loopback Host names only, and only {"ok": …} without a valid token.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { EarmarkError } from '../errors.js';
import { StreamingObfuscator, algorithmicLatency, type StreamOutput, type WindowConfig } from './obfuscate.js';
import { windowFromModel } from './obfuscate-io.js';
import { encodePcm16 } from './pcm.js';
import { OnnxSession } from './runtime.js';
import {
  capitalise, checkServiceOptions, closeReason, isLoopbackHost, listenError, reject, requestToken, type ServiceOptions, type SourceStop,
} from './service-options.js';
import { abortableChunks } from './sources.js';
import { resolveSynthesisConfig, type SynthesisConfig } from './synthesis.js';
import { TokenStoreError, type Grant, type TokenStoreProblem } from './tokens.js';

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
  #timer: NodeJS.Timeout | null = null;
  #storeMtime = -1;
  #grants: Grant[] = [];
  #storeProblem: TokenStoreProblem | null = null;
  #sourceState: 'running' | 'restarting' | 'ended' | 'failed' | 'closed' = 'running';
  #stopped: Promise<SourceStop> = Promise.resolve({ state: 'closed' });
  readonly #started = Date.now();
  port = 0;

  private constructor(o: ServiceOptions) {
    checkServiceOptions(o as unknown as Record<string, unknown>);
    this.#o = {
      host: '127.0.0.1', port: 8765, maxClients: 32, maxMessageBytes: 4096, maxMessagesPerSecond: 10, maxBufferedBytes: 8 << 20,
      checkIntervalMs: 1000, threads: 1, allowEmptyStore: false, restartSource: false, restartDelayMs: 1000, ...o,
    };
    try {
      this.synthesis = resolveSynthesisConfig(o.synthesis);
    } catch (e) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `synthesis: ${(e as Error).message}`);
    }
    this.#app = Fastify({ logger: false, bodyLimit: 1024 });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#o.maxMessageBytes, perMessageDeflate: false });
  }

  static async start(o: ServiceOptions): Promise<PrivacySensor> {
    const s = new PrivacySensor(o);
    s.#checkStore();
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

  /** At start: the store must exist and parse (unless allowEmptyStore), and opt in to the unsafe phase if asked. */
  #checkStore(): void {
    const store = this.#o.tokens;
    try {
      store.check();
    } catch (e) {
      if (!(e instanceof TokenStoreError) || e.problem === 'corrupted' || !this.#o.allowEmptyStore) throw e;
      this.#log(`token store ${store.file} is ${e.problem}: starting anyway (--allow-empty-store); every app is refused until a grant exists`);
    }
    if (this.synthesis.method === 'unsafe-original-phase' && !(store.exists() && store.allowsUnsafeOriginalPhase())) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--unsafe-original-phase is refused: the token store ${store.file} does not opt in. The original phase ` +
        'leaks the input to every app; if you really mean it, run `earmark grant --allow-unsafe-original-phase` on that store first');
    }
  }

  async #listen(): Promise<void> {
    this.#app.get('/health', async (req, reply) => {
      if (!isLoopbackHost(req.headers)) return reply.code(403).send({ ok: false, error: 'Host not allowed' });
      this.#refreshGrants();
      const ok = (this.#sourceState === 'running' || this.#sourceState === 'restarting') && this.#storeProblem === null;
      const token = requestToken(req.headers, new URL(req.url, 'http://localhost'));
      const grant = this.#storeProblem === null ? this.#o.tokens.verify(token, this.#grants) : null;
      reply.code(ok ? 200 : 503);
      if (grant === null) return { ok };
      const mine = [...this.#clients].filter((c) => c.grant.task === grant.task);
      return {
        ok, status: this.#sourceState === 'running' ? 'ok' : `source ${this.#sourceState}`, task: grant.task, clients: mine.length,
        source: this.#o.source.kind ?? 'source', synthesis: this.synthesis.method,
        uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
      };
    });
    await this.#app.ready();
    this.#app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#refreshGrants();
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

  #refreshGrants(): void {
    const store = this.#o.tokens;
    try {
      if (!store.exists()) {
        this.#grants = [];
        this.#storeMtime = -1;
        this.#setStoreProblem(this.#o.allowEmptyStore ? null : 'missing');
        return;
      }
      const m = store.mtimeMs();
      if (m !== this.#storeMtime || this.#storeProblem !== null) {
        this.#grants = store.read();
        this.#storeMtime = m;
      }
      this.#setStoreProblem(null);
    } catch (e) {
      // an unusable store grants nothing (fail closed), and says why
      this.#grants = [];
      this.#storeMtime = -1;
      this.#setStoreProblem(e instanceof TokenStoreError ? e.problem : 'unreadable', (e as Error).message);
    }
  }

  #setStoreProblem(p: TokenStoreProblem | null, detail = ''): void {
    if (p !== this.#storeProblem) this.#log(p === null ? 'token store readable again' : `token store ${p}, refusing every app: ${detail || this.#o.tokens.file}`);
    this.#storeProblem = p;
  }

  #checkStoreAndRevocations(): void {
    this.#refreshGrants();
    for (const c of this.#clients) {
      if (this.#storeProblem !== null) {
        c.ws.close(4002, `token store ${this.#storeProblem}`);
        this.#drop(c);
        continue;
      }
      const g = this.#grants.find((x) => x.id === c.grant.id);
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
    if (this.#sourceState === 'ended' || this.#sourceState === 'failed') return reject(socket, 503, `Source ${capitalise(this.#sourceState)}`);
    this.#refreshGrants();
    if (this.#storeProblem !== null) return reject(socket, 503, `Token Store ${capitalise(this.#storeProblem)}`);
    const grant = this.#o.tokens.verify(token, this.#grants);
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
      p = { model: grant.model, session: OnnxSession.load(grant.model, { threads: this.#o.threads }), stream: null, window: null,
        clients: new Set(), seq: 0, limited: 0, limitLoggedAt: Date.now() };
      this.#pipelines.set(grant.model, p);
      const pipeline = p;
      p.session.then((s) => {
        pipeline.window = windowFromModel(s, this.#o.window ?? {});
        pipeline.stream = this.#newStream(pipeline, s);
      }).catch((e: unknown) => {
        this.#log(`cannot load ${grant.model}: ${(e as Error).message}`);
        for (const x of pipeline.clients) { x.ws.close(1011, 'model unavailable'); this.#drop(x); }
      });
    }
    p.clients.add(c);
    const pipeline = p;
    void p.session.then(() => {
      if (ws.readyState !== ws.OPEN || pipeline.window === null) return;
      const w = pipeline.window;
      const unsafe = this.synthesis.method === 'unsafe-original-phase' ? { unsafeOriginalPhase: true } : {};
      ws.send(JSON.stringify({ type: 'hello', task: grant.task, grant: grant.id, sampleRate: 16000, format, window: w,
        latencyMs: Math.round((1000 * algorithmicLatency(w, 1600)) / 16000), synthesis: this.synthesis.method, ...unsafe }));
    }, () => undefined);
    ws.on('message', (data, isBinary) => {
      const now = Date.now();
      if (now - c.windowStart >= 1000) { c.windowStart = now; c.messages = 0; }
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
      void p.session.then((s) => s.close(), () => undefined);
    }
  }

  /** Send one stream output to every client of a pipeline (sequence number first). */
  #send(p: Pipeline, out: StreamOutput): void {
    const seq = p.seq++;
    p.limited += out.limitedSamples;
    if (p.limited > 0 && Date.now() - p.limitLoggedAt >= 10000) {
      this.#log(`limiter: ${p.limited} samples of ${p.model}'s audio limited in the last ${Math.round((Date.now() - p.limitLoggedAt) / 1000)} s (they would have clipped)`);
      p.limited = 0;
      p.limitLoggedAt = Date.now();
    }
    const pcm = out.audio.length ? encodePcm16(out.audio) : null;
    const frames = out.frameCount ? new Uint8Array(out.frames.buffer, out.frames.byteOffset, out.frames.byteLength) : null;
    for (const c of p.clients) {
      const payload = c.format === 'pcm' ? pcm : frames;
      if (payload === null || c.ws.readyState !== c.ws.OPEN) continue;
      if (c.ws.bufferedAmount > this.#o.maxBufferedBytes) {
        this.#log(`client of ${c.grant.id} is too slow: dropping it`);
        this.#drop(c, true);
        continue;
      }
      const msg = new Uint8Array(4 + payload.length);
      new DataView(msg.buffer).setUint32(0, seq >>> 0, true);
      msg.set(payload, 4);
      c.ws.send(msg);
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
        for (const c of p.clients) { c.ws.close(1011, 'obfuscation failed'); this.#drop(c); }
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
      const nothing: StreamOutput = { frames: new Float32Array(0), frameCount: 0, audio: new Float32Array(0), limitedSamples: 0 };
      await this.#eachStream(async (s) => (s.received > 160 ? s.end() : nothing));
      const what = error ? `failed: ${error.message}` : 'ended';
      if (!this.#o.restartSource) {
        this.#sourceState = error ? 'failed' : 'ended';
        this.#log(`source ${src.name} ${what}; disconnecting every app and refusing new ones`);
        for (const c of [...this.#clients]) { c.ws.close(error ? 1011 : 1000, closeReason(`source ${what}`)); this.#drop(c); }
        return error ? { state: 'failed', error } : { state: 'ended' };
      }
      this.#sourceState = 'restarting';
      if (Date.now() - t0 > 5000) delay = this.#o.restartDelayMs; // it ran a while: not a fast failure loop
      this.#log(`source ${src.name} ${what}; restarting it in ${delay} ms (--restart-source)`);
      for (const p of this.#pipelines.values()) {
        const session = await p.session.catch(() => null);
        if (session === null || p.window === null) continue;
        p.stream = this.#newStream(p, session);
        for (const c of p.clients) if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify({ type: 'source-restart', seq: p.seq }));
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
    for (const c of [...this.#clients]) { c.ws.close(1001, 'sensor shutting down'); this.#drop(c); }
    this.#wss.close();
    await this.#app.close();
    await this.#stopped.catch(() => undefined);
    if (this.#sourceState === 'running' || this.#sourceState === 'restarting') this.#sourceState = 'closed';
    for (const p of this.#pipelines.values()) await p.session.then((s) => s.close(), () => undefined);
    this.#pipelines.clear();
  }
}
