// With EARMARK_KEEP_E2E=<folder>, an end-to-end test keeps a copy of its output folder under <folder>/<name>,
// so that report.json and checkpoints can be diffed across a refactor (scripts/diff-reports.mjs).
import { cpSync } from 'node:fs';
import path from 'node:path';

/** Copy `dir` to $EARMARK_KEEP_E2E/`name` when that variable is set; otherwise do nothing. */
export function keepOutput(dir: string, name: string): void {
  const to = process.env['EARMARK_KEEP_E2E'];
  if (to) cpSync(dir, path.join(to, name), { recursive: true });
}
