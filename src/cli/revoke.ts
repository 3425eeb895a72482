// `earmark revoke`: revoke an app token by its grant id or the token itself; a running sensor
// disconnects revoked apps at its next store check.
import { TokenStore } from '../edge/tokens.js';
import { defineCommand } from './args.js';
import { TOKENS_FLAG } from './grant.js';

export const revoke = defineCommand({
  name: 'revoke',
  args: [
    {
      name: 'grant-id|token',
      required: true,
      description: 'the grant id (`earmark grant --list`) or the token itself',
    },
  ],
  summary: 'Revoke an app token by its grant id or the token itself; a running sensor disconnects the app.',
  flags: { tokens: { ...TOKENS_FLAG.tokens, exists: 'file', fix: 'give the store `earmark grant` wrote' } },
  async run(o, { args: [id] }) {
    const g = new TokenStore(o.tokens).revoke(id!);
    console.log(`revoked grant ${g.id} (task '${g.task}')`);
    return 0;
  },
});
