// `earmark obfuscate`: run an exported obfuscator (ONNX, onnxruntime only) on a file or on a raw PCM
// stream. Offline and streaming use the same windowed rule (src/edge/obfuscate.ts), so they agree; audio
// is synthesised from the obfuscated magnitude alone (src/edge/synthesis.ts). Every flag, the model and
// the window it implies are checked before any audio is read.
import type { PhaseMethod } from '../edge/synthesis.js';
import { defineCommand, usageError } from './args.js';
import { checkAudioHeader } from './checks.js';

/** The phase methods a user may choose (edge/synthesis.ts's PHASE_METHODS but the unsafe one; a test keeps them equal). */
export const SAFE_PHASE_METHODS = ['rtisi-la', 'rtpghi', 'gla'] as const satisfies readonly PhaseMethod[];

export const obfuscate = defineCommand({
  name: 'obfuscate',
  usage: '--model obfuscator.onnx --in <file|-> --out <file.wav|file.npy|file.safetensors|->',
  summary:
    'Obfuscate audio on the device with an exported obfuscator (onnxruntime, no libtorch): a file to WAV or to the obfuscated spectrogram (.npy/.safetensors), or raw s16le 16 kHz mono PCM on stdin to obfuscated PCM or frames on stdout.',
  flags: {
    model: {
      type: 'string',
      required: true,
      exists: 'file',
      description: 'obfuscator .onnx (from exportObfuscator)',
      fix: 'export the obfuscator first',
    },
    in: {
      type: 'string',
      required: true,
      exists: 'file',
      dash: true,
      description: "input audio file, or '-' for raw s16le 16 kHz mono PCM on stdin",
    },
    out: {
      type: 'string',
      required: true,
      output: true,
      parentExists: true,
      dash: true,
      description: "output .wav/.npy/.safetensors, or '-' for stdout (stream mode)",
    },
    format: {
      type: 'string',
      choices: ['pcm', 'frames'],
      description: "stream output: 'pcm' (s16le audio, the default) or 'frames' (float32, 161 per frame)",
    },
    chunkMs: { type: 'number', min: 1, max: 10000, description: 'stream processing step in ms', default: 100 },
    window: {
      type: 'int',
      min: 8,
      max: 4096,
      description: 'frames per obfuscation window W (default: from the model, 128)',
    },
    lookahead: {
      type: 'int',
      min: 0,
      description: 'context frames M on each side of a window (default: from the model, 16)',
    },
    threads: { type: 'int', min: 1, max: 256, description: 'onnxruntime intra-op threads', default: 1 },
    phase: {
      type: 'string',
      choices: SAFE_PHASE_METHODS,
      description: 'phase reconstruction of the audio (default rtisi-la; docs/methods.md)',
    },
    unsafeOriginalPhase: {
      type: 'boolean',
      description: "UNSAFE: audio with the input's own STFT phase, which leaks the input (comparisons only)",
      default: false,
    },
  },
  async check(o) {
    const fileMode = o.in !== '-';
    const io = await import('../edge/obfuscate-io.js');
    io.checkObfuscateKnobs({
      threads: o.threads,
      window: o.window,
      lookahead: o.lookahead,
      chunkMs: o.chunkMs,
      format: o.format,
      phase: o.phase,
      fileMode,
    });
    if (fileMode && o.out === '-')
      throw usageError('file mode writes a file: give --out <file.wav|.npy|.safetensors> (stdout is for --in -)');
    if (!fileMode && o.out !== '-') throw usageError('stream mode (--in -) writes to stdout: give --out -');
    if (fileMode) {
      io.outputFormat(o.out);
      checkAudioHeader('--in', o.in);
    }
    if (o.unsafeOriginalPhase && o.phase !== undefined)
      throw usageError(`--phase ${o.phase} and --unsafe-original-phase exclude each other; give one`);
    const { checkObfuscatorModel } = await import('../edge/model-check.js');
    await checkObfuscatorModel(o.model);
    const { OnnxSession } = await import('../edge/runtime.js');
    const session = await OnnxSession.load(o.model, { threads: o.threads });
    try {
      const overrides: { windowFrames?: number; lookaheadFrames?: number } = {};
      if (o.window !== undefined) overrides.windowFrames = o.window;
      if (o.lookahead !== undefined) overrides.lookaheadFrames = o.lookahead;
      if (o.lookahead !== undefined)
        io.checkObfuscateKnobs({
          window: overrides.windowFrames ?? io.storedWindow(session).windowFrames,
          lookahead: o.lookahead,
          fileMode,
        });
      return { session, window: io.windowFromModel(session, overrides), io };
    } catch (e) {
      await session.close();
      throw e;
    }
  },
  async run(o, { checked: { session, window, io } }) {
    if (o.unsafeOriginalPhase) console.error(io.UNSAFE_ORIGINAL_PHASE_WARNING);
    const synthesis = {
      method: (o.unsafeOriginalPhase ? 'unsafe-original-phase' : (o.phase ?? 'rtisi-la')) as PhaseMethod,
    };
    const limitNote = (r: { limitedSamples: number; samples: number; gainDb: number }): string =>
      (r.gainDb < -0.05 ? `; level: scaled down by up to ${(-r.gainDb).toFixed(1)} dB so as not to clip` : '') +
      (r.limitedSamples
        ? `; the limiter touched ${r.limitedSamples} samples (${((100 * r.limitedSamples) / Math.max(1, r.samples)).toFixed(2)}%)`
        : '');
    try {
      if (o.in !== '-') {
        const t0 = Date.now();
        const r = await io.obfuscateFile(session, o.in, o.out, window, synthesis);
        console.error(
          `obfuscated ${r.seconds.toFixed(2)} s (${r.frames} frames) in ${Date.now() - t0} ms → ${o.out} ` +
            `[windows W=${window.windowFrames}, look-ahead M=${window.lookaheadFrames}; phase ${synthesis.method}]${limitNote(r)}`,
        );
        return 0;
      }
      const format = o.format ?? 'pcm';
      const { algorithmicLatency } = await import('../edge/obfuscate.js');
      const chunkSamples = Math.max(1, Math.round((o.chunkMs * io.SAMPLE_RATE) / 1000));
      const latency = algorithmicLatency(window, chunkSamples);
      console.error(
        `streaming: W=${window.windowFrames} M=${window.lookaheadFrames} chunk ${chunkSamples} samples; algorithmic latency ${((1000 * latency) / io.SAMPLE_RATE).toFixed(0)} ms (+ compute)`,
      );
      const r = await io.obfuscatePcmStream(
        session,
        process.stdin,
        (b) => new Promise<void>((res, rej) => process.stdout.write(b, (e) => (e ? rej(e) : res()))),
        { window, chunkSamples, output: format, source: 'stdin', synthesis },
      );
      console.error(`stream done: ${(r.samples / io.SAMPLE_RATE).toFixed(2)} s in${limitNote(r)}`);
      return 0;
    } finally {
      await session.close();
    }
  },
});
