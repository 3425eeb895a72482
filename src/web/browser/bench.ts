// The in-browser half of `npm run bench` (bench/web.ts): bench.html?model=<id>&seconds=<s>&repeats=<n>
// on the sensor's origin runs the sensor Worker's bench on speechLike(seconds) and publishes the result
// as window.earmarkBench (and in the page).
import type { BenchResult, FrameToWorker, WorkerToFrame } from './internal.js';

interface ModelInfo { id: string; window: { windowFrames: number; lookaheadFrames: number } }

async function run(): Promise<BenchResult> {
  const q = new URLSearchParams(location.search);
  const { models, threads } = await (await fetch('models.json')).json() as { models: ModelInfo[]; threads: number };
  const model = models.find((m) => m.id === (q.get('model') ?? models[0]?.id));
  if (model === undefined) throw new Error(`no model '${q.get('model')}' on this sensor`);
  const bytes = await (await fetch(`models/${encodeURIComponent(model.id)}.onnx`)).arrayBuffer();
  const w = new Worker(new URL('assets/worker.js', location.href), { type: 'module' });
  const msg: FrameToWorker = { type: 'bench', model: bytes, window: model.window, threads, wasmBase: new URL('assets/ort/', location.href).href,
    seconds: Number(q.get('seconds') ?? 10), repeats: Number(q.get('repeats') ?? 3) };
  return new Promise((resolve, reject) => {
    w.onmessage = (e: MessageEvent<WorkerToFrame>): void => {
      if (e.data.type === 'bench') resolve(e.data.result);
      else if (e.data.type === 'error') reject(new Error(e.data.message));
    };
    w.postMessage(msg, [bytes]);
  });
}

const out = document.getElementById('result')!;
run().then((r) => {
  (window as unknown as { earmarkBench: BenchResult }).earmarkBench = r;
  out.textContent = JSON.stringify(r);
}, (e: unknown) => {
  (window as unknown as { earmarkBench: { error: string } }).earmarkBench = { error: (e as Error).message };
  out.textContent = `error: ${(e as Error).message}`;
});
