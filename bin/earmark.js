#!/usr/bin/env node
// The `earmark` command: the compiled CLI lives in dist/ (built by scripts/bootstrap.sh).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('earmark is not built yet: run `bash scripts/bootstrap.sh` (or `npm test` / `npm start`) first.');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
