// Listing a corpus folder: recursive, sorted, hidden entries skipped; and the checks every adapter
// starts with, so their errors read the same.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';

/** Audio file extensions the adapters list (lower case, with the dot). */
export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac'] as const;

/**
 * All files under `root` whose extension (case-insensitive) is in `exts`, as absolute paths in
 * sorted order. Hidden files and folders (starting with '.') are skipped; symlinks are followed.
 */
export function walkFiles(root: string, exts: readonly string[] = AUDIO_EXTENSIONS): string[] {
  const wanted = new Set(exts.map((e) => e.toLowerCase()));
  const out: string[] = [];
  const visit = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          [isDir, isFile] = [st.isDirectory(), st.isFile()];
        } catch {
          continue; // a dangling symlink
        }
      }
      if (isDir) visit(p);
      else if (isFile && wanted.has(path.extname(e.name).toLowerCase())) out.push(p);
    }
  };
  visit(root);
  return out;
}

/** Resolves `root` and checks it is a readable folder; the error names the layout and the flag. */
export function requireDir(root: string | undefined, layout: string): string {
  if (root === undefined || root === '') {
    throw new EarmarkError('EARMARK_DATASET', `the ${layout} layout needs a corpus folder; pass --root <folder>`);
  }
  const abs = path.resolve(root);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new EarmarkError('EARMARK_DATASET', `corpus folder ${abs} does not exist; check --root (the ${layout} layout expects its top folder)`);
  }
  if (!st.isDirectory()) throw new EarmarkError('EARMARK_DATASET', `${abs} is a file, not a folder; --root must be the ${layout} corpus's top folder`);
  return abs;
}

/** The error for a folder that holds none of the files a layout expects. */
export function noFilesError(layout: string, root: string, expected: string, fix: string): EarmarkError {
  return new EarmarkError('EARMARK_DATASET', `no ${layout} audio found under ${root}: expected ${expected}; ${fix}`);
}
