// Input checks that read a little of a file before any work: that a --target is a checkpoint of a
// trained target model (its safetensors header only, no tensors and no libtorch), and that an input
// audio file's header is plausible (a 2 GHz sample rate is refused by name, not met in the resampler).
import { closeSync, openSync, readSync } from 'node:fs';
import { probeAudio } from '../data/probe.js';
import { usageError } from './flag-checks.js';

/** What train-target's checkpoint keeps in its metadata (methods/checkpoint.ts, methods/classifier.ts). */
const CHECKPOINT_KEY = 'earmark.checkpoint';

/** The `__metadata__` of a safetensors file, read from its header; undefined when it is not one. */
function safetensorsMetadata(file: string): Record<string, string> | null | undefined {
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return undefined;
    const n = len.readBigUInt64LE(0);
    if (n < 2n || n > 100_000_000n) return undefined;
    const head = Buffer.alloc(Number(n));
    if (readSync(fd, head, 0, head.length, 8) !== head.length) return undefined;
    const header = JSON.parse(head.toString('utf8')) as { __metadata__?: Record<string, string> };
    return header !== null && typeof header === 'object' ? (header.__metadata__ ?? null) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * `file` is a checkpoint of a trained DeepSpeech2 target (written by `earmark train-target` or an
 * experiment); returns the number of classes it predicts. `flag` names the flag in messages.
 */
export function checkTargetCheckpoint(file: string, flag = '--target'): number {
  const fix = "give the target.safetensors written by `earmark train-target` (or an experiment's run folder)";
  const meta = safetensorsMetadata(file);
  if (meta === undefined) throw usageError(`${flag} ${file} is not a safetensors file; ${fix}`);
  const raw = meta?.[CHECKPOINT_KEY];
  if (raw === undefined)
    throw usageError(`${flag} ${file} is not an earmark checkpoint (no '${CHECKPOINT_KEY}' metadata); ${fix}`);
  let numClasses: unknown;
  try {
    numClasses = (JSON.parse(raw) as { state?: { modelConfig?: { numClasses?: unknown } } }).state?.modelConfig
      ?.numClasses;
  } catch {
    throw usageError(`${flag} ${file} has unreadable checkpoint metadata; ${fix}`);
  }
  if (typeof numClasses !== 'number')
    throw usageError(
      `${flag} ${file} is an earmark checkpoint but not of a target model (no DeepSpeech2 config); ${fix}`,
    );
  return numClasses;
}

/** Sample rates a recording may have; outside them the header is corrupt (and the resampler cannot reach 16 kHz). */
export const SAMPLE_RATE_RANGE = [1000, 768_000] as const;

/**
 * An input audio file's header, where this probe reads one (WAV, FLAC): a plausible sample rate and at
 * least one frame of audio. Other formats and damaged headers are left to the decoder, which names the file.
 * @example checkAudioHeader('--in', 'talk.wav');
 */
export function checkAudioHeader(flag: string, file: string): void {
  const h = probeAudio(file);
  if (h === undefined) return;
  const [lo, hi] = SAMPLE_RATE_RANGE;
  const fix = 're-export it as 16 kHz mono WAV (e.g. `sox in.wav -r 16000 -c 1 out.wav`)';
  if (h.sampleRate < lo || h.sampleRate > hi)
    throw usageError(
      `${flag} ${file}: its header says ${h.sampleRate} Hz, outside ${lo}–${hi} Hz, so the header is corrupt; ${fix}`,
    );
  if (h.channels === 0 || h.frames === 0) throw usageError(`${flag} ${file} holds no audio (0 frames); ${fix}`);
}
