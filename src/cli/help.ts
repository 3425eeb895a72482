// What --help prints: a command's usage, summary, arguments, subcommands and one line per flag; and
// the exit codes every command shares.
import { commandPath, flagName, type Command } from './flags.js';

/** The exit codes of every command, for `earmark --help`. */
export const EXIT_CODES = [
  'Exit codes:',
  '  0  done',
  '  1  the work failed (a bad audio file met while computing features, a training or I/O error, the source ended)',
  '  2  usage error: nothing was done because a flag, an argument, the --config file or a path or port they',
  '     name cannot be used; the one-line message names it and the fix',
  '',
  'Global flags: --debug (any command) also prints the stack of an error; --help (any command) its flags.',
].join('\n');

const COL = 28;

function line(left: string, text: string): string {
  return left.length < COL ? left.padEnd(COL) + text : `${left}\n${' '.repeat(COL)}${text}`;
}

/** `<dir>` or `[dir]` for each declared argument, and `-- <command …>` for a rest. */
export function usageLine(cmd: Command): string {
  if (cmd.usage !== undefined) return cmd.usage;
  const args = (cmd.args ?? []).map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  return [...args, '[flags]', ...(cmd.rest ? [`-- <${cmd.rest}>`] : [])].join(' ');
}

/** What `earmark <command> --help` prints. */
export function helpText(cmd: Command): string {
  const lines = [`earmark ${commandPath(cmd)} ${usageLine(cmd)}`, '', cmd.summary, ''];
  if (cmd.args?.length) {
    lines.push('Arguments:');
    for (const a of cmd.args)
      lines.push(line(`  <${a.name}>`, a.description + (a.choices ? ` (${a.choices.join('|')})` : '')));
    lines.push('');
  }
  if (cmd.subcommands?.length) {
    lines.push('Subcommands:');
    for (const s of cmd.subcommands) lines.push(line(`  ${s.name}`, s.summary.split('\n')[0]!));
    lines.push(`  (each has --help: earmark ${commandPath(cmd)} <subcommand> --help)`, '');
  }
  lines.push('Flags:');
  for (const [k, s] of Object.entries(cmd.flags)) {
    const choices = 'choices' in s && s.choices ? s.choices.join('|') : undefined;
    const arg =
      s.type === 'boolean' ? '' : ` <${s.type === 'list' ? `list of ${choices ?? 'values'}` : (choices ?? s.type)}>`;
    const d =
      s.default === undefined
        ? ''
        : ` (default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})`;
    lines.push(line(`  --${flagName(k)}${arg}`, s.description + d));
  }
  lines.push(line('  --debug', 'on an error, also print its stack'), line('  --help', 'show this help'));
  lines.push('', 'Exit codes: 0 done, 1 the work failed, 2 usage error (nothing was done); see `earmark --help`.');
  return lines.join('\n');
}
