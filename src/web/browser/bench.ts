// The in-browser half of `npm run bench` (bench/web.ts): bench.html?model=<id>&seconds=<s> on the sensor's
// origin starts the sensor Worker and exposes window.earmarkBench.run(repeats), which times the Worker's
// obfuscateOffline on speechLike(seconds) (the session is loaded once), so the bench can alternate
// browser and Node rounds.
import type { BenchResult, FrameToWorker, WorkerToFrame } from './internal.js';

interface ModelInfo {
  id: string;
  window: { windowFrames: number; lookaheadFrames: number };
}

const q = new URLSearchParams(location.search);
const worker = new Worker(new URL('assets/worker.js', location.href), { type: 'module' });
const setup = (async (): Promise<{ model: ArrayBuffer; info: ModelInfo; threads: number }> => {
  const { models, threads } = (await (await fetch('models.json')).json()) as { models: ModelInfo[]; threads: number };
  const info = models.find((m) => m.id === (q.get('model') ?? models[0]?.id));
  if (info === undefined) throw new Error(`no model '${q.get('model')}' on this sensor`);
  return { model: await (await fetch(`models/${encodeURIComponent(info.id)}.onnx`)).arrayBuffer(), info, threads };
})();

async function run(repeats = 1): Promise<BenchResult> {
  const { model, info, threads } = await setup;
  const msg: FrameToWorker = {
    type: 'bench',
    model: model.slice(0),
    window: info.window,
    threads,
    wasmBase: new URL('assets/ort/', location.href).href,
    seconds: Number(q.get('seconds') ?? 10),
    repeats,
  };
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<WorkerToFrame>): void => {
      if (e.data.type === 'bench') resolve(e.data.result);
      else if (e.data.type === 'error') reject(new Error(e.data.message));
    };
    worker.postMessage(msg);
  });
}

(window as unknown as { earmarkBench: { run: typeof run } }).earmarkBench = { run };
setup.then(
  () => {
    document.getElementById('result')!.textContent = 'ready: call earmarkBench.run(repeats)';
  },
  (e: unknown) => {
    document.getElementById('result')!.textContent = `error: ${(e as Error).message}`;
  },
);
