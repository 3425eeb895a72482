// LSTM and GRU (multi-layer, bidirectional, batch-first, inter-layer dropout) with torch's keys; one ATen call each.
import { zeros, type Tensor } from '../tensor/index.js';
import { checkInt, checkProb, checkRank } from './args.js';
import { gru, lstm, type RnnOptions } from './functional.js';
import { defaultRnnInit, emptyParam, type TensorPlacement } from './init.js';
import { Module } from './module.js';

export interface RecurrentOptions extends TensorPlacement {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Learn bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** Input and output are (B, T, F) instead of (T, B, F) (default false; states stay (L·D, B, H)). */
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last, in training (default 0). */
  dropout?: number;
  /** Run a second direction backwards in time and concatenate (default false). */
  bidirectional?: boolean;
}

/** Weights of every layer and direction in torch's flat order, registered under torch's keys. */
abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** [w_ih, w_hh, b_ih?, b_hh?] per layer and direction, the order aten::lstm / aten::gru expect */
  protected readonly flatWeights: Tensor[] = [];

  constructor(
    protected readonly layerName: string,
    gates: number,
    inputSize: number,
    hiddenSize: number,
    o: RecurrentOptions,
  ) {
    super();
    this.inputSize = checkInt(layerName, 'inputSize', inputSize);
    this.hiddenSize = checkInt(layerName, 'hiddenSize', hiddenSize);
    this.numLayers = checkInt(layerName, 'numLayers', o.numLayers ?? 1);
    this.dropout = checkProb(layerName, 'dropout', o.dropout ?? 0);
    this.bias = o.bias ?? true;
    this.batchFirst = o.batchFirst ?? false;
    this.bidirectional = o.bidirectional ?? false;
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      const layerIn = l === 0 ? inputSize : hiddenSize * dirs;
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        this.flatWeights.push(this.param(`weight_ih${sfx}`, emptyParam([gates * hiddenSize, layerIn], o)));
        this.flatWeights.push(this.param(`weight_hh${sfx}`, emptyParam([gates * hiddenSize, hiddenSize], o)));
        if (this.bias) {
          this.flatWeights.push(this.param(`bias_ih${sfx}`, emptyParam([gates * hiddenSize], o)));
          this.flatWeights.push(this.param(`bias_hh${sfx}`, emptyParam([gates * hiddenSize], o)));
        }
      }
    }
    defaultRnnInit(this.flatWeights, hiddenSize);
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  protected options(): RnnOptions {
    return {
      hasBiases: this.bias,
      numLayers: this.numLayers,
      dropout: this.dropout,
      training: this.training,
      bidirectional: this.bidirectional,
      batchFirst: this.batchFirst,
    };
  }

  /** Batched input (adding a batch dim to an unbatched (T, F) one) and its batch size. */
  protected batched(x: Tensor): { xb: Tensor; batch: number; unbatched: boolean } {
    checkRank(
      this.layerName,
      x.shape,
      [2, 3],
      this.batchFirst ? '(B, T, inputSize) or (T, inputSize)' : '(T, B, inputSize) or (T, inputSize)',
    );
    if (x.size(-1) !== this.inputSize) {
      throw new RangeError(
        `${this.layerName}: input [${x.shape.join(', ')}] has ${x.size(-1)} features in its last dim, expected 'inputSize' ${this.inputSize}`,
      );
    }
    if (x.ndim === 2) return { xb: x.unsqueeze(this.batchFirst ? 0 : 1), batch: 1, unbatched: true };
    return { xb: x, batch: x.size(this.batchFirst ? 0 : 1), unbatched: false };
  }

  /** The given initial state (checked, batched) or zeros of shape (L·D, B, H). */
  protected state(s: Tensor | undefined, name: string, like: Tensor, batch: number, unbatched: boolean): Tensor {
    const want = [this.numLayers * this.numDirections, batch, this.hiddenSize];
    if (s === undefined) return zeros(want, { dtype: like.dtype, device: like.device });
    const sb = unbatched && s.ndim === 2 ? s.unsqueeze(1) : s;
    const got = sb.shape;
    if (got.length !== 3 || got.some((d, i) => d !== want[i])) {
      throw new RangeError(
        `${this.layerName}: initial state '${name}' has shape [${s.shape.join(', ')}], expected [${want.join(', ')}] (numLayers·numDirections, batch, hiddenSize)`,
      );
    }
    return sb;
  }
}

/**
 * Long short-term memory. x: (T, B, I), or (B, T, I) with batchFirst → output (…, D·H) and final h, c: (L·D, B, H).
 * @example const rnn = new LSTM(80, 256, { numLayers: 2, bidirectional: true, batchFirst: true });
 *          const { output, h, c } = rnn.forward(x);
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('LSTM', 4, inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, initial: { h?: Tensor; c?: Tensor } = {}): { output: Tensor; h: Tensor; c: Tensor } {
    const { xb, batch, unbatched } = this.batched(x);
    const h0 = this.state(initial.h, 'h', x, batch, unbatched);
    const c0 = this.state(initial.c, 'c', x, batch, unbatched);
    const r = lstm(xb, h0, c0, this.flatWeights, this.options());
    if (!unbatched) return r;
    // unbatched: output (T, D·H), states (L·D, H)
    return { output: r.output.squeeze(this.batchFirst ? 0 : 1), h: r.h.squeeze(1), c: r.c.squeeze(1) };
  }
}

/**
 * Gated recurrent unit. Shapes as LSTM without the cell state.
 * @example const { output, h } = new GRU(40, 64).forward(x);
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, initial: { h?: Tensor } = {}): { output: Tensor; h: Tensor } {
    const { xb, batch, unbatched } = this.batched(x);
    const h0 = this.state(initial.h, 'h', x, batch, unbatched);
    const r = gru(xb, h0, this.flatWeights, this.options());
    if (!unbatched) return r;
    return { output: r.output.squeeze(this.batchFirst ? 0 : 1), h: r.h.squeeze(1) };
  }
}
