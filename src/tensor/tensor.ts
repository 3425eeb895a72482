// Tensor: one native libtorch tensor handle, with torch-named methods (camelCase). Every method is
// one boxed call into ATen's dispatcher (src/binding/ops.ts), so autograd, dtype promotion and
// broadcasting are torch's. The class is built in three parts: tensor-base.ts (handle, data, autograd,
// dtype/device, in place), tensor-math.ts (elementwise, comparison, reductions, matrices) and this file
// (shapes, indexing, spectra).
import type { Handle } from '../binding/native.js';
import { call, OP } from '../binding/ops.js';
import { dims } from './tensor-base.js';
import { TensorMath } from './tensor-math.js';

export type Shape = readonly number[];
export type ScalarOrTensor = Tensor | number;

/** PyTorch's loss/reduction codes, shared by losses. */
export const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;

/**
 * A libtorch tensor. Create with the factories in `creation.ts`; free with dispose() or tidy().
 * @example const y = tidy(() => x.mul(2).add(1).relu());
 */
export class Tensor extends TensorMath<Tensor> {
  protected wrapHandle(h: Handle): Tensor {
    return new Tensor(h);
  }

  // ---- shape ----
  reshape(shape: Shape): Tensor {
    return this.wrapHandle(call(OP.reshape, this.handle, shape));
  }
  view(shape: Shape): Tensor {
    return this.wrapHandle(call(OP.view, this.handle, shape));
  }
  permute(order: Shape): Tensor {
    return this.wrapHandle(call(OP.permute, this.handle, order));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return this.wrapHandle(call(OP.transpose, this.handle, dim0, dim1));
  }
  /** `length` elements of `dim` from `start` (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    return this.wrapHandle(call(OP.narrow, this.handle, dim, start, length));
  }
  /** Python's `x[..., start:end:step]` along `dim` (a view); `end` may be omitted. */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return this.wrapHandle(call(OP.slice, this.handle, dim, start, end, step));
  }
  /** `x[..., index]` along `dim`, removing it (a view). */
  select(dim: number, index: number): Tensor {
    return this.wrapHandle(call(OP.select, this.handle, dim, index));
  }
  squeeze(dim?: number): Tensor {
    return dim === undefined ? this.un(OP.squeeze) : this.wrapHandle(call(OP.squeezeDim, this.handle, dim));
  }
  unsqueeze(dim: number): Tensor {
    return this.wrapHandle(call(OP.unsqueeze, this.handle, dim));
  }
  expand(shape: Shape): Tensor {
    return this.wrapHandle(call(OP.expand, this.handle, shape, false));
  }
  flip(dimsToFlip: number | readonly number[]): Tensor {
    return this.wrapHandle(call(OP.flip, this.handle, dims(dimsToFlip)));
  }
  repeat(reps: Shape): Tensor {
    return this.wrapHandle(call(OP.repeat, this.handle, reps));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return this.wrapHandle(call(OP.flatten, this.handle, startDim, endDim));
  }
  contiguous(): Tensor {
    return this.un(OP.contiguous);
  }
  clone(): Tensor {
    return this.un(OP.clone);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return this.wrapAll(call(OP.chunk, this.handle, chunks, dim));
  }
  split(size: number, dim = 0): Tensor[] {
    return this.wrapAll(call(OP.split, this.handle, size, dim));
  }
  /**
   * Pad the last dimensions, torch.nn.functional.pad order: `[left, right, top, bottom, ...]`.
   * @param mode 'constant' | 'reflect' | 'replicate' | 'circular'
   */
  pad(widths: Shape, mode: 'constant' | 'reflect' | 'replicate' | 'circular' = 'constant', value = 0): Tensor {
    return this.wrapHandle(call(OP.pad, this.handle, widths, mode, mode === 'constant' ? value : null));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return this.wrapHandle(call(OP.indexSelect, this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return this.wrapHandle(call(OP.gather, this.handle, dim, index.handle, false));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return this.wrapHandle(call(OP.scatter, this.handle, dim, index.handle, src.handle));
  }
  /** Advanced indexing `x[i0, i1, ...]` with index tensors (null keeps a dimension whole). */
  index(indices: readonly (Tensor | null)[]): Tensor {
    return this.wrapHandle(
      call(
        OP.index,
        this.handle,
        indices.map((t) => (t === null ? null : t.handle)),
      ),
    );
  }
  oneHot(numClasses = -1): Tensor {
    return this.wrapHandle(call(OP.oneHot, this.handle, numClasses));
  }

  // ---- spectral ----
  /**
   * Short-time Fourier transform of (..., time) signals, returned as real pairs (..., freq, frames, 2).
   * Same defaults as torch.stft with return_complex=True followed by view_as_real.
   */
  stft(
    nFft: number,
    opts: {
      hopLength?: number;
      winLength?: number;
      window?: Tensor;
      center?: boolean;
      padMode?: 'reflect' | 'constant' | 'replicate' | 'circular';
      normalized?: boolean;
      onesided?: boolean;
    } = {},
  ): Tensor {
    const c = this.wrapHandle(
      call(
        OP.stft,
        this.handle,
        nFft,
        opts.hopLength ?? null,
        opts.winLength ?? null,
        opts.window?.handle ?? null,
        opts.center ?? true,
        opts.padMode ?? 'reflect',
        opts.normalized ?? false,
        opts.onesided ?? null,
        true,
      ),
    );
    try {
      return this.wrapHandle(call(OP.viewAsReal, c.handle));
    } finally {
      c.dispose();
    }
  }
  /** Inverse of stft(): (..., freq, frames, 2) real pairs → (..., time). */
  istft(
    nFft: number,
    opts: {
      hopLength?: number;
      winLength?: number;
      window?: Tensor;
      center?: boolean;
      normalized?: boolean;
      onesided?: boolean;
      length?: number;
    } = {},
  ): Tensor {
    const c = this.wrapHandle(call(OP.viewAsComplex, this.contiguousHandle()));
    try {
      return this.wrapHandle(
        call(
          OP.istft,
          c.handle,
          nFft,
          opts.hopLength ?? null,
          opts.winLength ?? null,
          opts.window?.handle ?? null,
          opts.center ?? true,
          opts.normalized ?? false,
          opts.onesided ?? null,
          opts.length ?? null,
          false,
        ),
      );
    } finally {
      c.dispose();
    }
  }

  private contiguousHandle(): Handle {
    // view_as_complex needs a contiguous last dim of 2; the temporary is owned by the current scope
    return this.contiguous().handle;
  }
}

/** Wrap a native result that is one tensor handle (from `call`, or an untyped `native.call`). */
export function wrap(h: unknown): Tensor {
  return new Tensor(h as Handle);
}

/** Wrap a native result that is a list of handles. */
export function wrapAll(hs: unknown): Tensor[] {
  return (hs as Handle[]).map((h) => new Tensor(h));
}
