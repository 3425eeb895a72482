// `earmark demo` (what `npm start` runs): build the built-in speech corpus if it is missing, then run the
// fig4 experiment with the CPU preset (train T for speaker ID, train the obfuscator, attack gender and
// emotion), print the summary table and where the HTML report is, and time the exported obfuscator.
import path from 'node:path';
import { buildSpeechCorpus } from '../data/builtin/speech.js';
import { DATASET_DEFAULTS } from '../data/experiment-data.js';
import { exportObfuscator } from '../deploy/export.js';
import { edgeSpeed } from '../edge/speed.js';
import { resolveExperimentConfig } from '../eval/optin/config.js';
import { runExperiment } from '../eval/optin/run.js';
import { summaryTable } from '../eval/optin/summary.js';
import { repoRoot } from '../util/paths.js';
import { defineCommand } from './args.js';
import { PRESET_FLAGS, readConfigFile } from './common.js';

export const demo = defineCommand({
  name: 'demo',
  summary: 'The main job (`npm start`): build the built-in speech corpus if missing, train T (speaker ID) and the obfuscator, run the fig4 attacks on gender and emotion, and print the summary and the report path.',
  flags: {
    preset: { ...PRESET_FLAGS.preset, description: "'cpu' (about 15 minutes on two cores) or 'paper'" },
    config: PRESET_FLAGS.config,
    difficulty: { type: 'int', description: 'built-in corpus difficulty (0: 16 voices; 1, 2: more near-identical voices)', default: 0 },
    seed: { type: 'int', description: 'corpus and experiment seed', default: 0 },
    out: { type: 'string', description: 'run folder (default runs/demo-<preset>)' },
    fresh: { type: 'boolean', description: 'ignore checkpoints of an earlier demo run', default: false },
    baselines: { type: 'boolean', description: 'also judge ADR and McAdams and the speaker-verification EERs (adds ~10 minutes on two cores)', default: false },
  },
  async run(o) {
    console.error('earmark demo: built-in speech corpus');
    const speech = await buildSpeechCorpus({ difficulty: o.difficulty, seed: o.seed });
    console.error(speech.reused ? `  re-using ${speech.out} (${speech.clips} clips)` : `  built ${speech.out}: ${speech.clips} clips in ${speech.seconds.toFixed(0)} s`);
    const config = resolveExperimentConfig(o.preset, {
      baselines: { adr: o.baselines, mcadams: o.baselines, verification: o.baselines },
      ...readConfigFile(o.config), experiment: 'fig4', seed: o.seed,
      dataset: { ...DATASET_DEFAULTS, layout: 'csv', manifest: path.join(speech.out, 'labels.csv'), splitSeed: o.seed },
    });
    const runDir = o.out ?? path.join(repoRoot(), 'runs', `demo-${o.preset}`);
    const report = await runExperiment({ config, runDir, resume: !o.fresh });
    console.log(`\n${summaryTable(report)}\n\nHTML report: ${path.resolve(runDir, 'report.html')}`);
    // the edge step: the trained obfuscator as ONNX, timed with onnxruntime alone
    console.log(await exportAndMeasure(path.join(runDir, 'obfuscator.safetensors'), runDir));
    return 0;
  },
});

/** Export the obfuscator to `<dir>/obfuscator.onnx` and time it with onnxruntime on one thread; a printable line. */
async function exportAndMeasure(obfuscator: string, dir: string): Promise<string> {
  const file = path.join(dir, 'obfuscator.onnx');
  exportObfuscator(obfuscator, file);
  const s = await edgeSpeed(file, 1);
  return `edge: ${file} (onnxruntime, no libtorch) obfuscates 1 s of audio in ${s.msPerSecond.toFixed(1)} ms on 1 thread ` +
    `(best ${s.bestMs.toFixed(1)} ms; paper Table 1: Raspberry Pi 2B 1923 ms, Jetson TX1 34 ms, GTX 1080 Ti 1 ms)`;
}
