// The task-output floor's report (eval/optin/floor.ts) and its Markdown table; no libtorch here, so that the
// README's results blocks (eval/results-readme.ts) can render it.
import type { ClassScores } from '../metrics.js';

/** One attribute on one split: the clean classifier and T's posteriors (the floor), on clean test audio. */
export interface FloorFold {
  splitSeed: number;
  attribute: string;
  protocol: string;
  /** The held-out voices (speaker-disjoint protocol), or [] on the closed set. */
  testSpeakers: string[];
  target: ClassScores;
  clean: ClassScores;
  floor: ClassScores;
}

export interface FloorPooled {
  attribute: string;
  protocol: string;
  folds: number;
  clean: ClassScores;
  floor: ClassScores;
  /** 'below clean' when the floor's upper bound is under the clean classifier's lower bound, else 'not below clean'. */
  verdict: 'below clean' | 'not below clean';
}

export interface FloorReport {
  format: 'earmark-floor-report';
  version: 1;
  experiment: string;
  task: string;
  dataset: string;
  splitSeeds: number[];
  folds: FloorFold[];
  pooled: FloorPooled[];
  createdAt: string;
}

export const pct = (s: ClassScores): string =>
  `${(100 * s.accuracy).toFixed(1)}% [${(100 * s.accuracyCI.lo).toFixed(1)}, ${(100 * s.accuracyCI.hi).toFixed(1)}]`;

/** The floor report in Markdown: a row per split and attribute, then the pooled rows and their verdicts. */
export function floorMarkdown(r: FloorReport): string {
  const lines = [
    `# Task-output floor, ${r.experiment} (${r.dataset})`,
    '',
    `T (${r.task}) on clean audio; per protected attribute on its primary protocol: the clean classifier, and a`,
    "classifier on T's posteriors (the floor of any obfuscator that keeps T's posterior). Accuracies in %, 95%",
    'intervals in brackets (resampling the test voices where the attackers never heard them).',
    '',
    `| split seed | attribute | protocol | test voices | T ${r.task} | clean classifier | T's posteriors (floor) |`,
    '|---|---|---|---|---|---|---|',
    ...r.folds.map(
      (f) =>
        `| ${f.splitSeed} | ${f.attribute} | ${f.protocol} | ${f.testSpeakers.join(', ') || '–'} | ${pct(f.target)} | ${pct(f.clean)} | ${pct(f.floor)} |`,
    ),
    ...r.pooled.map(
      (p) =>
        `| pooled (${p.folds}) | ${p.attribute} | ${p.protocol} | ${p.floor.speakers === undefined ? '' : `${p.floor.speakers} voices, `}${p.floor.n} utterances |  | ${pct(p.clean)} | ${pct(p.floor)} |`,
    ),
    '',
    ...r.pooled.map(
      (p) =>
        `- ${p.attribute} (chance ${(100 * p.floor.chanceMajority).toFixed(1)}%): the floor is **${p.verdict}** ` +
        (p.verdict === 'below clean'
          ? "(its interval lies under the clean classifier's): an obfuscator that keeps T's posterior could be below clean."
          : "(the intervals overlap or it is above): no obfuscator that keeps T's posterior can be shown below clean here."),
    ),
  ];
  return lines.join('\n') + '\n';
}
