// The fresh inversion attackers (issue 11): for each attacked format and each configured network (the
// deobfuscator's architecture, and larger ones), a NEW CycleGAN-VC2 generator is trained on (shipped
// output, clean input) pairs of the public training split — the primary protocol's attacker training
// utterances, so under 'speaker-disjoint' it never hears a test speaker — against the frozen obfuscator
// (methods/inversion.ts), then every clean attribute classifier is run on its reconstructions of the
// shipped TEST outputs. These, not the co-trained deobfuscator, are the strongest reconstruction attack.
import { trainInversion } from '../../methods/inversion.js';
import { resolveCycleGanVc2Config } from '../../models/cyclegan-vc2.js';
import { fingerprint } from '../../config/fingerprint.js';
import type { Tensor } from '../../tensor/index.js';
import { predict } from '../../methods/classifier.js';
import { scoreClassification } from '../metrics.js';
import { inRun, setOf, timed, withSource, type RunContext } from './context.js';
import { attackKey, protocolSpeakers, type AttackStage } from './attacks.js';
import { obfuscatorSeeds } from './config.js';
import type { DataStage, DeployStage } from './stages.js';

/** Train (or load) every inversion network and score the clean classifiers on its reconstructions (files named `prefix`…). */
export async function inversionStage(
  run: RunContext,
  d: DataStage,
  dep: DeployStage,
  attacks: AttackStage,
  prefix = '',
): Promise<void> {
  const c = run.config;
  const inv = c.inversion;
  run.report.inversion = [];
  const protocol = d.protocols[0]!;
  const split = d.plan.splits[protocol]!;
  for (const format of inv.formats.filter((f) => c.attack.formats.includes(f))) {
    const shipped = dep.shipped[format]!;
    const pairs = (ids: readonly string[]): { input: ReturnType<typeof setOf>; target: ReturnType<typeof setOf> } => {
      const input = setOf(shipped, ids);
      return { input, target: setOf(d.clean, input.ids) };
    };
    const train = pairs(split.train);
    const val = pairs(split.val);
    for (const net of inv.networks) {
      const generator = resolveCycleGanVc2Config({
        ...c.deobfuscator,
        ...(net.channels > 0 ? { channels: net.channels } : {}),
        ...(net.residualBlocks > 0 ? { residualBlocks: net.residualBlocks } : {}),
      });
      const name = `inversion-${net.name}-${format}`;
      run.log(
        `[inversion] ${name}: C=${generator.channels}, R=${generator.residualBlocks}, on ${train.input.ids.length} ${protocol} training utterances`,
      );
      const r = await timed(run, `${prefix}${name}`, () =>
        trainInversion({
          name,
          stage: name,
          generator,
          train,
          val,
          config: { ...inv.train, seed: obfuscatorSeeds(c).inversion },
          checkpointPath: inRun(run, `${prefix}${name}.safetensors`),
          resume: run.resume,
          log: run.log,
          inputs: {
            shipped: dep.cacheFile.split('/').pop(),
            train: fingerprint(train.input.ids),
            val: fingerprint(val.input.ids),
            protocol,
          },
        }),
      );
      const reconstruct = (x: Tensor): Tensor => r.model.forward(x);
      for (const a of run.report.attacks ?? []) {
        const fa = a.formats[format];
        const clean = attacks.clean.get(attackKey(a.attribute, a.protocol));
        if (fa === undefined || clean === undefined) continue;
        const test = withSource(clean.test, shipped);
        fa.inversion[net.name] = scoreClassification(
          predict(clean.model, test.set, reconstruct),
          test.labels,
          test.numClasses,
          c.seed,
          protocolSpeakers(d, a.protocol, test),
        );
      }
      run.report.inversion.push({
        name: net.name,
        format,
        channels: generator.channels,
        residualBlocks: generator.residualBlocks,
        parameters: r.model.numParameters(),
        protocol,
        trainUtterances: train.input.ids.length,
        bestEpoch: r.bestEpoch,
        history: r.history,
      });
      r.model.dispose();
    }
  }
}
