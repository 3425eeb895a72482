// DeepSpeech2 as an utterance classifier: the target model T and every attacker (Wang et al. 2022 §5).
// Structure and state-dict keys follow SeanNaren/deepspeech.pytorch `deepspeech_pytorch/model.py` (v3):
// MaskConv(2 convs + BatchNorm + Hardtanh) → 5 BatchRNN (bidirectional LSTM, directions summed) →
// SequenceWise(BatchNorm1d → Linear) per time step. The paper swaps the last FC for K classes and decides
// an utterance by majority vote over the per-step predictions.
// Differences from the reference: inputs are fixed-length crops or single utterances, so no padding mask
// (MaskConv's masking and packed sequences are identities then).
import { resolveConfig, checkPosInt, check } from '../config/resolve.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  GRU,
  Hardtanh,
  LSTM,
  Linear,
  Module,
  ModuleList,
  Sequential,
} from '../nn/index.js';
import { tidy, type Tensor } from '../tensor/index.js';
import { ds2ConvFreq, type DeepSpeech2Config } from './deepspeech2-shape.js';

export { ds2ConvFreq, ds2OutputSteps, type DeepSpeech2Config } from './deepspeech2-shape.js';

export const DS2_DEFAULTS: DeepSpeech2Config = {
  nFreq: 161,
  convChannels: 16,
  rnnLayers: 5,
  hiddenSize: 64,
  rnnType: 'lstm',
  numClasses: 2,
};

/** Presets: `paper` is §5 of the spec; `cpu` is small enough to train in a minute on two cores. */
export const DS2_PRESETS: Record<'paper' | 'cpu', Partial<DeepSpeech2Config>> = {
  paper: {},
  cpu: { convChannels: 8, rnnLayers: 2, hiddenSize: 48 },
};

export function resolveDeepSpeech2Config(partial: unknown = {}): DeepSpeech2Config {
  const c = resolveConfig('DeepSpeech2Config', DS2_DEFAULTS, partial);
  for (const k of ['nFreq', 'convChannels', 'rnnLayers', 'hiddenSize', 'numClasses'] as const)
    checkPosInt('DeepSpeech2Config', k, c[k]);
  check(c.numClasses >= 2, 'DeepSpeech2Config', 'numClasses', 'at least 2', c.numClasses);
  check(c.rnnType === 'lstm' || c.rnnType === 'gru', 'DeepSpeech2Config', 'rnnType', "'lstm' or 'gru'", c.rnnType);
  return c;
}

/** deepspeech.pytorch's MaskConv: keys conv.seq_module.{0,1,3,4}.* */
class MaskConv extends Module {
  readonly seqModule: Sequential;
  constructor(channels: number) {
    super();
    this.seqModule = this.module(
      'seq_module',
      new Sequential(
        new Conv2d(1, channels, [41, 11], { stride: [2, 2], padding: [20, 5] }),
        new BatchNorm2d(channels),
        new Hardtanh(0, 20),
        new Conv2d(channels, channels, [21, 11], { stride: [2, 1], padding: [10, 5] }),
        new BatchNorm2d(channels),
        new Hardtanh(0, 20),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    return this.seqModule.forward(x);
  }
}

/** SequenceWise(BatchNorm1d): normalise (T, B, H) as (T·B, H). Key: batch_norm.module.* */
class SequenceWise extends Module {
  readonly inner: Module & { forward(x: Tensor): Tensor };
  constructor(inner: Module & { forward(x: Tensor): Tensor }) {
    super();
    this.inner = this.module('module', inner);
  }
  forward(x: Tensor): Tensor {
    const [t, b] = x.shape as [number, number];
    return this.inner.forward(x.reshape([t * b, -1])).reshape([t, b, -1]); // (T, B, ·)
  }
}

/** One recurrent layer: optional sequence-wise BatchNorm, then a bidirectional RNN with directions summed. */
class BatchRNN extends Module {
  readonly batchNorm: SequenceWise | null;
  readonly rnn: LSTM | GRU;
  constructor(inputSize: number, hiddenSize: number, rnnType: 'lstm' | 'gru', batchNorm: boolean) {
    super();
    this.batchNorm = batchNorm ? this.module('batch_norm', new SequenceWise(new BatchNorm1d(inputSize))) : null;
    const Rnn = rnnType === 'lstm' ? LSTM : GRU;
    this.rnn = this.module('rnn', new Rnn(inputSize, hiddenSize, { bidirectional: true }));
  }
  forward(x: Tensor): Tensor {
    if (this.batchNorm !== null) x = this.batchNorm.forward(x);
    const y = this.rnn.forward(x).output; // (T, B, 2H)
    const [t, b] = y.shape as [number, number];
    return y.view([t, b, 2, -1]).sum(2); // (T, B, H): directions summed
  }
}

/**
 * DeepSpeech2 classifier. forward: (B, nFreq, T) normalised log spectrogram → per-step logits (B, ⌈T/2⌉, K).
 * @example const T = new DeepSpeech2(resolveDeepSpeech2Config({ numClasses: 16 }));
 *          const logits = T.forward(x); // (B, T', 16)
 */
export class DeepSpeech2 extends Module {
  readonly config: DeepSpeech2Config;
  readonly conv: MaskConv;
  readonly rnns: ModuleList<BatchRNN>;
  readonly fc: Sequential;

  constructor(config: DeepSpeech2Config) {
    super();
    this.config = config;
    const { convChannels: ch, hiddenSize: h } = config;
    this.conv = this.module('conv', new MaskConv(ch));
    const rnnInput = ch * ds2ConvFreq(config.nFreq); // 16 · 41 = 656
    const rnns: BatchRNN[] = [];
    for (let i = 0; i < config.rnnLayers; i++)
      rnns.push(new BatchRNN(i === 0 ? rnnInput : h, h, config.rnnType, i > 0));
    this.rnns = this.module('rnns', new ModuleList(rnns));
    this.fc = this.module(
      'fc',
      new Sequential(
        new SequenceWise(new Sequential(new BatchNorm1d(h), new Linear(h, config.numClasses, { bias: false }))),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.size(1) !== this.config.nFreq) {
      throw new RangeError(`DeepSpeech2: input must be (B, ${this.config.nFreq}, T), got [${x.shape.join(', ')}]`);
    }
    let h = this.conv.forward(x.unsqueeze(1)); // (B, C, 41, T')
    const [b, c, f, t] = h.shape as [number, number, number, number];
    h = h.reshape([b, c * f, t]).permute([2, 0, 1]); // (T', B, C·41)
    for (const rnn of this.rnns.items) h = rnn.forward(h); // (T', B, H)
    return this.fc.forward(h).transpose(0, 1); // (B, T', K)
  }

  /**
   * Freeze as the paper's read-only target: no parameter gradients and frozen BatchNorm statistics,
   * while gradients still flow to the input (white-box T).
   */
  freeze(): this {
    this.requiresGrad_(false);
    return this.eval();
  }
}

/**
 * Utterance decisions by vote counting over per-step predictions (Wang et al.): the most frequent
 * per-step argmax wins; ties go to the class with the larger summed probability.
 * @param logits (B, T', K) → class index per utterance
 */
export function voteCount(logits: Tensor): number[] {
  return tidy(() => {
    const [b, t, k] = logits.shape as [number, number, number];
    const votes = logits.argmax(2).data() as BigInt64Array; // (B, T')
    const probSum = logits.softmax(2).sum(1).toFloat32Array(); // (B, K)
    const out: number[] = [];
    for (let i = 0; i < b; i++) {
      const counts = new Array<number>(k).fill(0);
      for (let j = 0; j < t; j++) counts[Number(votes[i * t + j])]! += 1;
      let best = 0;
      for (let c = 1; c < k; c++) {
        if (counts[c]! > counts[best]! || (counts[c] === counts[best] && probSum[i * k + c]! > probSum[i * k + best]!))
          best = c;
      }
      out.push(best);
    }
    return out;
  });
}
