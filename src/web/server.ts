// `earmark web`'s two local origins, both bound to loopback:
//   the sensor (http://127.0.0.1:<sensorPort>/): the sensor frame, its Worker and worklet bundles, the
//     onnxruntime-web runtime files, models.json and the models; its CSP lets it connect to itself only,
//     and lets only the demo app's origin embed it;
//   the demo app (http://127.0.0.1:<port>/): an ordinary app page using `earmark/web` (createSensor), the
//     sensor embedded as a frame, or with ?mode=window in its own top-level window.
// Two ports are two origins, so the browser's same-origin policy keeps the app's code out of the sensor
// frame; on loopback the sensor is addressed as `localhost` and the app as 127.0.0.1, two sites, so site
// isolation also gives the sensor its own renderer process. Every asset is served from dist/web
// (src/web/build.ts); nothing comes from a CDN.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { webAssetsDir } from './build.js';
import type { WebModel } from './models.js';

export interface WebServerOptions {
  models: WebModel[];
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** The demo app's port (default 8766; 0 = any free port). */
  port?: number;
  /** The sensor's port (default 8767; 0 = any free port). */
  sensorPort?: number;
  /** onnxruntime-web threads (default 1; more need a cross-origin-isolated sensor page). */
  threads?: number;
  /** More app origins allowed to embed the sensor frame (CSP frame-ancestors), besides the demo app. */
  appOrigins?: string[];
  /** Tests only: the sensor frame keeps the 16 kHz stream it obfuscated, for comparison with Node. */
  keepCapture?: boolean;
  /** Built assets (default dist/web). */
  assetsDir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};

/** Asset names the servers hand out (no paths, no dot files). */
const ASSET = /^(ort\/)?[a-z0-9-]+(\.[a-z0-9-]+)*\.(js|mjs|wasm|css|map)$/;

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function send(
  res: http.ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendFile(res: http.ServerResponse, file: string): void {
  if (!existsSync(file)) return send(res, 404, 'Not Found');
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
  });
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** A malformed request (e.g. a bad %-escape) gets a 400, never an exception in the server. */
function guarded(route: Route): Route {
  return (req, res) => {
    try {
      route(req, res);
    } catch {
      if (!res.headersSent) send(res, 400, 'Bad Request');
      else res.destroy();
    }
  };
}

async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new EarmarkError(
          'EARMARK_IO',
          `cannot listen on ${host}:${port} (${e.code ?? e.message}); choose another --port / --sensor-port`,
          { cause: e },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The demo app and the sensor on two loopback ports.
 * @example
 * const web = await WebDemoServer.start({ models: findModels('runs') });
 * console.log(`open ${web.appUrl}`); // the sensor frame is web.sensorUrl
 */
export class WebDemoServer {
  readonly #app: http.Server;
  readonly #sensor: http.Server;
  appUrl = '';
  sensorUrl = '';

  private constructor(app: http.Server, sensor: http.Server) {
    this.#app = app;
    this.#sensor = sensor;
  }

  static async start(o: WebServerOptions): Promise<WebDemoServer> {
    if (o.models.length === 0) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        'no obfuscator to offer: run `earmark demo` (it writes runs/demo/obfuscator.onnx) or give --model <file.onnx>',
      );
    }
    const host = o.host ?? '127.0.0.1';
    const threads = o.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`'threads' must be an integer >= 1, got ${threads}`);
    const dir = o.assetsDir ?? webAssetsDir();
    if (!existsSync(path.join(dir, 'frame.js')))
      throw new EarmarkError('EARMARK_IO', `no browser build in ${dir}; run \`npm run bootstrap\``);
    const hostUrl = host.includes(':') ? `[${host}]` : host;
    // the sensor's own site on loopback: 'localhost' resolves to the loopback address we bind
    const sensorHost = host === '127.0.0.1' ? 'localhost' : hostUrl;
    const extra = o.appOrigins ?? [];
    for (const a of extra) {
      if (!/^https?:\/\/[^/\s;,']+$/.test(a))
        throw new EarmarkError(
          'EARMARK_BAD_ARGUMENT',
          `--allow-origin '${a}' is not an origin such as http://localhost:5173 (scheme, host, optional port; no path)`,
        );
    }
    let appOrigin = '';
    let sensorOrigin = '';
    const common = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    const models = new Map(o.models.map((m) => [m.id, m]));
    const config = JSON.stringify({
      models: o.models.map(({ id, name, task, window }) => ({ id, name, task, window })),
      threads,
      keepCapture: o.keepCapture ?? false,
    });

    const sensorRoutes: Route = (req, res) => {
      for (const [k, v] of Object.entries(common)) res.setHeader(k, v);
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; " +
          "img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; " +
          `frame-ancestors 'self' ${[appOrigin, ...extra].join(' ')}`,
      );
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      const url = new URL(req.url ?? '/', sensorOrigin);
      const p = decodeURIComponent(url.pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method Not Allowed');
      if (p === '/' || p === '/sensor.html') return sendFile(res, path.join(dir, 'sensor.html'));
      if (p === '/bench.html') return sendFile(res, path.join(dir, 'bench.html'));
      if (p === '/models.json') return send(res, 200, config, TYPES['.json']);
      const m = /^\/models\/([A-Za-z0-9_-]+)\.onnx$/.exec(p);
      if (m) {
        const model = models.get(m[1]!);
        return model ? sendFile(res, model.file) : send(res, 404, 'Not Found');
      }
      if (
        p.startsWith('/assets/') &&
        ASSET.test(p.slice(8)) &&
        !p.startsWith('/assets/earmark-web') &&
        !p.startsWith('/assets/demo')
      ) {
        return sendFile(res, path.join(dir, p.slice(8)));
      }
      return send(res, p === '/favicon.ico' ? 204 : 404, '');
    };

    const appRoutes: Route = (req, res) => {
      for (const [k, v] of Object.entries(common)) res.setHeader(k, v);
      res.setHeader(
        'Content-Security-Policy',
        `default-src 'self'; script-src 'self'; frame-src ${sensorOrigin}; connect-src 'self'; ` +
          "img-src 'self'; style-src 'self'; media-src 'self' blob: mediastream:; base-uri 'none'; form-action 'none'",
      );
      const p = decodeURIComponent(new URL(req.url ?? '/', appOrigin).pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method Not Allowed');
      if (p === '/' || p === '/index.html') {
        const page = readFileSync(path.join(dir, 'index.html'), 'utf8').replace('{{SENSOR_URL}}', `${sensorOrigin}/`);
        return send(res, 200, page, TYPES['.html']);
      }
      const name = p.slice(8);
      if (p.startsWith('/assets/') && ASSET.test(name) && /^(earmark-web|demo|style)\./.test(name))
        return sendFile(res, path.join(dir, name));
      return send(res, p === '/favicon.ico' ? 204 : 404, '');
    };

    const sensor = http.createServer(guarded(sensorRoutes));
    const app = http.createServer(guarded(appRoutes));
    const s = new WebDemoServer(app, sensor);
    sensorOrigin = `http://${sensorHost}:${await listen(sensor, host, o.sensorPort ?? 8767)}`;
    try {
      appOrigin = `http://${hostUrl}:${await listen(app, host, o.port ?? 8766)}`;
    } catch (e) {
      sensor.close();
      throw e;
    }
    s.sensorUrl = `${sensorOrigin}/`;
    s.appUrl = `${appOrigin}/`;
    return s;
  }

  async close(): Promise<void> {
    for (const server of [this.#app, this.#sensor]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
