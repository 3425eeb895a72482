// Lines of every source file under src/ as Prettier (.prettierrc.json) would format it, largest first:
// the 400-line limit holds for the formatted text. Usage: node scripts/formatted-lines.mjs [min-lines]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';

const min = Number(process.argv[2] ?? 0);
const files = [];
(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = path.join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})('src');
const rows = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const options = { ...(await prettier.resolveConfig(f)), filepath: f };
  const formatted = await prettier.format(text, options);
  rows.push([formatted.split('\n').length - 1, text.split('\n').length - 1, f]);
}
for (const [fmt, raw, f] of rows.sort((a, b) => b[0] - a[0]))
  if (fmt >= min) console.log(`${String(fmt).padStart(5)} ${String(raw).padStart(5)}  ${f}`);
