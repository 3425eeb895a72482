// `earmark obfuscate`: run an exported obfuscator (ONNX, onnxruntime only) on a file or on a raw PCM
// stream. Offline and streaming use the same windowed rule (src/edge/obfuscate.ts), so they agree; audio
// is synthesised from the obfuscated magnitude alone (src/edge/synthesis.ts).
import { EarmarkError } from '../errors.js';
import { algorithmicLatency } from '../edge/obfuscate.js';
import {
  SAMPLE_RATE, UNSAFE_ORIGINAL_PHASE_WARNING, checkObfuscateKnobs, obfuscateFile, obfuscatePcmStream, storedWindow, windowFromModel,
} from '../edge/obfuscate-io.js';
import type { PhaseMethod } from '../edge/synthesis.js';
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
    format: { type: 'string', description: "stream output: 'pcm' (s16le audio, the default) or 'frames' (float32, 161 per frame)" },
    chunkMs: { type: 'number', description: 'stream processing step in ms', default: 100 },
    window: { type: 'int', description: 'frames per obfuscation window W (default: from the model, 128)' },
    lookahead: { type: 'int', description: 'context frames M on each side of a window (default: from the model, 16)' },
    threads: { type: 'int', description: 'onnxruntime intra-op threads', default: 1 },
    phase: { type: 'string', description: "phase reconstruction of the audio: 'rtisi-la' (default), 'rtpghi' or 'gla' (docs/methods.md)" },
    unsafeOriginalPhase: {
      type: 'boolean', description: "UNSAFE: audio with the input's own STFT phase, which leaks the input (comparisons only)", default: false,
    },
  },
  async run(o) {
    const need = (k: 'model' | 'in' | 'out'): string => {
      const v = o[k];
      if (v === undefined || v === '') throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${k} is required; see \`earmark obfuscate --help\``);
      return v;
    };
    const fileMode = o.in !== '-';
    checkObfuscateKnobs({ threads: o.threads, window: o.window, lookahead: o.lookahead, chunkMs: o.chunkMs, format: o.format, phase: o.phase, fileMode });
    if (o.unsafeOriginalPhase) console.error(UNSAFE_ORIGINAL_PHASE_WARNING);
    const synthesis = { method: (o.unsafeOriginalPhase ? 'unsafe-original-phase' : o.phase ?? 'rtisi-la') as PhaseMethod };
    const limitNote = (r: { limitedSamples: number; samples: number; gainDb: number }): string =>
      (r.gainDb < -0.05 ? `; level: scaled down by up to ${(-r.gainDb).toFixed(1)} dB so as not to clip` : '') +
      (r.limitedSamples ? `; the limiter touched ${r.limitedSamples} samples (${((100 * r.limitedSamples) / Math.max(1, r.samples)).toFixed(2)}%)` : '');
    const session = await OnnxSession.load(need('model'), { threads: o.threads });
    try {
      const overrides: { windowFrames?: number; lookaheadFrames?: number } = {};
      if (o.window !== undefined) overrides.windowFrames = o.window;
      if (o.lookahead !== undefined) overrides.lookaheadFrames = o.lookahead;
      if (o.lookahead !== undefined) checkObfuscateKnobs({ window: overrides.windowFrames ?? storedWindow(session).windowFrames, lookahead: o.lookahead, fileMode });
      const window = windowFromModel(session, overrides);
      const input = need('in');
      const output = need('out');
      if (input !== '-') {
        if (output === '-') throw new EarmarkError('EARMARK_BAD_ARGUMENT', "file mode writes a file: give --out <file.wav|.npy|.safetensors> (stdout is for --in -)");
        const t0 = Date.now();
        const r = await obfuscateFile(session, input, output, window, synthesis);
        console.error(`obfuscated ${r.seconds.toFixed(2)} s (${r.frames} frames) in ${Date.now() - t0} ms → ${output} ` +
          `[windows W=${window.windowFrames}, look-ahead M=${window.lookaheadFrames}; phase ${synthesis.method}]${limitNote(r)}`);
        return 0;
      }
      const format = (o.format ?? 'pcm') as 'pcm' | 'frames';
      if (output !== '-') throw new EarmarkError('EARMARK_BAD_ARGUMENT', "stream mode (--in -) writes to stdout: give --out -");
      const chunkSamples = Math.max(1, Math.round((o.chunkMs * SAMPLE_RATE) / 1000));
      const latency = algorithmicLatency(window, chunkSamples);
      console.error(`streaming: W=${window.windowFrames} M=${window.lookaheadFrames} chunk ${chunkSamples} samples; algorithmic latency ${(1000 * latency / SAMPLE_RATE).toFixed(0)} ms (+ compute)`);
      const r = await obfuscatePcmStream(session, process.stdin, (b) => new Promise<void>((res, rej) => process.stdout.write(b, (e) => (e ? rej(e) : res()))),
        { window, chunkSamples, output: format, source: 'stdin', synthesis });
      console.error(`stream done: ${(r.samples / SAMPLE_RATE).toFixed(2)} s in${limitNote(r)}`);
      return 0;
    } finally {
      await session.close();
    }
  },
});
