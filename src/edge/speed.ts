// A one-call speed check for the demo and the CLI: ms of onnxruntime time per second of audio for an
// exported obfuscator (median of repeats on a 1 s input, after warm-up).
import { OnnxSession } from './runtime.js';

/**
 * @example const { msPerSecond } = await edgeSpeed('obfuscator.onnx'); console.log(`${msPerSecond.toFixed(1)} ms per second of audio`);
 */
export async function edgeSpeed(
  model: string | Uint8Array,
  threads = 1,
  repeats = 9,
): Promise<{ msPerSecond: number; bestMs: number; threads: number }> {
  const s = await OnnxSession.load(model, { threads });
  try {
    const x = { data: new Float32Array(161 * 100).map((_, i) => Math.sin(i * 0.1)), dims: [1, 161, 100] };
    for (let i = 0; i < 3; i++) await s.run(x);
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await s.run(x);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { msPerSecond: ms[ms.length >> 1]!, bestMs: ms[0]!, threads };
  } finally {
    await s.close();
  }
}
