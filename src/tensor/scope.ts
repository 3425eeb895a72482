// Visible memory: every Tensor joins the innermost tidy() scope; when the scope ends, every tensor
// created in it is disposed except what the callback returns and what was keep()-ed.
// A tensor outside every scope (made there, returned by the outermost tidy(), or keep()-ed) is owned
// by V8's GC instead: a native finalizer frees it when its Tensor object is collected.
import { native, type Handle } from '../binding/native.js';

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** Called by the Tensor constructor. */
export function track(t: Disposable): void {
  // (not scopes[scopes.length - 1]: with no scope that reads index -1, a property lookup off V8's fast path)
  const n = scopes.length;
  if (n > 0) scopes[n - 1]!.add(t);
  else toGc(t);
}

// ---- GC ownership, given lazily (hot path: every op made outside tidy() passes through toGc) ----
// Attaching a finalizer costs ~0.6 µs, more than a tiny op, and most unscoped tensors are disposed
// moments after they are made (`a.add(b).dispose()`). So they wait in `unowned`, held strongly (none is
// collected early), and those still live at the next sweep (every SWEEP_EVERY of them, or the next
// event-loop turn) are adopted by the GC. A tensor in a tidy() scope needs no finalizer: the scope holds
// it strongly anyway and disposes it when it ends.
const SWEEP_EVERY = 64;
const unowned = new Array<Disposable | undefined>(SWEEP_EVERY).fill(undefined); // fixed: no regrowth
let numUnowned = 0;
let sweepQueued = false;

function toGc(t: Disposable): void {
  // sweep the full batch before adding `t`: the newest tensor is usually about to be disposed
  if (numUnowned === SWEEP_EVERY) sweep();
  unowned[numUnowned++] = t;
  if (!sweepQueued) {
    sweepQueued = true;
    setImmediate(() => {
      sweepQueued = false;
      sweep();
    }).unref();
  }
}

function sweep(): void {
  for (let i = 0; i < numUnowned; i++) {
    const t = unowned[i]!;
    unowned[i] = undefined;
    if (!t.isDisposed && 'handle' in t) native.adopt(t, (t as { handle: Handle }).handle);
  }
  numUnowned = 0;
}

/**
 * Run `fn`, then dispose every tensor it created except those it returns (a tensor, or tensors in an
 * array or plain object, one level deep) and those passed to keep().
 * @example const loss = tidy(() => mseLoss(model.forward(x), y)); // intermediates freed
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError("'fn' must be a function");
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  scopes.pop();
  if ((result as unknown) instanceof Promise) {
    // an async callback would outlive its scope: refuse rather than free tensors still in use
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw new TypeError("tidy(fn): 'fn' must be synchronous; await outside tidy and tidy each synchronous step");
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : undefined;
  for (const t of scope) {
    if (survivors.has(t)) {
      if (parent !== undefined) parent.add(t);
      else toGc(t);
    } else if (kept.has(t)) {
      // kept tensors leave every scope
    } else {
      t.dispose();
    }
  }
  return result;
}

function isDisposable(x: unknown): x is Disposable {
  return typeof x === 'object' && x !== null && typeof (x as Disposable).dispose === 'function' && 'isDisposed' in x;
}

function collect(x: unknown, out: Set<Disposable>): void {
  if (isDisposable(x)) out.add(x);
  else if (Array.isArray(x))
    for (const v of x) {
      if (isDisposable(v)) out.add(v);
      else if (Array.isArray(v)) collect(v, out);
    }
  else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) if (isDisposable(v)) out.add(v);
  }
}

/**
 * Exempt a tensor from the enclosing tidy() scopes; it lives until dispose() (or GC).
 * @example const w = keep(randn([3, 3])); // survives tidy()
 */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  let scoped = false;
  for (const s of scopes) scoped = s.delete(t) || scoped;
  if (scoped) toGc(t); // (an unscoped tensor is already on its way to the GC)
  return t;
}

/** Live native tensors (handles) and the bytes of the unique storages they hold. */
export function memory(): { numTensors: number; numBytes: number } {
  return native.memory();
}

/** Dispose every tensor in a (possibly nested) structure. */
export function dispose(x: unknown): void {
  if (isDisposable(x)) x.dispose();
  else if (Array.isArray(x)) for (const v of x) dispose(v);
  else if (x !== null && typeof x === 'object')
    for (const v of Object.values(x)) if (isDisposable(v) || Array.isArray(v)) dispose(v);
}
