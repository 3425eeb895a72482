// `earmark selfcheck`: proves the engine works on this machine (versions, threads, a training step).
import { defineCommand } from './args.js';

/** Versions, threads, and five conv2d gradient steps that must lower the loss without leaking a tensor; 0 when all hold. */
export async function runSelfcheck(): Promise<number> {
  const { cudaAvailable, getNumThreads, libtorchVersion, manualSeed, memory, noGrad, randn, tidy } =
    await import('../tensor/index.js');
  const { conv2d } = await import('../nn/functional.js');
  console.log(
    `libtorch ${libtorchVersion()}, ${getNumThreads()} threads, CUDA ${cudaAvailable() ? 'available' : 'not available'}`,
  );
  manualSeed(0);
  const before = memory().numTensors;
  const w = randn([32, 16, 5, 5], { requiresGrad: true });
  const x = randn([8, 16, 80, 64]);
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    tidy(() => {
      const y = conv2d(x, w, null, { padding: 2 }).square().mean();
      losses.push(y.item());
      y.backward();
      noGrad(() => w.add_(w.grad!, -0.05));
      w.setGrad(null);
    });
  }
  w.dispose();
  x.dispose();
  const ok = losses[4]! < losses[0]! && memory().numTensors === before;
  console.log(
    `5 conv2d gradient steps: loss ${losses[0]!.toFixed(4)} → ${losses[4]!.toFixed(4)}; live tensors ${memory().numTensors - before} leaked`,
  );
  console.log(ok ? 'selfcheck: ok' : 'selfcheck: FAILED');
  return ok ? 0 : 1;
}

export const selfcheck = defineCommand({
  name: 'selfcheck',
  summary: 'Check the tensor engine: libtorch version, threads, CUDA, and a few gradient steps without leaks.',
  flags: {},
  async run() {
    return runSelfcheck();
  },
});
