// The child process of `earmark sweep --jobs N`: receives one experiment ({ config, runDir }) from its
// parent over IPC, runs it (resuming from the folder), and exits 0 when it finished, 1 when it failed.
import { runExperiment, type ExperimentStages } from '../optin/run.js';
import type { ExperimentConfig } from '../optin/config.js';

process.once('message', (m: { config: ExperimentConfig; runDir: string; stages?: ExperimentStages }) => {
  runExperiment({
    config: m.config,
    runDir: m.runDir,
    resume: true,
    stages: m.stages ?? 'all',
    log: (l) => process.stdout.write(`${l}\n`),
  }).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
});
