// earmark's CLI: a table of commands over library functions; one place turns errors into a one-line
// message and an exit code (report.ts): 0 done, 1 the work failed, 2 usage error.
import { commandPath, parseFlags, type Command } from './args.js';
import { COMMANDS } from './commands.js';
import { closest, usageError } from './flag-checks.js';
import { EXIT_CODES, helpText } from './help.js';
import { EXIT_USAGE, reportError, type Phase } from './report.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'earmark: opt-in privacy for audio apps',
    '',
    'Usage: earmark <command> [flags]  (each command has --help)',
    '',
    ...COMMANDS.map((c) => '  ' + c.name.padEnd(width) + c.summary.split('\n')[0]),
    '',
    EXIT_CODES,
  ].join('\n');
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

/** argv without the global flags (before `--`), and whether --debug was among them (or EARMARK_DEBUG=1). */
export function globalFlags(argv: string[]): { argv: string[]; debug: boolean } {
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  const head = argv.slice(0, end);
  const debug = head.includes('--debug') || process.env['EARMARK_DEBUG'] === '1';
  return { argv: [...head.filter((a) => a !== '--debug'), ...argv.slice(end)], debug };
}

/**
 * Run the command line `argv` (without node and the script); returns the exit code. Never exits.
 * @example process.exitCode = await run(['features', '--root', 'data/ravdess', '--skip-bad']);
 */
export async function run(argv: string[]): Promise<number> {
  const { argv: args, debug } = globalFlags(argv);
  const name = args[0];
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === undefined) {
    console.error(usage());
    return EXIT_USAGE;
  }
  const { cmd, rest } = findCommand(args);
  if (cmd === undefined) {
    const near = closest(
      name,
      COMMANDS.map((c) => c.name),
    );
    const what = name.startsWith('-')
      ? `a command comes first, got the flag ${name}`
      : `unknown command '${name}'${near ? ` (did you mean ${near}?)` : ''}`;
    return reportError(
      usageError(`${what}; the commands are ${COMMANDS.map((c) => c.name).join(', ')} (see \`earmark --help\`)`),
      'earmark',
      'usage',
      debug,
    );
  }
  let phase: Phase = 'usage';
  try {
    const parsed = parseFlags(cmd, rest);
    if (parsed.help) {
      console.log(helpText(cmd));
      return 0;
    }
    const work = await cmd.prepare(parsed.flags, parsed.positionals, parsed.rest);
    phase = 'work';
    return (await work()) ?? 0;
  } catch (e) {
    return reportError(e, `earmark ${commandPath(cmd)}`, phase, debug);
  }
}
