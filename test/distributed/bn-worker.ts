// One rank of a 2-rank DeepSpeech2 (BatchNorm) run, for test/distributed-batchnorm.test.ts.
// argv[2]: JSON { out, checkpoint }. Step 1: rank r forwards samples [2r, 2r+2) of a fixed batch in training
// mode, backward, gradients all-reduced; buffers synced by 'average'. Step 2: the other shard, buffers
// synced by 'broadcast'; rank 0 checkpoints. Writes <out>/rank<R>.safetensors: grad.*, pre.*, avg.*, pre2.*, bc.*
import path from 'node:path';
import {
  allReduceGradients,
  broadcastParameters,
  initProcessGroup,
  onRank0,
  syncBuffers,
} from '../../src/distributed/index.js';
import { saveCheckpoint } from '../../src/methods/checkpoint.js';
import { saveSafetensorsSync } from '../../src/serialize/safetensors.js';
import { manualSeed, noGrad, tidy, type Tensor } from '../../src/tensor/index.js';
import { bnBatch, bnLoss, bnModel } from './bn-common.js';

const cfg = JSON.parse(process.argv[2]!) as { out: string; checkpoint: string };
const pg = await initProcessGroup({ timeoutMs: 30_000 });
manualSeed(3 + pg.rank); // per-rank init on purpose; the broadcast makes rank 0's (= bnModel()'s) win
const model = bnModel(false);
await broadcastParameters(model, pg);
const x = bnBatch();
const saved = new Map<string, Tensor>();
const snapshot = (prefix: string, entries: [string, Tensor][]): void => {
  for (const [k, t] of entries)
    saved.set(
      `${prefix}.${k}`,
      noGrad(() => t.detach().clone()),
    );
};

tidy(() => bnLoss(model, x.narrow(0, 2 * pg.rank, 2)).backward());
await allReduceGradients(model.parameters(), pg);
snapshot(
  'grad',
  model.namedParameters().map(([k, p]) => [k, p.grad!]),
);
snapshot('pre', model.namedBuffers());
await syncBuffers(model, pg, 'average');
snapshot('avg', model.namedBuffers());

noGrad(() => tidy(() => model.forward(x.narrow(0, 2 * (1 - pg.rank), 2)))); // step 2: the other shard
snapshot('pre2', model.namedBuffers());
await syncBuffers(model, pg, 'broadcast');
snapshot('bc', model.namedBuffers());
await onRank0(pg, () => saveCheckpoint(cfg.checkpoint, { modules: { target: model } }, {}));

saveSafetensorsSync(path.join(cfg.out, `rank${pg.rank}.safetensors`), saved);
console.log('done');
await pg.destroy();
