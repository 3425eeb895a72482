// earmark's CLI: a table of commands over library functions; one place turns errors into a banner
// and an exit code.
import { EarmarkError } from '../errors.js';
import { helpText, parseFlags, type Command } from './args.js';
import { COMMANDS } from './commands.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return ['earmark: opt-in privacy for audio apps', '', 'Usage: earmark <command> [flags]  (each command has --help)', '',
    ...COMMANDS.map((c) => '  ' + c.name.padEnd(width) + c.summary.split('\n')[0])].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  // `earmark experiment rdal …` is the RDAL experiment (its own flags): route it to `experiment-rdal`
  if (argv[0] === 'experiment' && argv[1] === 'rdal') argv = ['experiment-rdal', ...argv.slice(2)];
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
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
      console.error(`\nearmark ${name}: ${e.message}\n  [${e.code}]`);
    } else {
      console.error(`\nearmark ${name} failed:`, e);
    }
    return 1;
  }
}
