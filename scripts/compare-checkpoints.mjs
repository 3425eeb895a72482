// How far apart two checkpoints of the same command are (docs/determinism.md): whether their bytes are
// equal, the largest absolute difference of any float tensor (and which one), how many tensors differ,
// and the training history (loss, accuracies) of each, from the metadata.
// Usage: node scripts/compare-checkpoints.mjs <a.safetensors> <b.safetensors>   (after `npx tsc`)
import { readFileSync } from 'node:fs';
import { readCheckpointState } from '../dist/src/methods/checkpoint.js';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node scripts/compare-checkpoints.mjs <a.safetensors> <b.safetensors>');
  process.exit(2);
}

/** name → { dtype, values } of a safetensors file (float32 and float64 only; others as raw bytes). */
function tensors(file) {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const body = buf.subarray(8 + n);
  const out = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const raw = body.subarray(t.data_offsets[0], t.data_offsets[1]);
    const copy = Uint8Array.from(raw).buffer;
    const values =
      t.dtype === 'F32' ? new Float32Array(copy) : t.dtype === 'F64' ? new Float64Array(copy) : new Uint8Array(copy);
    out.set(name, { dtype: t.dtype, values });
  }
  return out;
}

const ta = tensors(a);
const tb = tensors(b);
let maxDiff = 0;
let maxName = '';
let differing = 0;
for (const [name, x] of ta) {
  const y = tb.get(name);
  if (y === undefined || y.values.length !== x.values.length)
    throw new Error(`${name}: not in both files with one shape`);
  let d = 0;
  for (let i = 0; i < x.values.length; i++) d = Math.max(d, Math.abs(x.values[i] - y.values[i]));
  if (d > 0) differing++;
  if (d > maxDiff) [maxDiff, maxName] = [d, name];
}
const same = readFileSync(a).equals(readFileSync(b));
console.log(
  `bytes equal: ${same}; tensors differing: ${differing}/${ta.size}; max |a-b| = ${maxDiff.toExponential(3)}${maxName ? ` (${maxName})` : ''}`,
);
for (const [label, file] of [
  ['a', a],
  ['b', b],
]) {
  const st = readCheckpointState(file);
  const rows = (st.history ?? []).map((h) =>
    Object.entries(h)
      .filter(([k]) => k !== 'seconds' && k !== 'epoch')
      .map(([k, v]) => `${k} ${typeof v === 'number' ? v.toPrecision(9) : v}`)
      .join(', '),
  );
  console.log(`${label}: ${rows.map((r, i) => `epoch ${i + 1}: ${r}`).join(' | ')}`);
}
