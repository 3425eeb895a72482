// The addon in worker threads: every JS environment has its own op table and handle registry, so
// workers computing at the same time as the main thread neither corrupt memory nor see each other's
// tensors in memory().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { memory, randn, tidy } from '../src/tensor/index.js';

const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.url).then((T) => {
    const base = T.memory().numTensors;
    let acc = 0;
    for (let i = 0; i < 400; i++) acc += T.tidy(() => T.arange(0, 100, 1, { dtype: 'float64' }).mul(i % 7).sum().item());
    const held = T.randn([8, 8]);
    parentPort.postMessage({ acc, live: T.memory().numTensors - base });
    held.dispose();
  }).catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

test('worker threads run tensor ops concurrently with the main thread, each with its own accounting', async () => {
  const url = new URL('../src/tensor/index.js', import.meta.url).href;
  const before = memory().numTensors;
  const runs = [0, 1, 2].map(
    () =>
      new Promise<{ acc: number; live: number }>((resolve, reject) => {
        const w = new Worker(WORKER, { eval: true, workerData: { url } });
        w.once('message', (m: { acc: number; live: number; error?: string }) =>
          m.error ? reject(new Error(m.error)) : resolve(m),
        );
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`worker exited with ${code}`));
        });
      }),
  );
  // the main thread works at the same time
  for (let i = 0; i < 200; i++)
    tidy(() =>
      randn([16, 16])
        .matmul(randn([16, 16]))
        .sum()
        .item(),
    );
  const results = await Promise.all(runs);
  let want = 0;
  for (let i = 0; i < 400; i++) want += 4950 * (i % 7);
  for (const r of results) {
    assert.equal(r.acc, want);
    assert.equal(r.live, 1, "a worker's memory() counts its own live tensor only");
  }
  assert.equal(memory().numTensors, before, "workers' tensors never appear in the main thread's memory()");
});
