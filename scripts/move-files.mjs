// Moves TypeScript files with `git mv` and rewrites every relative import of them (and the moved files'
// own relative imports) in src/, test/ and bench/. Used for the layout step (issue 10); a branch written
// against the old layout can run it with the same pairs to follow the renames.
// Usage: node scripts/move-files.mjs old.ts:new.ts [old2.ts:new2.ts ...]   (paths from the repo root)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const pairs = process.argv.slice(2).map((a) => a.split(':').map((p) => path.normalize(p)));
if (pairs.length === 0 || pairs.some((p) => p.length !== 2)) {
  console.error('usage: node scripts/move-files.mjs old.ts:new.ts [...]');
  process.exit(2);
}
const moved = new Map(pairs);
const oldOf = new Map(pairs.map(([a, b]) => [b, a]));

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

for (const [from, to] of pairs) {
  mkdirSync(path.dirname(to), { recursive: true });
  execFileSync('git', ['mv', from, to]);
}

const spec = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g;
for (const file of [...walk('src'), ...walk('test'), ...walk('bench')]) {
  const before = oldOf.get(file) ?? file; // where the file was when its imports were written
  const text = readFileSync(file, 'utf8');
  const next = text.replace(spec, (all, lead, q, s) => {
    const js = path.normalize(path.join(path.dirname(before), s));
    const ts = js.replace(/\.js$/, '.ts');
    const target = moved.get(ts) ?? ts;
    if (target === ts && before === file) return all;
    let rel = path.relative(path.dirname(file), target.replace(/\.ts$/, s.endsWith('.js') ? '.js' : ''));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    return `${lead}${q}${rel}${q}`;
  });
  if (next !== text) writeFileSync(file, next);
}
