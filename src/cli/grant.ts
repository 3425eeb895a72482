// `earmark grant`: issue a token bound to one task and its obfuscator model (only its hash is stored),
// or list the grants. A running sensor serves the app only that task's obfuscated stream.
import { TokenStore } from '../edge/tokens.js';
import { defineCommand, flagTable, usageError } from './args.js';

/** --tokens of grant, revoke and serve. */
export const TOKENS_FLAG = flagTable({
  tokens: { type: 'string', parentExists: true, description: 'token store file', default: 'earmark-tokens.json' },
});

export const grant = defineCommand({
  name: 'grant',
  summary:
    "Issue an app token for ONE task, bound to that task's obfuscator model; prints the token once (only its SHA-256 is stored). --list shows the grants.",
  flags: {
    task: { type: 'string', description: 'the task the app may receive (e.g. speaker)' },
    // checked by checkObfuscatorModel in check(): missing, a folder, a WAV, another model, each named
    model: { type: 'string', description: 'obfuscator .onnx for that task' },
    ...TOKENS_FLAG,
    list: { type: 'boolean', description: 'list grants (ids, tasks, models, revoked) instead', default: false },
    allowUnsafeOriginalPhase: {
      type: 'boolean',
      description:
        "UNSAFE: let a sensor on this store serve audio with the input's original phase (`serve --unsafe-original-phase`); " +
        '--no-allow-unsafe-original-phase withdraws it',
    },
  },
  async check(o) {
    const setsPhase = o.allowUnsafeOriginalPhase !== undefined;
    if (o.list && (o.task !== undefined || o.model !== undefined))
      throw usageError('--list shows the grants; give it without --task and --model');
    if (!o.list && !(setsPhase && o.task === undefined && o.model === undefined)) {
      if (o.task === undefined || o.model === undefined)
        throw usageError('give --task <name> and --model <obfuscator.onnx> (or --list)');
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.task))
        throw usageError(`--task must be a name of 1–64 letters, digits, '_', '.' or '-', got '${o.task}'`);
      const { checkObfuscatorModel } = await import('../edge/model-check.js');
      await checkObfuscatorModel(o.model);
    }
  },
  async run(o) {
    const store = new TokenStore(o.tokens);
    const unsafe = o.allowUnsafeOriginalPhase;
    if (unsafe !== undefined) {
      store.setAllowUnsafeOriginalPhase(unsafe);
      console.error(
        unsafe
          ? `WARNING: ${store.file} now lets \`serve --unsafe-original-phase\` send audio with the input's original phase, which leaks the input to every app`
          : `${store.file} no longer allows the original phase`,
      );
      if (o.task === undefined && o.model === undefined && !o.list) return 0;
    }
    if (o.list) {
      for (const g of store.read())
        console.log(`${g.id}  ${g.task.padEnd(12)} ${g.revoked ? `revoked ${g.revoked}` : 'active'}  ${g.model}`);
      return 0;
    }
    const { token, id } = store.grant(o.task!, o.model!);
    console.error(
      `grant ${id}: task '${o.task}' through ${o.model} (stored in ${store.file}); keep the token secret, it is not shown again`,
    );
    console.log(token);
    return 0;
  },
});
