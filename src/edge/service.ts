// The privacy sensor (Wang et al.'s deployment): a local service between the microphone and every app.
// It reads one source, obfuscates on the device, and serves each connected app the obfuscated stream
// of the ONE task its token grants. Nothing else leaves it: the only routes are GET /health (JSON
// status) and the WebSocket /stream; raw audio is never served.
//
// Protocol: connect to ws://127.0.0.1:<port>/stream with `Authorization: Bearer <token>` (or
// ?token=<token> for clients that cannot set headers) and optionally ?format=pcm|frames. The first
// message is JSON text {type:'hello', task, grant, sampleRate, format, window, latencyMs}; then binary
// messages: a 4-byte little-endian u32 sequence number (one per source chunk, shared by every client of
// the task, so equal numbers mean equal payloads) followed by obfuscated s16le PCM or float32 frames of
// 161 values (obfuscated log1p|STFT|). Apps may send small text messages ('ping' → {type:'pong'});
// oversize messages (ws close 1009) and floods (close 1008) end that client only.
// Refusals at the upgrade: 401 no token, 403 unknown or revoked token, 503 too many clients,
// 404 any other path. Revoked grants are disconnected (close 4001) at the next store check.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { StreamingObfuscator, algorithmicLatency, type WindowConfig } from './obfuscate.js';
import { encodePcm16 } from './pcm.js';
import { OnnxSession } from './runtime.js';
import type { AudioSource } from './sources.js';
import type { Grant, TokenStore } from './tokens.js';
import { windowFromModel } from './obfuscate-io.js';

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
  log?: (line: string) => void;
}

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
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`);
  socket.destroy();
}

/**
 * Start the sensor; resolves once it listens.
 * @example
 * const sensor = await PrivacySensor.start({ source: await fileLoopSource('in.wav'), tokens: new TokenStore('tokens.json') });
 * console.log(sensor.url); // ws://127.0.0.1:8765/stream
 */
export class PrivacySensor {
  readonly #o: Required<Omit<ServiceOptions, 'window' | 'log'>> & Pick<ServiceOptions, 'window' | 'log'>;
  readonly #app: FastifyInstance;
  readonly #wss: WebSocketServer;
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #clients = new Set<Client>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #storeMtime = -1;
  #grants: Grant[] = [];
  #sourceState: 'running' | 'ended' | 'failed' = 'running';
  #sourceDone: Promise<void> = Promise.resolve();
  readonly #started = Date.now();
  port = 0;

  private constructor(o: ServiceOptions) {
    this.#o = {
      host: '127.0.0.1', port: 8765, maxClients: 32, maxMessageBytes: 4096, maxMessagesPerSecond: 10, maxBufferedBytes: 8 << 20,
      checkIntervalMs: 1000, threads: 1, ...o,
    };
    this.#app = Fastify({ logger: false, bodyLimit: 1024 });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#o.maxMessageBytes, perMessageDeflate: false });
  }

  static async start(o: ServiceOptions): Promise<PrivacySensor> {
    const s = new PrivacySensor(o);
    await s.#listen();
    return s;
  }

  get url(): string {
    return `ws://${this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host}:${this.port}/stream`;
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }

  async #listen(): Promise<void> {
    this.#app.get('/health', async () => ({
      status: this.#sourceState === 'running' ? 'ok' : `source ${this.#sourceState}`,
      source: this.#o.source.name,
      clients: this.#clients.size,
      tasks: Object.fromEntries([...this.#pipelines.values()].map((p) => [p.clients.values().next().value?.grant.task ?? '?', p.clients.size])),
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
    }));
    await this.#app.ready();
    this.#app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#refreshGrants();
    await this.#app.listen({ host: this.#o.host, port: this.#o.port });
    const addr = this.#app.server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.#o.port;
    this.#timer = setInterval(() => this.#checkRevocations(), this.#o.checkIntervalMs);
    this.#timer.unref();
    this.#sourceDone = this.#pump();
  }

  #refreshGrants(): void {
    try {
      const m = this.#o.tokens.mtimeMs();
      if (m !== this.#storeMtime) {
        this.#grants = this.#o.tokens.read();
        this.#storeMtime = m;
      }
    } catch (e) {
      // an unreadable store grants nothing: fail closed
      this.#grants = [];
      this.#log(`token store unreadable, refusing everyone: ${(e as Error).message}`);
    }
  }

  #checkRevocations(): void {
    this.#refreshGrants();
    for (const c of this.#clients) {
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
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : url.searchParams.get('token') ?? undefined;
    if (!token) return reject(socket, 401, 'Unauthorized');
    this.#refreshGrants();
    const grant = this.#o.tokens.verify(token, this.#grants);
    if (grant === null) return reject(socket, 403, 'Forbidden');
    if (this.#clients.size >= this.#o.maxClients) return reject(socket, 503, 'Too Many Clients');
    const format = url.searchParams.get('format') ?? 'pcm';
    if (format !== 'pcm' && format !== 'frames') return reject(socket, 400, 'Bad Request');
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, grant, format));
  }

  #connect(ws: WebSocket, grant: Grant, format: 'pcm' | 'frames'): void {
    const c: Client = { ws, grant, format, messages: 0, windowStart: Date.now() };
    this.#clients.add(c);
    let p = this.#pipelines.get(grant.model);
    if (p === undefined) {
      p = { model: grant.model, session: OnnxSession.load(grant.model, { threads: this.#o.threads }), stream: null, window: null, clients: new Set(), seq: 0 };
      this.#pipelines.set(grant.model, p);
      const pipeline = p;
      p.session.then((s) => {
        pipeline.window = windowFromModel(s, this.#o.window ?? {});
        pipeline.stream = new StreamingObfuscator((x) => s.run(x), pipeline.window);
      }, (e: unknown) => {
        this.#log(`cannot load ${grant.model}: ${(e as Error).message}`);
        for (const x of pipeline.clients) { x.ws.close(1011, 'model unavailable'); this.#drop(x); }
      });
    }
    p.clients.add(c);
    const pipeline = p;
    void p.session.then(() => {
      if (ws.readyState !== ws.OPEN) return;
      const w = pipeline.window!;
      ws.send(JSON.stringify({ type: 'hello', task: grant.task, grant: grant.id, sampleRate: 16000, format, window: w,
        latencyMs: Math.round((1000 * algorithmicLatency(w, 1600)) / 16000) }));
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

  /** Forget a client (after close(code) has been sent, or with `terminate` for a dead or flooding one). */
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

  /** The source loop: every chunk goes through every live pipeline, in order. */
  async #pump(): Promise<void> {
    try {
      for await (const chunk of this.#o.source.chunks(this.#abort.signal)) {
        if (this.#abort.signal.aborted) break;
        for (const p of [...this.#pipelines.values()]) {
          if (p.stream === null || p.clients.size === 0) continue;
          let out;
          try {
            out = await p.stream.push(chunk);
          } catch (e) {
            this.#log(`obfuscation failed for ${p.model}: ${(e as Error).message}`);
            for (const c of p.clients) { c.ws.close(1011, 'obfuscation failed'); this.#drop(c); }
            continue;
          }
          const seq = p.seq++;
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
      }
      this.#sourceState = 'ended';
    } catch (e) {
      this.#sourceState = 'failed';
      this.#log(`source ${this.#o.source.name} failed: ${(e as Error).message}`);
    }
    if (!this.#abort.signal.aborted) {
      for (const c of [...this.#clients]) { c.ws.close(1000, `source ${this.#sourceState}`); this.#drop(c); }
    }
  }

  /** Stop the source, disconnect everyone, close the sessions and the server. */
  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#timer) clearInterval(this.#timer);
    for (const c of [...this.#clients]) { c.ws.close(1001, 'sensor shutting down'); this.#drop(c); }
    this.#wss.close();
    await this.#app.close();
    await this.#sourceDone.catch(() => undefined);
    for (const p of this.#pipelines.values()) await p.session.then((s) => s.close(), () => undefined);
    this.#pipelines.clear();
  }
}
