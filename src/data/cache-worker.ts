// Worker thread of the feature cache: imports the compute function named by module path + export,
// then answers one job at a time. Started with env EARMARK_THREADS=1 so libtorch (if the compute
// function uses it) runs one intra-op thread per worker instead of every worker claiming every core.
import { parentPort, workerData } from 'node:worker_threads';
import { importCompute, checkFeatureItem, type ComputeFn } from './compute.js';
import type { Utterance } from './types.js';

interface Job {
  type: 'job';
  index: number;
  utterance: Utterance;
}
const port = parentPort!;
const { module, exportName, options } = workerData as { module: string; exportName: string; options: unknown };

let compute: ComputeFn;
try {
  compute = await importCompute(module, exportName);
} catch (e) {
  port.postMessage({ type: 'fatal', message: (e as Error).message });
  process.exit(1);
}

port.on('message', async (job: Job) => {
  try {
    const item = checkFeatureItem(await compute(job.utterance, options), `${exportName} from ${module}`);
    // transfer the buffer (zero copy) unless the array is a view on a bigger one
    const data =
      item.data.byteOffset === 0 && item.data.byteLength === item.data.buffer.byteLength
        ? item.data
        : item.data.slice();
    port.postMessage({ type: 'done', index: job.index, data, shape: item.shape, stats: item.stats }, [
      data.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    const err = e as Error & { code?: string };
    port.postMessage({ type: 'error', index: job.index, message: err?.message ?? String(e), code: err?.code });
  }
});
port.postMessage({ type: 'ready' });
