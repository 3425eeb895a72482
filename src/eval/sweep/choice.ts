// The utility budget's output: the chosen obfuscator exported to ONNX with the choice in its metadata
// (`earmark.choice`: the point, the budget, whether it fits and why), so a deployed model says what
// it was picked for. It carries the point's deployed window and output level like the point's own ONNX.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { exportObfuscator } from '../../deploy/export.js';
import { deployedWindow } from '../../methods/obfuscator.js';
import type { ExperimentConfig } from '../optin/config.js';
import type { BudgetChoice } from './frontier.js';

/** The choice as the ONNX metadata value (the candidates' numbers stay in choice.json). */
export function choiceMetadata(c: BudgetChoice): Record<string, string> {
  const { candidates: _c, ...rest } = c;
  return { 'earmark.choice': JSON.stringify(rest) };
}

/**
 * Export the obfuscator of the chosen run folder (its obfuscator.safetensors) to `file`, carrying the choice.
 * @example exportChoice('runs/sweep/points/lp3', 'runs/sweep/obfuscator.onnx', choice);
 */
export function exportChoice(
  runDir: string,
  file: string,
  c: BudgetChoice,
  config: Pick<ExperimentConfig, 'obfuscatorTrain'>,
): string {
  const reportFile = path.join(runDir, 'report.json');
  const report = existsSync(reportFile)
    ? (JSON.parse(readFileSync(reportFile, 'utf8')) as { deployed?: { outputMean: number; outputStd: number } })
    : {};
  // an experiment's folder knows the deployed output level; train-obfuscator's does not (the edge defaults apply)
  const level = report.deployed ? { outputMean: report.deployed.outputMean, outputStd: report.deployed.outputStd } : {};
  const features = { ...level, ...deployedWindow(config.obfuscatorTrain) };
  return exportObfuscator(path.join(runDir, 'obfuscator.safetensors'), file, { features, metadata: choiceMetadata(c) })
    .file;
}
