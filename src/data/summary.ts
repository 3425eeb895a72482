// A printable summary of a corpus: counts per label, durations, split sizes. Used by `earmark features`.
import { probeAudio } from './probe.js';
import { SPLIT_NAMES, type Splits } from './splits.js';
import { countBy, labelOf, type Corpus, type LabelKey } from './types.js';

export interface DurationSummary {
  /** Utterances whose duration is known. */
  known: number;
  totalSeconds: number;
  meanSeconds: number;
}

/**
 * Durations from `seconds` (e.g. the feature cache's stats) where given, else from file headers
 * (WAV, FLAC); formats without a readable header, and headers that claim more audio than the file
 * holds, are left out of the totals and counted as unknown. Skipped files are not in `corpus`.
 */
export function corpusDurations(corpus: Corpus, seconds?: (id: string) => number | undefined): DurationSummary {
  let known = 0;
  let total = 0;
  for (const u of corpus.utterances) {
    const s = seconds?.(u.id) ?? probeAudio(u.path)?.seconds;
    if (s === undefined) continue;
    known++;
    total += s;
  }
  return { known, totalSeconds: total, meanSeconds: known ? total / known : NaN };
}

const hms = (s: number): string => {
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec.toFixed(0)} s` : `${sec.toFixed(2)} s`;
};

/** Label counts as text lines; speaker-like labels with many values are shortened to their range. */
export function labelLines(corpus: Corpus): string[] {
  const keys: LabelKey[] = [...corpus.labelNames];
  for (const extra of ['subset', 'set', 'intensity'])
    if (corpus.utterances.some((u) => u.labels?.[extra] !== undefined) && !keys.includes(extra)) keys.push(extra);
  const lines: string[] = [];
  for (const key of keys) {
    const counts = countBy(corpus.utterances, key);
    if (counts.size > 12) {
      const ns = [...counts.values()];
      lines.push(`  ${key}: ${counts.size} values, ${Math.min(...ns)}–${Math.max(...ns)} utterances each`);
    } else {
      lines.push(`  ${key}: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
  }
  // gender per speaker, the number that matters for balance
  if (keys.includes('gender') && keys.includes('speaker')) {
    const g = new Map<string, string | undefined>(corpus.utterances.map((u) => [u.speaker, u.gender]));
    const f = [...g.values()].filter((x) => x === 'female').length;
    lines.push(`  speakers by gender: female ${f}, male ${g.size - f}`);
  }
  return lines;
}

/** Split sizes (utterances and speakers), with the speaker-ID protocol when present. */
export function splitLines(corpus: Corpus, splits: Splits): string[] {
  const byId = new Map(corpus.utterances.map((u) => [u.id, u]));
  const part = (ids: string[]) =>
    `${ids.length} utt / ${new Set(ids.map((id) => labelOf(byId.get(id)!, 'speaker'))).size} spk`;
  const lines = [
    `  split (${splits.config.method}, seed ${splits.config.seed}): ${SPLIT_NAMES.map((s) => `${s} ${part(splits.split[s])}`).join(', ')}`,
  ];
  if (splits.speakerId)
    lines.push(
      `  speaker-ID protocol (test speakers): ${SPLIT_NAMES.map((s) => `${s} ${part(splits.speakerId![s])}`).join(', ')}`,
    );
  return lines;
}

/** The files left out as unreadable (corpus.skipped), one line each; none when nothing was skipped. */
export function skippedLines(corpus: Corpus): string[] {
  const skipped = corpus.skipped ?? [];
  if (skipped.length === 0) return [];
  return [
    `  skipped ${skipped.length} file(s) that cannot be read (not in the counts, durations or splits):`,
    ...skipped.map((s) => `    ${s.path}: ${s.error.replace(/\s*\n\s*/g, ' ')}`),
  ];
}

/**
 * The whole summary of the readable corpus (skipped files are listed, never counted).
 *
 * @example
 * console.log(summarizeCorpus(corpus, corpusDurations(corpus), splits));
 */
export function summarizeCorpus(corpus: Corpus, durations: DurationSummary, splits?: Splits): string {
  const lines = [`${corpus.name}: ${corpus.utterances.length} utterances in ${corpus.root}`, ...labelLines(corpus)];
  const unknown = corpus.utterances.length - durations.known;
  lines.push(
    durations.known
      ? `  duration: ${hms(durations.totalSeconds)} in all, mean ${durations.meanSeconds.toFixed(2)} s${unknown ? ` (${unknown} files without a readable header left out)` : ''}`
      : '  duration: unknown (no WAV/FLAC headers; build the cache for durations)',
  );
  if (splits) lines.push(...splitLines(corpus, splits));
  lines.push(...skippedLines(corpus));
  return lines.join('\n');
}
