// `earmark revoke`: revoke an app token by its grant id or the token itself; a running sensor
// disconnects revoked apps at its next store check.
import { EarmarkError } from '../errors.js';
import { TokenStore } from '../edge/tokens.js';
import { defineCommand } from './args.js';
import { TOKENS_FLAG } from './grant.js';

export const revoke = defineCommand({
  name: 'revoke',
  usage: '<grant-id | token>',
  summary: 'Revoke an app token by its grant id or the token itself; a running sensor disconnects the app.',
  flags: TOKENS_FLAG,
  async run(o, positionals) {
    if (positionals.length !== 1) throw new EarmarkError('EARMARK_BAD_ARGUMENT', 'give exactly one grant id or token: `earmark revoke <id|token>`');
    const g = new TokenStore(o.tokens).revoke(positionals[0]!);
    console.log(`revoked grant ${g.id} (task '${g.task}')`);
    return 0;
  },
});
