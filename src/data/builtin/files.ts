// Small file helpers the built-in corpora share: 16-bit PCM WAV in and out (the corpora write only
// this one format, so no general decoder is needed), CSV rows, the sha256 checksum manifest, and a
// build folder that appears under its final name only when complete.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import { decodeWav, encodeWav } from '../../audio/io.js';
import { formatCsv, parseCsvRecords } from '../../util/csv.js';

/** Mono 16-bit PCM WAV bytes (what the built-in corpora write), via the audio layer's encoder. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  return Buffer.from(encodeWav(samples, sampleRate, { format: 'pcm16' }));
}

/** Decode a mono 16-bit PCM WAV (what the built-in corpora write) into samples in [-1, 1]. */
export function decodeWav16(bytes: Buffer, file: string): { samples: Float32Array; sampleRate: number } {
  const a = decodeWav(bytes, { path: file });
  if (a.channels.length !== 1)
    throw new EarmarkError(
      'EARMARK_AUDIO',
      `${file}: expected mono audio, got ${a.channels.length} channels; rebuild the corpus`,
    );
  return { samples: a.channels[0]!, sampleRate: a.sampleRate };
}

/** CSV text with a header row. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return formatCsv([[...header], ...rows.map((r) => [...r])]);
}

/** Parse CSV text with a header row into records keyed by the header; `file` names it in errors. */
export function parseCsv(text: string, file: string): Record<string, string>[] {
  const { header, records } = parseCsvRecords(text);
  if (!header.includes('path'))
    throw new EarmarkError(
      'EARMARK_DATASET',
      `${file}: no 'path' column in the header (found ${header.join(', ') || 'nothing'}); rebuild the corpus`,
    );
  return records;
}

/** sha256 of a file's bytes, hex. */
export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Every file under `dir` (relative, '/'-separated, sorted). */
export async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

/**
 * Write `<dir>/checksums.sha256` in `sha256sum` format (`sha256sum -c checksums.sha256` verifies it)
 * over every file in `dir` except the manifest itself and corpus.json; returns the manifest text.
 */
export async function writeChecksums(dir: string): Promise<string> {
  const files = (await listFiles(dir)).filter((f) => f !== 'checksums.sha256' && f !== 'corpus.json');
  const lines: string[] = [];
  for (const f of files) lines.push(`${await sha256File(path.join(dir, f))}  ${f}`);
  const text = lines.join('\n') + '\n';
  await writeFile(path.join(dir, 'checksums.sha256'), text);
  return text;
}

/**
 * Run `fill` on an empty `<out>.partial` folder, then move it to `out` (replacing an older corpus);
 * on failure remove it, so a corpus folder is only ever seen complete.
 * @example await buildAtomically('data/builtin/x', async (dir) => writeFile(path.join(dir, 'a.wav'), bytes));
 */
export async function buildAtomically<T>(out: string, fill: (dir: string) => Promise<T>): Promise<T> {
  const partial = `${out}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    const result = await fill(partial);
    await rm(out, { recursive: true, force: true });
    await rename(partial, out);
    return result;
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/** The `config` stored in `<out>/corpus.json`, or undefined when there is no complete corpus. */
export function readStoredConfig(out: string): unknown {
  const file = path.join(out, 'corpus.json');
  if (!existsSync(file) || !existsSync(path.join(out, 'checksums.sha256'))) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { config?: unknown }).config;
  } catch {
    return undefined;
  }
}
