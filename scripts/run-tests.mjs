// Runs every compiled *.test.js under dist/ with node's test runner.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist', [])
  .filter((f) => !filters.length || filters.some((s) => f.includes(s)))
  .sort();
if (!files.length) {
  console.error('no test files found under dist/ (did the TypeScript build run?)');
  process.exit(1);
}
// one libtorch thread per test process, two processes at a time on the 2-core reference machine
const env = { ...process.env, EARMARK_THREADS: process.env.EARMARK_THREADS ?? '1' };
const r = spawnSync(process.execPath, ['--expose-gc', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
