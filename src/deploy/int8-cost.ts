// What int8 costs on the device: T (or any DS2 classifier) scored on a labelled set obfuscated by the
// float32 and by the int8 ONNX obfuscator, both with the deployed windowed rule (onnxruntime only for
// the obfuscation, libtorch for the classifier).
import type { LabelledSet, SpecSet } from '../data/spec-set.js';
import { obfuscateSpectrogram, WINDOW_DEFAULTS, type WindowConfig } from '../edge/obfuscate.js';
import { OnnxSession } from '../edge/runtime.js';
import { normalizeInPlace } from '../edge/spectrogram.js';
import { accuracy, predict } from '../methods/classifier.js';
import type { DeepSpeech2 } from '../models/deepspeech2.js';

/** T's accuracy on one labelled set after each obfuscator (ONNX files), with the deployed windowed rule. */
export interface Int8Cost {
  /** Accuracy of T on the clean set (no obfuscation). */
  clean: number;
  /** Accuracy of T on the set obfuscated by the float32 export, and by the int8 export. */
  fp32: number;
  int8: number;
  /** Utterances whose decision differs between fp32- and int8-obfuscated inputs. */
  changed: number;
  /** Mean |fp32 − int8| of the obfuscated spectrograms (per-utterance normalised units). */
  meanAbsDiff: number;
}

/**
 * The cost of int8: T's accuracy (vote counting) on `set` obfuscated by the fp32 and by the int8 ONNX
 * obfuscator, both applied with the windowed rule on the set's (per-utterance normalised) features.
 * Attackers can be scored the same way by passing them as `target`.
 * @example const cost = await int8Cost(target, 'obf.onnx', 'obf.int8.onnx', testSet);
 */
export async function int8Cost(
  target: DeepSpeech2,
  fp32Onnx: string,
  int8Onnx: string,
  data: LabelledSet,
  window: WindowConfig = WINDOW_DEFAULTS,
): Promise<Int8Cost> {
  const [a, b] = await Promise.all([OnnxSession.load(fp32Onnx), OnnxSession.load(int8Onnx)]);
  try {
    const mapAll = async (s: OnnxSession): Promise<SpecSet> => {
      const specs: Float32Array[] = [];
      for (let i = 0; i < data.set.specs.length; i++) {
        const served = await obfuscateSpectrogram(
          (x) => s.run(x),
          data.set.specs[i]!,
          data.set.nFreq,
          data.set.frames[i]!,
          window,
        );
        normalizeInPlace(served); // what an app feeds a DS2 model: the served log1p|STFT| normalised per utterance
        specs.push(served);
      }
      return { ...data.set, specs };
    };
    const fp = await mapAll(a);
    const q = await mapAll(b);
    const pf = predict(target, fp);
    const pq = predict(target, q);
    let diff = 0;
    let count = 0;
    fp.specs.forEach((s, i) => {
      for (let j = 0; j < s.length; j++) {
        diff += Math.abs(s[j]! - q.specs[i]![j]!);
        count++;
      }
    });
    return {
      clean: accuracy(predict(target, data.set), data.labels),
      fp32: accuracy(pf, data.labels),
      int8: accuracy(pq, data.labels),
      changed: pf.filter((p, i) => p !== pq[i]).length,
      meanAbsDiff: diff / Math.max(1, count),
    };
  } finally {
    await a.close();
    await b.close();
  }
}
