// `earmark train-obfuscator --max-target-drop D`: the utility budget without attackers. Obfuscators are
// trained for each λ_p (default: the sweep's grid) against one frozen T, each in <out>/lp<λ>/; the choice
// reads the VALIDATION split only: T's drop at each run's selected epoch, and, as the privacy measure
// available without attackers, the co-trained deobfuscator's validation reconstruction error L_a (higher
// = harder to invert). choice.json and obfuscator.onnx (the choice in its metadata) go into <out>.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../util/atomic.js';
import type { ObfuscatorEpoch } from '../../methods/obfuscator.js';
import { runTrainObfuscator, type TrainObfuscatorOptions } from '../optin/pipeline.js';
import { exportChoice } from './choice.js';
import { chooseByBudget, type BudgetChoice } from './frontier.js';
import { SWEEP_GRID_DEFAULTS } from './grid.js';
import { seedFolder } from './jobs.js';

export interface TrainObfuscatorBudgetOptions extends TrainObfuscatorOptions {
  /** The largest allowed drop of T's validation accuracy, in points. */
  maxTargetDrop: number;
  /** The λ_p values tried (default 0.1, 0.3, 1, 3, 10). */
  lambdaPs?: number[];
}

/** The selected epoch's record (the trainer's 'val-target' rule: highest validation T accuracy, later epochs win ties). */
export function selectedEpoch(history: readonly ObfuscatorEpoch[], selection: 'val-target' | 'last'): ObfuscatorEpoch {
  let sel = 0;
  history.forEach((e, i) => {
    if (selection === 'last' || e.valTargetAcc >= history[sel]!.valTargetAcc) sel = i;
  });
  return history[sel]!;
}

/**
 * Train one obfuscator per λ_p and keep the most private one within the budget (validation only).
 * @example await runTrainObfuscatorBudget({ ...opts, maxTargetDrop: 3 }) // → choice.json, obfuscator.onnx in opts.out
 */
export async function runTrainObfuscatorBudget(
  o: TrainObfuscatorBudgetOptions,
): Promise<BudgetChoice & { dir: string }> {
  const lambdas = o.lambdaPs ?? SWEEP_GRID_DEFAULTS.lambdaP;
  const cands: {
    id: string;
    dir: string;
    val: { cleanAcc: number; targetAcc: number; drop: number; informed: Record<string, number> };
    privacy: number;
  }[] = [];
  for (const [i, lambdaP] of lambdas.entries()) {
    const id = `lp${String(lambdaP).replace('.', 'p')}`;
    const dir = path.join(o.out, id);
    const first = path.join(o.out, `lp${String(lambdas[0]).replace('.', 'p')}`);
    if (i > 0 && existsSync(first)) seedFolder(first, dir, [/^splits/, /^features$/]);
    await runTrainObfuscator({ ...o, train: { ...o.train, lambdaP }, out: dir });
    const hist = (JSON.parse(readFileSync(path.join(dir, 'obfuscator.json'), 'utf8')) as { history: ObfuscatorEpoch[] })
      .history;
    const e = selectedEpoch(hist, o.train.selection);
    cands.push({
      id,
      dir,
      val: { cleanAcc: e.valCleanAcc, targetAcc: e.valTargetAcc, drop: e.valCleanAcc - e.valTargetAcc, informed: {} },
      privacy: -e.valLa,
    });
  }
  const choice = chooseByBudget(cands, o.maxTargetDrop, "the co-trained deobfuscator's validation L_a, negated");
  const dir = cands.find((c) => c.id === choice.chosen)!.dir;
  const out = { ...choice, dir: path.relative(o.out, dir) };
  writeFileAtomicSync(path.join(o.out, 'choice.json'), JSON.stringify(out, null, 2));
  exportChoice(dir, path.join(o.out, 'obfuscator.onnx'), choice, { obfuscatorTrain: o.train });
  return out;
}
