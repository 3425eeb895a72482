// Output folders that a failing run leaves behind empty. Before the work starts, each output path's
// first missing ancestor is noted; when the work fails, the folders from the path up to that ancestor
// are removed if they are empty (a folder holding anything, such as a checkpoint to resume from, stays).
import { readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const exists = (p: string): boolean => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

/** Removes `dir` when it holds nothing but empty folders; true when it is gone. */
function removeIfEmpty(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return !exists(dir);
  }
  for (const n of names) {
    const p = path.join(dir, n);
    if (!isDir(p) || !removeIfEmpty(p)) return false;
  }
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export class OutputFolders {
  /** Output path → its first missing ancestor (the top folder this run would create). */
  readonly #created = new Map<string, string>();

  /** Note an output path (a folder, or a file whose folders the run creates); call before the work starts. */
  add(p: string | undefined): void {
    if (p === undefined || p === '' || p === '-') return;
    const abs = path.resolve(p);
    if (exists(abs) || this.#created.has(abs)) return;
    let top = abs;
    for (let up = path.dirname(top); up !== top && !exists(up); up = path.dirname(up)) top = up;
    this.#created.set(abs, top);
  }

  /** After a failed run: remove the noted folders that exist now and are empty, up to the first missing ancestor. */
  removeEmpty(): string[] {
    const removed: string[] = [];
    for (const [abs, top] of this.#created) {
      for (let d = abs; ; d = path.dirname(d)) {
        if (isDir(d) && removeIfEmpty(d)) removed.push(d);
        else if (exists(d)) break;
        if (d === top || path.dirname(d) === d) break;
      }
    }
    return removed;
  }
}
