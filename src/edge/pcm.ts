// Raw PCM streams (s16le, 16 kHz mono) and the obfuscated outputs' file formats (.npy, safetensors).
import { EarmarkError } from '../errors.js';
import { encodeRaw } from '../serialize/safetensors-format.js';

/** Container signatures that mean "this is a file, not raw PCM". */
const SIGNATURES: [string, string][] = [
  ['RIFF', 'a WAV file'],
  ['fLaC', 'a FLAC file'],
  ['OggS', 'an Ogg file'],
  ['ID3', 'an MP3 file'],
  ['{', 'JSON text'],
];

/**
 * Decodes a byte stream of s16le samples chunk by chunk, carrying an odd byte across chunks. The first
 * bytes are checked against container signatures, and `end()` refuses a stream cut mid-sample.
 * @example const d = new PcmDecoder(); for await (const b of process.stdin) s.push(d.decode(b)); d.end();
 */
export class PcmDecoder {
  #carry: number | null = null;
  #first = true;
  #bytes = 0;
  readonly source: string;

  constructor(source = 'stdin') {
    this.source = source;
  }

  decode(chunk: Uint8Array): Float32Array {
    if (this.#first && chunk.length > 0) {
      this.#first = false;
      const head = Buffer.from(chunk.subarray(0, 4)).toString('latin1');
      for (const [sig, what] of SIGNATURES) {
        if (head.startsWith(sig)) {
          throw new EarmarkError(
            'EARMARK_AUDIO',
            `${this.source} starts with '${sig}': it looks like ${what}, not raw s16le PCM. ` +
              'Give files with --in <file>, or convert: `ffmpeg -i in.wav -f s16le -ac 1 -ar 16000 -`',
          );
        }
      }
    }
    this.#bytes += chunk.length;
    let bytes = chunk;
    if (this.#carry !== null) {
      bytes = new Uint8Array(chunk.length + 1);
      bytes[0] = this.#carry;
      bytes.set(chunk, 1);
      this.#carry = null;
    }
    const n = bytes.length >> 1;
    if (bytes.length % 2 === 1) this.#carry = bytes[bytes.length - 1]!;
    const out = new Float32Array(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true) / 32768;
    return out;
  }

  /** The stream is over: refuse a dangling half sample. */
  end(): void {
    if (this.#carry !== null) {
      throw new EarmarkError(
        'EARMARK_AUDIO',
        `${this.source} ended mid-sample after ${this.#bytes} bytes (an odd count; s16le samples are 2 bytes). ` +
          'The stream was cut; check the producer (e.g. `arecord -f S16_LE -r 16000 -c 1 -t raw`)',
      );
    }
  }
}

/** Float samples → s16le bytes (clipped). */
export function encodePcm16(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++)
    dv.setInt16(2 * i, Math.max(-32768, Math.min(32767, Math.round(x[i]! * 32768))), true);
  return out;
}

/**
 * A float32 C-order .npy file (format 1.0) of `shape`.
 * @example writeFileSync('obf.npy', encodeNpy(logMag, [161, frames]));
 */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** A safetensors file with one float tensor and string metadata. */
export function encodeSafetensorsF32(
  name: string,
  data: Float32Array,
  shape: number[],
  metadata: Record<string, string>,
): Uint8Array {
  return encodeRaw(
    new Map([[name, { dtype: 'F32', shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }]]),
    metadata,
  );
}
