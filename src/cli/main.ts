// earmark's CLI: a table of commands over library functions; one place turns errors into a banner
// and an exit code.
import { EarmarkError } from '../errors.js';
import { commandPath, helpText, parseFlags, type Command } from './args.js';
import { COMMANDS } from './commands.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return ['earmark: opt-in privacy for audio apps', '', 'Usage: earmark <command> [flags]  (each command has --help)', '',
    ...COMMANDS.map((c) => '  ' + c.name.padEnd(width) + c.summary.split('\n')[0])].join('\n');
}

/** The command that argv names, descending into subcommands (`experiment rdal …`), and the rest of argv. */
export function findCommand(argv: string[]): { cmd: Command | undefined; rest: string[] } {
  let cmd = COMMANDS.find((c) => c.name === argv[0]);
  let rest = argv.slice(1);
  while (cmd?.subcommands) {
    const sub = cmd.subcommands.find((s) => s.name === rest[0]);
    if (sub === undefined) break;
    cmd = sub;
    rest = rest.slice(1);
  }
  return { cmd, rest };
}

export async function run(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const { cmd, rest } = findCommand(argv);
  if (cmd === undefined) {
    console.error(`earmark: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  try {
    const { flags, positionals, help } = parseFlags(cmd, rest);
    if (help) {
      console.log(helpText(cmd));
      return 0;
    }
    return (await cmd.run(flags, positionals)) ?? 0;
  } catch (e) {
    if (e instanceof EarmarkError) {
      console.error(`\nearmark ${commandPath(cmd)}: ${e.message}\n  [${e.code}]`);
    } else {
      console.error(`\nearmark ${commandPath(cmd)} failed:`, e);
    }
    return 1;
  }
}
