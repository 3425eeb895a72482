// Listing a corpus folder: recursive, sorted, hidden entries skipped; the per-file check that decides
// which listed files can be read at all (before any decoding, so --skip-bad can leave them out of the
// splits); and the checks every adapter starts with, so their errors read the same.
import { closeSync, constants, openSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { pathProblem } from '../util/sys-error.js';

/** Audio file extensions the adapters list (lower case, with the dot). */
export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aac'] as const;

/**
 * All files under `root` whose extension (case-insensitive) is in `exts`, as absolute paths in
 * sorted order. Hidden files and folders (starting with '.') are skipped; symlinks are followed, and
 * a symlink with an audio name that leads nowhere (dangling, or a loop) is listed, so that the
 * per-file check reports it instead of the file silently missing. A folder reached twice through
 * symlinks (a folder loop) is walked once.
 */
export function walkFiles(root: string, exts: readonly string[] = AUDIO_EXTENSIONS): string[] {
  const wanted = new Set(exts.map((e) => e.toLowerCase()));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      const audioName = wanted.has(path.extname(e.name).toLowerCase());
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          isDir = st.isDirectory();
        } catch {
          if (audioName) out.push(p); // dangling or looping: reported by fileProblem
          continue;
        }
      }
      if (isDir) visit(p);
      else if (audioName) out.push(p); // a file, or a pipe or device that fileProblem reports
    }
  };
  visit(root);
  return out;
}

/**
 * Why `file` cannot be read as an audio file, or undefined when it can be opened for reading:
 * 'does not exist', 'is a symbolic link loop …', 'cannot be read: permission denied', 'is a folder …'.
 * Opens and closes the file (no read), so a permission problem is found before decoding starts.
 *
 * @example
 * fileProblem('/data/a.wav') // undefined, or e.g. 'does not exist'
 */
export function fileProblem(file: string): string | undefined {
  try {
    const st = statSync(file);
    if (st.isDirectory()) return pathProblem('EISDIR');
    if (!st.isFile()) return 'is not a regular file (a pipe, socket or device)';
    closeSync(openSync(file, constants.O_RDONLY | constants.O_NONBLOCK));
    return undefined;
  } catch (e) {
    return pathProblem((e as NodeJS.ErrnoException).code ?? 'EIO');
  }
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
    throw new EarmarkError(
      'EARMARK_DATASET',
      `corpus folder ${abs} does not exist; check --root (the ${layout} layout expects its top folder)`,
    );
  }
  if (!st.isDirectory())
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${abs} is a file, not a folder; --root must be the ${layout} corpus's top folder`,
    );
  return abs;
}

/** The error for a folder that holds none of the files a layout expects. */
export function noFilesError(layout: string, root: string, expected: string, fix: string): EarmarkError {
  return new EarmarkError('EARMARK_DATASET', `no ${layout} audio found under ${root}: expected ${expected}; ${fix}`);
}
