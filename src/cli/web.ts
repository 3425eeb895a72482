// `earmark web`: the browser sensor's demo. Builds the browser bundles if stale, then serves the demo app
// and the sensor frame on two loopback ports (two origins), every asset local. The models and the
// origins are checked before anything is built or bound.
import { describeModel, findModels } from '../web/models.js';
import { defineCommand, usageError } from './args.js';
import { isListenUsageError } from './report.js';

/** `http://localhost:5173` and the like: an origin has a scheme, a host, maybe a port, and nothing else. */
function checkOrigin(o: string): void {
  let u: URL | undefined;
  try {
    u = new URL(o);
  } catch {
    /* refused below */
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o.replace(/\/$/, '')) {
    throw usageError(`--allow-origin: '${o}' is not an origin; give scheme://host[:port], e.g. http://localhost:5173`);
  }
}

export const web = defineCommand({
  name: 'web',
  summary:
    'Serve the in-browser privacy sensor demo on 127.0.0.1: pick an exported obfuscator, grant one task, ' +
    'start the microphone; the app page receives only the obfuscated stream ' +
    '(onnxruntime-web in a Worker, all assets local).',
  flags: {
    runs: { type: 'string', description: 'offer every <runs>/<run>/obfuscator.onnx', default: 'runs' },
    model: { type: 'string', description: 'also offer this exported obfuscator (.onnx)', exists: 'file' },
    task: { type: 'string', description: "the task of --model (default: its run's report.json, else 'task')" },
    host: {
      type: 'string',
      description: 'bind address (loopback keeps both pages on this device)',
      default: '127.0.0.1',
    },
    port: { type: 'int', description: 'the demo app page (0 = any free port)', default: 8766, min: 0, max: 65535 },
    sensorPort: {
      type: 'int',
      description: 'the sensor frame, a second origin (0 = any free port)',
      default: 8767,
      min: 0,
      max: 65535,
    },
    allowOrigin: {
      type: 'list',
      description: 'more app origins that may embed the sensor frame, comma-separated (e.g. http://localhost:5173)',
    },
    threads: {
      type: 'int',
      description: 'onnxruntime-web threads (more than 1 needs a cross-origin-isolated page)',
      default: 1,
      min: 1,
      max: 64,
    },
  },
  check(o) {
    if (o.port !== 0 && o.port === o.sensorPort)
      throw usageError(`--port and --sensor-port are both ${o.port}; the two pages need two ports (two origins)`);
    for (const origin of o.allowOrigin ?? []) checkOrigin(origin);
    if (o.task !== undefined && o.model === undefined)
      throw usageError('--task names the task of --model; give --model <obfuscator.onnx> too');
    const models = findModels(o.runs);
    if (o.model !== undefined) models.push(describeModel(o.model, `m${models.length}`, o.task));
    return models;
  },
  async run(o, { checked: models }) {
    const { buildWeb } = await import('../web/build.js');
    const { WebDemoServer } = await import('../web/server.js');
    await buildWeb();
    const server = await WebDemoServer.start({
      models,
      host: o.host,
      port: o.port,
      sensorPort: o.sensorPort,
      threads: o.threads,
      appOrigins: o.allowOrigin ?? [],
    }).catch((e: unknown) => {
      if (isListenUsageError(e)) throw usageError((e as Error).message, e);
      throw e;
    });
    console.error(
      `earmark web: open ${server.appUrl} (the sensor frame is ${server.sensorUrl}); ${models.length} model(s): ` +
        `${models.map((m) => `${m.task} (${m.name})`).join(', ')}; Ctrl-C stops`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    return 0;
  },
});
