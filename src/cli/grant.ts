// `earmark grant` and `earmark revoke`: issue a token bound to one task and its obfuscator model (only
// its hash is stored), list grants, or revoke one by id or token. A running sensor disconnects revoked
// apps at its next store check.
import { EarmarkError } from '../errors.js';
import { checkObfuscatorModel } from '../edge/model-check.js';
import { TokenStore } from '../edge/tokens.js';
import type { Command } from './args.js';

const TOKENS = { type: 'string', description: 'token store file', default: 'earmark-tokens.json' } as const;

export const grant: Command = {
  name: 'grant',
  summary: 'Issue an app token for ONE task, bound to that task\'s obfuscator model; prints the token once (only its SHA-256 is stored). --list shows the grants.',
  flags: {
    task: { type: 'string', description: 'the task the app may receive (e.g. speaker)' },
    model: { type: 'string', description: 'obfuscator .onnx for that task' },
    tokens: TOKENS,
    list: { type: 'boolean', description: 'list grants (ids, tasks, models, revoked) instead', default: false },
    'allow-unsafe-original-phase': { type: 'boolean', description: "UNSAFE: let a sensor on this store serve audio with the input's original phase (`serve --unsafe-original-phase`); --no-allow-unsafe-original-phase withdraws it" },
  },
  async run(flags) {
    const store = new TokenStore(String(flags['tokens']));
    const unsafe = flags['allow-unsafe-original-phase'];
    if (typeof unsafe === 'boolean') {
      store.setAllowUnsafeOriginalPhase(unsafe);
      console.error(unsafe
        ? `WARNING: ${store.file} now lets \`serve --unsafe-original-phase\` send audio with the input's original phase, which leaks the input to every app`
        : `${store.file} no longer allows the original phase`);
      if (flags['task'] === undefined && flags['model'] === undefined) return 0;
    }
    if (flags['list'] === true) {
      for (const g of store.read()) console.log(`${g.id}  ${g.task.padEnd(12)} ${g.revoked ? `revoked ${g.revoked}` : 'active'}  ${g.model}`);
      return 0;
    }
    if (typeof flags['task'] !== 'string' || typeof flags['model'] !== 'string') {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', 'give --task <name> and --model <obfuscator.onnx> (or --list)');
    }
    await checkObfuscatorModel(flags['model']);
    const { token, id } = store.grant(flags['task'], flags['model']);
    console.error(`grant ${id}: task '${flags['task']}' through ${flags['model']} (stored in ${store.file}); keep the token secret, it is not shown again`);
    console.log(token);
    return 0;
  },
};

export const revoke: Command = {
  name: 'revoke',
  usage: '<grant-id | token>',
  summary: 'Revoke an app token by its grant id or the token itself; a running sensor disconnects the app.',
  flags: { tokens: TOKENS },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new EarmarkError('EARMARK_BAD_ARGUMENT', 'give exactly one grant id or token: `earmark revoke <id|token>`');
    const g = new TokenStore(String(flags['tokens'])).revoke(positionals[0]!);
    console.log(`revoked grant ${g.id} (task '${g.task}')`);
    return 0;
  },
};
