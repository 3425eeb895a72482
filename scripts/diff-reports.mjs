// Compares two folders kept by the end-to-end tests (EARMARK_KEEP_E2E=<folder>, see test/keep-output.ts),
// ignoring what legitimately changes between runs: timings ("seconds"), creation times and the temporary
// folder's random name. JSON and HTML are compared as text after that normalisation, safetensors by their
// tensor bytes and normalised metadata, everything else byte for byte. Exit code 1 when anything differs.
// Usage: node scripts/diff-reports.mjs <before> <after>
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node scripts/diff-reports.mjs <before-folder> <after-folder>');
  process.exit(2);
}

function walk(dir, rel = '', out = []) {
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = path.join(rel, name);
    if (statSync(path.join(dir, r)).isDirectory()) walk(dir, r, out);
    else out.push(r);
  }
  return out;
}

// feature-cache names carry a hash of the corpus path, which lives in a random temporary folder
const key = (rel) => rel.replace(/\.[0-9a-f]{16}\./g, '.<hash>.');

function normText(s) {
  return s
    .replace(/\/tmp\/earmark-[A-Za-z0-9]+-[A-Za-z0-9]{6}/g, '<tmp>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/"seconds": ?\{[^{}]*\}/g, '"seconds":<t>')
    .replace(/"seconds": ?[-0-9.e]+/g, '"seconds":<t>')
    .replace(/\\"seconds\\": ?[-0-9.e]+/g, '\\"seconds\\":<t>');
}

// in report.html the timings are the "Timings (s)" paragraph and the last cell of each table row
function normHtml(s) {
  return normText(s)
    .replace(/<h2>Timings \(s\)<\/h2><p>[^<]*<\/p>/g, '<h2>Timings (s)</h2><p><t></p>')
    .replace(/<td>[^<]*<\/td><\/tr>/g, '<td><t></td></tr>');
}

// a feature cache: the float32 data compared exactly; the JSON index without its creation time and the
// corpus fingerprint (file sizes and mtimes). The header's index length follows the index, so it is skipped.
function featParts(buf) {
  const pos = Number(buf.readBigUInt64LE(16));
  const len = Number(buf.readBigUInt64LE(24));
  const index = JSON.parse(buf.subarray(pos, pos + len).toString('utf8'));
  delete index.created;
  index.corpus.fingerprint = '<fingerprint>';
  return { data: Buffer.concat([buf.subarray(0, 16), buf.subarray(32, pos)]), index };
}

/** Dotted keys whose values differ between two JSON values (after normalisation). */
function jsonDiff(x, y, at = '') {
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) {
    return normText(JSON.stringify(x)).replace(/[0-9a-f]{16}/g, '<hash>') ===
      normText(JSON.stringify(y)).replace(/[0-9a-f]{16}/g, '<hash>')
      ? []
      : [at];
  }
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])];
  return keys.flatMap((k) => jsonDiff(x[k], y[k], at ? `${at}.${k}` : k));
}

function safetensorsParts(buf) {
  const n = Number(buf.readBigUInt64LE(0));
  return { header: buf.subarray(8, 8 + n).toString('utf8'), data: buf.subarray(8 + n) };
}

function same(fa, fb, rel, why = []) {
  const x = readFileSync(fa);
  const y = readFileSync(fb);
  if (rel.endsWith('.json')) return normText(x.toString('utf8')) === normText(y.toString('utf8'));
  if (rel.endsWith('.html')) return normHtml(x.toString('utf8')) === normHtml(y.toString('utf8'));
  if (rel.endsWith('.feat')) {
    const p = featParts(x);
    const q = featParts(y);
    const keys = jsonDiff(p.index, q.index);
    if (keys.length) why.push(`index ${keys.join(', ')}`);
    if (!p.data.equals(q.data)) why.push('feature data');
    return keys.length === 0 && p.data.equals(q.data);
  }
  if (rel.endsWith('.safetensors')) {
    const p = safetensorsParts(x);
    const q = safetensorsParts(y);
    return p.data.equals(q.data) && normText(p.header.trimEnd()) === normText(q.header.trimEnd());
  }
  return x.equals(y);
}

const left = new Map(walk(a).map((r) => [key(r), r]));
const right = new Map(walk(b).map((r) => [key(r), r]));
let differ = 0;
let equal = 0;
for (const [k, r] of left) {
  const s = right.get(k);
  if (s === undefined) {
    console.log(`only in ${a}: ${r}`);
    differ++;
    continue;
  }
  const why = [];
  if (same(path.join(a, r), path.join(b, s), r, why)) equal++;
  else {
    console.log(`differs: ${r}${why.length ? ` (${why.join('; ')})` : ''}`);
    differ++;
  }
}
for (const [k, r] of right)
  if (!left.has(k)) {
    console.log(`only in ${b}: ${r}`);
    differ++;
  }
console.log(`${equal} files equal, ${differ} differ (timings, creation times and temporary paths ignored)`);
process.exit(differ ? 1 : 0);
