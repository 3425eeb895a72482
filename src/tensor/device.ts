// Devices: which exist, checking a device string, moving batches (pinned host memory, non-blocking
// copies) and a module's tensors in place, synchronisation, and mixed precision through libtorch's own
// autocast as a scoped helper (as torch.autocast). Debian's libtorch is CPU-only: every CUDA path here
// ends in an EarmarkError that says so and names the fix, never in an abort.
import { native } from '../binding/native.js';
import { dtypeCode, dtypeFromCode, type DType } from '../binding/dtype.js';
import { EarmarkError } from '../errors.js';
import { noGrad } from './creation.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** 'cpu', 'cuda' (= 'cuda:0') or 'cuda:N'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** Lower-precision dtypes of autocast: bf16 (CPU and CUDA) and fp16 (CUDA). */
export type AmpDtype = 'bfloat16' | 'float16';

/** CUDA devices this libtorch can see (0 for a CPU-only build such as Debian's). */
export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}

/** The device training defaults to: 'cuda:0' when this libtorch has a GPU, else 'cpu'. */
export function defaultDevice(): string {
  return cudaDeviceCount() > 0 ? 'cuda:0' : 'cpu';
}

/**
 * Check a device string and return its canonical form ('cpu', 'cuda:0', …). Throws EarmarkError
 * ('EARMARK_DEVICE') for CUDA on a libtorch without it, RangeError for an index past the visible devices.
 * @param name the option or flag to name in errors, e.g. '--device'
 * @example resolveDevice('cuda') // 'cuda:0' on a GPU machine; throws on Debian's CPU-only libtorch
 */
export function resolveDevice(device: string, name = 'device'): string {
  if (typeof device !== 'string')
    throw new TypeError(`'${name}' must be a device string such as 'cpu' or 'cuda:0', got ${typeof device}`);
  const m = /^(cpu|cuda)(?::(\d+))?$/.exec(device);
  if (m === null) throw new TypeError(`'${name}' must be 'cpu', 'cuda' or 'cuda:N', got '${device}'`);
  if (m[1] === 'cpu') {
    if (m[2] !== undefined && m[2] !== '0')
      throw new RangeError(`'${name}' is '${device}': there is one CPU device, 'cpu'`);
    return 'cpu';
  }
  const n = cudaDeviceCount();
  if (n === 0) {
    throw new EarmarkError(
      'EARMARK_DEVICE',
      `'${name}' is '${device}' but this libtorch has no CUDA device (Debian's ` +
        "libtorch-dev is CPU-only, or no GPU is visible). Use 'cpu', or rebuild the addon against a CUDA libtorch " +
        'on a GPU machine: LIBTORCH=/path/to/libtorch npm run build:native',
    );
  }
  const index = m[2] === undefined ? 0 : Number(m[2]);
  if (index >= n)
    throw new RangeError(`'${name}' is '${device}' but ${n} CUDA device(s) are visible: cuda:0..cuda:${n - 1}`);
  return `cuda:${index}`;
}

/** The canonical device of a tensor ('cpu', 'cuda:0', …). */
export function deviceOf(t: Tensor): string {
  const d = t.device;
  return d === 'cuda' ? 'cuda:0' : d;
}

/**
 * Wait until every kernel queued on a CUDA device has finished (torch.cuda.synchronize); a no-op for 'cpu'.
 * @example synchronize('cuda:0'); const ms = performance.now() - t0;
 */
export function synchronize(device = 'cuda'): void {
  const d = resolveDevice(device);
  if (d !== 'cpu') native.cudaSynchronize(Number(d.slice('cuda:'.length)));
}

/**
 * A host batch on the training device: through pinned memory with a non-blocking copy for CUDA, a new
 * handle on the same data for 'cpu'. Always a new Tensor (dispose both).
 * @example const xd = batchTo(cropBatch(set, idx, 128, rng), device);
 */
export function batchTo(x: Tensor, device: string): Tensor {
  const d = resolveDevice(device);
  if (d === 'cpu') return x.to('cpu');
  if (deviceOf(x) !== 'cpu') return x.to(d);
  return tidy(() => x.pinMemory().to(d, { nonBlocking: true }));
}

/**
 * Move one tensor, with its gradient, to `device` in place (its Tensor object stays; see Tensor.adopt_).
 * Used by Module.to().
 */
export function moveTensor_(t: Tensor, device: string, opts: { nonBlocking?: boolean } = {}): void {
  const d = resolveDevice(device);
  if (deviceOf(t) === d) return;
  tidy(() =>
    noGrad(() => {
      const requiresGrad = t.requiresGrad;
      const grad = t.grad;
      const moved = t.detach().to(d, opts); // a new leaf on d
      if (requiresGrad) moved.requiresGrad_(true);
      const movedGrad = grad?.to(d, opts) ?? null;
      t.adopt_(moved);
      if (movedGrad !== null) t.setGrad(movedGrad); // the parameter holds it; the wrapper is freed with the scope
    }),
  );
}

// ---- mixed precision ----

/**
 * Run `fn` with libtorch's autocast on (torch.autocast): eligible ops (conv, matmul, linear, LSTM on CUDA…)
 * run in `dtype`, precision-sensitive ones (losses, softmax, norms of reductions) in float32. Parameters
 * stay float32. Call backward() outside, as torch recommends; with float16, scale the loss (GradScaler).
 * Autocast state belongs to the calling thread and is restored when `fn` returns or throws; `fn` must be
 * synchronous (await outside, as with tidy).
 * @param o.device the device whose ops are cast ('cpu' or 'cuda…'); o.dtype defaults to bfloat16 on
 *   CPU and float16 on CUDA; o.enabled false runs `fn` as it is (handy for a flag)
 * @example const loss = autocast({ device, dtype: 'bfloat16' }, () => lossFn(model.forward(x)));
 */
export function autocast<T>(o: { device: string; dtype?: AmpDtype; enabled?: boolean }, fn: () => T): T {
  const device = resolveDevice(o.device, 'autocast device');
  const type = device === 'cpu' ? 'cpu' : 'cuda';
  const dtype = o.dtype ?? (type === 'cpu' ? 'bfloat16' : 'float16');
  if (dtype !== 'bfloat16' && dtype !== 'float16') {
    throw new TypeError(`autocast: 'dtype' must be 'bfloat16' or 'float16', got '${String(dtype)}'`);
  }
  if (type === 'cpu' && dtype === 'float16' && o.enabled !== false) {
    throw new RangeError(
      "autocast: CPU autocast runs in 'bfloat16' only (libtorch 1.13); use dtype 'bfloat16', or " +
        "'float16' on a CUDA device",
    );
  }
  const prev = native.setAutocast(type, o.enabled ?? true, dtypeCode(dtype));
  native.autocastNesting(1);
  try {
    const r = fn();
    if ((r as unknown) instanceof Promise) {
      throw new TypeError("autocast(o, fn): 'fn' must be synchronous (autocast state is per call); await outside it");
    }
    return r;
  } finally {
    native.autocastNesting(-1);
    native.setAutocast(type, prev[0], prev[1]);
  }
}

/** Whether autocast is on for 'cpu' or 'cuda' ops right now, and its dtype. */
export function autocastState(deviceType: 'cpu' | 'cuda'): { enabled: boolean; dtype: DType } {
  const [enabled, code] = native.autocastState(deviceType);
  return { enabled, dtype: dtypeFromCode(code) };
}

/** Parse an `--amp` value: 'bf16' | 'fp16' | 'off' (or the dtype names); null means no autocast. */
export function parseAmp(value: string, name = '--amp'): AmpDtype | null {
  switch (value) {
    case 'off':
    case 'none':
    case '':
      return null;
    case 'bf16':
    case 'bfloat16':
      return 'bfloat16';
    case 'fp16':
    case 'float16':
      return 'float16';
    default:
      throw new TypeError(`'${name}' must be 'bf16', 'fp16' or 'off', got '${value}'`);
  }
}
