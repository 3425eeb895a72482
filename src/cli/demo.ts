// `earmark demo` (what `npm start` runs): build the built-in speech corpus if it is missing, then run the
// fig4 experiment with the CPU preset (train T for speaker ID, train the obfuscator, attack gender and
// emotion), print the summary table and where the HTML report is, and time the exported obfuscator.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildSpeechCorpus, defaultSpeechOut } from '../data/builtin/speech.js';
import { MAX_DIFFICULTY } from '../data/builtin/voices.js';
import type { ExperimentConfig } from '../eval/optin/config.js';
import { repoRoot } from '../util/paths.js';
import { defineCommand } from './args.js';
import { PRESET_FLAGS, resolveWithFile } from './common.js';

export const demo = defineCommand({
  name: 'demo',
  summary:
    'The main job (`npm start`): build the built-in speech corpus if missing, train T (speaker ID) and the obfuscator, run the fig4 attacks on gender and emotion, and print the summary and the report path.',
  flags: {
    preset: { ...PRESET_FLAGS.preset, description: "'cpu' (about 40 minutes on two cores) or 'paper'" },
    config: PRESET_FLAGS.config,
    difficulty: {
      type: 'int',
      min: 0,
      max: MAX_DIFFICULTY,
      default: 0,
      description: 'built-in corpus difficulty (0: 16 voices; 1, 2: more near-identical voices)',
    },
    seed: { type: 'int', min: 0, description: 'corpus and experiment seed', default: 0 },
    out: { type: 'string', output: true, description: 'run folder (default runs/demo-<preset>)' },
    fresh: { type: 'boolean', description: 'ignore checkpoints of an earlier demo run', default: false },
    baselines: {
      type: 'boolean',
      description: 'also judge ADR and McAdams and the speaker-verification EERs (adds ~10 minutes on two cores)',
      default: false,
    },
  },
  async check(o, ctx) {
    const { resolveExperimentConfig } = await import('../eval/optin/config.js');
    const { DATASET_DEFAULTS } = await import('../data/experiment-data.js');
    const manifest = path.join(defaultSpeechOut(o.difficulty, o.seed), 'labels.csv');
    const config = (m: string): ExperimentConfig =>
      resolveWithFile(
        o.config,
        (file) =>
          resolveExperimentConfig(o.preset, {
            baselines: { adr: o.baselines, mcadams: o.baselines, verification: o.baselines },
            ...file,
            experiment: 'fig4',
            seed: o.seed,
            dataset: { ...DATASET_DEFAULTS, layout: 'csv', manifest: m, splitSeed: o.seed },
          }),
        {},
      );
    config(manifest);
    const runDir = o.out ?? path.join(repoRoot(), 'runs', `demo-${o.preset}`);
    ctx.output(runDir);
    return { config, runDir };
  },
  async run(o, { checked: { config, runDir } }) {
    console.error('earmark demo: built-in speech corpus');
    const speech = await buildSpeechCorpus({ difficulty: o.difficulty, seed: o.seed });
    console.error(
      speech.reused
        ? `  re-using ${speech.out} (${speech.clips} clips)`
        : `  built ${speech.out}: ${speech.clips} clips in ${speech.seconds.toFixed(0)} s`,
    );
    const { ExperimentStageError, runExperiment } = await import('../eval/optin/run.js');
    const { summaryTable } = await import('../eval/optin/summary.js');
    const report = await runExperiment({
      config: config(path.join(speech.out, 'labels.csv')),
      runDir,
      resume: !o.fresh,
    }).catch((e: unknown) => {
      if (e instanceof ExperimentStageError) console.log(`\n${summaryTable(e.report)}\n`); // what the other stages computed
      throw e;
    });
    console.log(`\n${summaryTable(report)}\n\nHTML report: ${path.resolve(runDir, 'report.html')}`);
    // the edge step: the trained obfuscator as ONNX, timed with onnxruntime alone
    console.log(await exportAndMeasure(path.join(runDir, 'obfuscator.safetensors'), runDir));
    return 0;
  },
});

/** Time `<dir>/obfuscator.onnx` (the run's export, with its output level; exported here if missing) on one thread; a printable line. */
async function exportAndMeasure(obfuscator: string, dir: string): Promise<string> {
  const { exportObfuscator } = await import('../deploy/export.js');
  const { edgeSpeed } = await import('../edge/speed.js');
  const file = path.join(dir, 'obfuscator.onnx');
  if (!existsSync(file)) exportObfuscator(obfuscator, file);
  const s = await edgeSpeed(file, 1);
  return (
    `edge: ${file} (onnxruntime, no libtorch) obfuscates 1 s of audio in ${s.msPerSecond.toFixed(1)} ms on 1 thread ` +
    `(best ${s.bestMs.toFixed(1)} ms; paper Table 1: Raspberry Pi 2B 1923 ms, Jetson TX1 34 ms, GTX 1080 Ti 1 ms)`
  );
}
