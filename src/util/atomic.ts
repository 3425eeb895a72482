// Atomic file writes: write a temp file beside the target, fsync it, rename it over the target, so a
// reader (or a crash) sees either the old file or the whole new one, never a torn write.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temp name in the target's own folder (rename is only atomic within one file system). */
function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function checkArgs(target: unknown, data: unknown): void {
  if (typeof target !== 'string' || target.length === 0) {
    throw new TypeError(`'path' must be a non-empty string, got ${JSON.stringify(target)}`);
  }
  if (typeof data !== 'string' && !ArrayBuffer.isView(data)) {
    throw new TypeError(`'data' must be a string, Buffer or typed array, got ${typeof data}`);
  }
}

function bytesOf(data: string | ArrayBufferView): Uint8Array {
  return typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Write `data` to `target` atomically: temp file in the same folder, fsync, rename. On failure the
 * temp file is removed and the old `target` (if any) is untouched.
 * @example await writeFileAtomic('runs/a/model.safetensors', bytes);
 */
export async function writeFileAtomic(target: string, data: string | ArrayBufferView): Promise<void> {
  checkArgs(target, data);
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytesOf(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Synchronous twin of {@link writeFileAtomic} (for exit handlers and small files).
 * @example writeFileAtomicSync('runs/a/config.json', JSON.stringify(cfg));
 */
export function writeFileAtomicSync(target: string, data: string | ArrayBufferView): void {
  checkArgs(target, data);
  const tmp = tempPathFor(target);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = bytesOf(data);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
