// Small file helpers the built-in corpora share: 16-bit PCM WAV in and out (the corpora write only
// this one format, so no general decoder is needed), CSV rows, the sha256 checksum manifest, and a
// build folder that appears under its final name only when complete.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EarmarkError } from '../../errors.js';
import { formatCsv, parseCsvRecords } from '../../util/csv.js';

/**
 * Encode mono samples in [-1, 1] as a 16-bit PCM WAV (clipped to ±1, scaled by 32767, Math.round).
 * @example await writeFile('a.wav', encodeWav16(new Float32Array(16000), 16000));
 */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  const n = samples.length;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    buf.writeInt16LE(Math.round(v * 32767), 44 + 2 * i);
  }
  return buf;
}

/** Decode a mono 16-bit PCM WAV (what the built-in corpora write) into samples in [-1, 1]. */
export function decodeWav16(bytes: Buffer, file: string): { samples: Float32Array; sampleRate: number } {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new EarmarkError('EARMARK_AUDIO', `${file}: not a RIFF/WAVE file; rebuild the corpus`);
  }
  let pos = 12;
  let sampleRate = 0;
  let format = 0;
  let channels = 0;
  let bits = 0;
  while (pos + 8 <= bytes.length) {
    const id = bytes.toString('ascii', pos, pos + 4);
    const size = bytes.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      format = bytes.readUInt16LE(body);
      channels = bytes.readUInt16LE(body + 2);
      sampleRate = bytes.readUInt32LE(body + 4);
      bits = bytes.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (format !== 1 || channels !== 1 || bits !== 16) {
        throw new EarmarkError('EARMARK_AUDIO', `${file}: expected mono 16-bit PCM, got format ${format}, ${channels} channels, ${bits} bits`);
      }
      const n = Math.floor(Math.min(size, bytes.length - body) / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = bytes.readInt16LE(body + 2 * i) / 32768;
      return { samples, sampleRate };
    }
    pos = body + size + (size & 1);
  }
  throw new EarmarkError('EARMARK_AUDIO', `${file}: no data chunk; the file is truncated, rebuild the corpus`);
}

/** CSV text with a header row. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return formatCsv([[...header], ...rows.map((r) => [...r])]);
}

/** Parse CSV text with a header row into records keyed by the header; `file` names it in errors. */
export function parseCsv(text: string, file: string): Record<string, string>[] {
  const { header, records } = parseCsvRecords(text);
  if (!header.includes('path')) throw new EarmarkError('EARMARK_DATASET', `${file}: no 'path' column in the header (found ${header.join(', ') || 'nothing'}); rebuild the corpus`);
  return records;
}

/** sha256 of a file's bytes, hex. */
export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
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
