// `earmark obfuscate`: run an exported obfuscator (ONNX, onnxruntime only) on a file or on a raw PCM
// stream. Offline and streaming use the same windowed rule (src/edge/obfuscate.ts), so they agree.
import { EarmarkError } from '../errors.js';
import { algorithmicLatency } from '../edge/obfuscate.js';
import { SAMPLE_RATE, obfuscateFile, obfuscatePcmStream, windowFromModel } from '../edge/obfuscate-io.js';
import { OnnxSession } from '../edge/runtime.js';
import { defineCommand } from './args.js';

export const obfuscate = defineCommand({
  name: 'obfuscate',
  usage: '--model obfuscator.onnx --in <file|-> --out <file.wav|file.npy|file.safetensors|->',
  summary: 'Obfuscate audio on the device with an exported obfuscator (onnxruntime, no libtorch): a file to WAV or to the obfuscated spectrogram (.npy/.safetensors), or raw s16le 16 kHz mono PCM on stdin to obfuscated PCM or frames on stdout.',
  flags: {
    model: { type: 'string', description: 'obfuscator .onnx (from exportObfuscator)' },
    in: { type: 'string', description: "input audio file, or '-' for raw s16le 16 kHz mono PCM on stdin" },
    out: { type: 'string', description: "output .wav/.npy/.safetensors, or '-' for stdout (stream mode)" },
    format: { type: 'string', choices: ['pcm', 'frames'], description: "stream output: 'pcm' (s16le audio) or 'frames' (float32, 161 per frame)", default: 'pcm' },
    chunkMs: { type: 'number', description: 'stream processing step in ms', default: 100 },
    window: { type: 'int', description: 'frames per obfuscation window W (default: from the model, 128)' },
    lookahead: { type: 'int', description: 'context frames M on each side of a window (default: from the model, 16)' },
    threads: { type: 'int', description: 'onnxruntime intra-op threads', default: 1 },
  },
  async run(o) {
    const need = (k: 'model' | 'in' | 'out'): string => {
      const v = o[k];
      if (v === undefined || v === '') throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${k} is required; see \`earmark obfuscate --help\``);
      return v;
    };
    const session = await OnnxSession.load(need('model'), { threads: o.threads });
    try {
      const overrides: { windowFrames?: number; lookaheadFrames?: number } = {};
      if (o.window !== undefined) overrides.windowFrames = o.window;
      if (o.lookahead !== undefined) overrides.lookaheadFrames = o.lookahead;
      const window = windowFromModel(session, overrides);
      const input = need('in');
      const output = need('out');
      if (input !== '-') {
        if (output === '-') throw new EarmarkError('EARMARK_BAD_ARGUMENT', "file mode writes a file: give --out <file.wav|.npy|.safetensors> (stdout is for --in -)");
        const t0 = Date.now();
        const r = await obfuscateFile(session, input, output, window);
        console.error(`obfuscated ${r.seconds.toFixed(2)} s (${r.frames} frames) in ${Date.now() - t0} ms → ${output} ` +
          `[windows W=${window.windowFrames}, look-ahead M=${window.lookaheadFrames}]`);
        return 0;
      }
      if (output !== '-') throw new EarmarkError('EARMARK_BAD_ARGUMENT', "stream mode (--in -) writes to stdout: give --out -");
      const chunkSamples = Math.max(1, Math.round((o.chunkMs * SAMPLE_RATE) / 1000));
      const latency = algorithmicLatency(window, chunkSamples);
      console.error(`streaming: W=${window.windowFrames} M=${window.lookaheadFrames} chunk ${chunkSamples} samples; algorithmic latency ${(1000 * latency / SAMPLE_RATE).toFixed(0)} ms (+ compute)`);
      const r = await obfuscatePcmStream(session, process.stdin, (b) => new Promise<void>((res, rej) => process.stdout.write(b, (e) => (e ? rej(e) : res()))),
        { window, chunkSamples, output: o.format, source: 'stdin' });
      console.error(`stream done: ${(r.samples / SAMPLE_RATE).toFixed(2)} s in`);
      return 0;
    } finally {
      await session.close();
    }
  },
});
