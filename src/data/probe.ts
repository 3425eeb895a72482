// Audio durations from file headers alone (no decoding), for corpus summaries: WAV (RIFF/RF64 'fmt '
// + 'data' chunks) and FLAC (STREAMINFO). Other formats give undefined.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

export interface AudioHeader {
  sampleRate: number;
  channels: number;
  frames: number;
  seconds: number;
}

/** The file's first `bytes` bytes and its size. */
function readHead(file: string, bytes: number): { head: Buffer; size: number } {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return { head: buf.subarray(0, n), size: fstatSync(fd).size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses a WAV header in `buf` (the file's first bytes); undefined when it is not a readable WAV, or
 * when its data chunk claims more bytes than the file's `fileBytes` hold (a lying or truncated header).
 */
export function parseWavHeader(buf: Buffer, fileBytes = Infinity): AudioHeader | undefined {
  if (buf.length < 12) return undefined;
  const riff = buf.toString('latin1', 0, 4);
  if ((riff !== 'RIFF' && riff !== 'RF64') || buf.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let at = 12;
  let channels = 0,
    sampleRate = 0,
    blockAlign = 0;
  let ds64Data: number | undefined;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'ds64' && body + 16 <= buf.length) ds64Data = Number(buf.readBigUInt64LE(body + 8));
    if (id === 'fmt ' && body + 16 <= buf.length) {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      blockAlign = buf.readUInt16LE(body + 12);
    }
    if (id === 'data') {
      if (channels === 0 || sampleRate === 0 || blockAlign === 0) return undefined;
      const bytes = size === 0xffffffff && ds64Data !== undefined ? ds64Data : size;
      if (body + bytes > fileBytes) return undefined;
      const frames = Math.floor(bytes / blockAlign);
      return { sampleRate, channels, frames, seconds: frames / sampleRate };
    }
    at = body + size + (size & 1);
  }
  return undefined;
}

/** Parses FLAC's STREAMINFO; undefined when `buf` does not start with 'fLaC'. */
export function parseFlacHeader(buf: Buffer): AudioHeader | undefined {
  if (buf.length < 8 + 34 || buf.toString('latin1', 0, 4) !== 'fLaC' || (buf[4]! & 0x7f) !== 0) return undefined;
  const si = 8; // STREAMINFO body
  // bits: 20 sample rate | 3 channels-1 | 5 bps-1 | 36 total samples, starting at byte 10 of the body
  const b = buf.subarray(si + 10, si + 18);
  const sampleRate = (b[0]! << 12) | (b[1]! << 4) | (b[2]! >> 4);
  const channels = ((b[2]! >> 1) & 0x7) + 1;
  const frames = (b[3]! & 0x0f) * 2 ** 32 + b.readUInt32BE(4);
  if (sampleRate === 0) return undefined;
  return { sampleRate, channels, frames, seconds: frames / sampleRate };
}

/**
 * Duration and format of an audio file from its header, or undefined when the format is not one
 * this probe reads (MP3, M4A, Ogg) or the header is damaged or claims more audio than the file holds.
 *
 * @example
 * probeAudio('/data/RAVDESS/Actor_01/03-01-01-01-01-01-01.wav')?.seconds // 3.3
 */
export function probeAudio(file: string): AudioHeader | undefined {
  try {
    const ext = path.extname(file).toLowerCase();
    const { head, size } = readHead(file, 64 * 1024);
    return ext === '.flac'
      ? (parseFlacHeader(head) ?? parseWavHeader(head, size))
      : (parseWavHeader(head, size) ?? parseFlacHeader(head));
  } catch {
    return undefined;
  }
}
