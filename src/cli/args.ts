// Flags declared once per command as a typed table (vitest's CLIOptions<Config> is the model): the
// table gives the parser its names, types, defaults and checks, gives --help its lines, and types the
// options object the command's run() receives, so no command casts a flag. Keys are camelCase and the
// command-line names are their kebab-case (`splitSeed` is --split-seed). A flag may name the config
// key it sets (config-flags.ts), so commands do not merge flags into nested overrides by hand.
//
// Every check runs before any work, in three steps: the parser (types, unknown flags), the declarative
// checks of the table (choices, min/max, integer, exists, required; positional arguments), and the
// command's own check() (a config file's keys, a checkpoint's kind, a corpus's labels). An error in any
// of them is a usage error (exit code 2) with a message that names the flag, the value and the fix.
import { EarmarkError } from '../errors.js';
import { checkArgPaths, checkArgs, checkFlag, checkFlagPaths, closest, usageError } from './flag-checks.js';
import {
  commandPath,
  flagName,
  type ArgSpec,
  type Command,
  type FlagRecord,
  type FlagTable,
  type FlagValues,
  type Work,
} from './flags.js';
import { OutputFolders } from './outputs.js';

export * from './flags.js';
export { helpText } from './help.js';
export { usageError } from './flag-checks.js';

/** What a command's check() gets besides its options. */
export interface CheckContext {
  /** Positional arguments, already checked against `args`. */
  args: string[];
  /** The command line after `--` (commands that declare `rest`). */
  rest: string[];
  /** Note an output path computed here (not a flag marked `output`): a failing run removes what it created empty. */
  output(p: string): void;
}

/** What a command's run() gets besides its options: check()'s result as `checked`. */
export interface RunContext<P> {
  args: string[];
  rest: string[];
  checked: P;
}

export interface CommandDef<T extends FlagTable, P> {
  name: string;
  summary: string;
  usage?: string;
  flags: T;
  args?: readonly ArgSpec[];
  rest?: string;
  subcommands?: Command[];
  /**
   * Checks beyond the table, before any work and without side effects (no folder is created): what it
   * throws is a usage error. What it returns (a resolved config, a loaded corpus) is run()'s `checked`.
   */
  check?(options: FlagValues<T>, ctx: CheckContext): P | Promise<P>;
  run(options: FlagValues<T>, ctx: RunContext<P>): Promise<number | void>;
}

/**
 * A command whose check() and run() get the typed options object of its flag table.
 * @example
 * export const hello = defineCommand({ name: 'hello', summary: 'Greets', flags: { times: { type: 'int', description: 'how often', default: 1, min: 1 } },
 *   async run(o) { for (let i = 0; i < o.times; i++) console.log('hello'); } });
 */
export function defineCommand<const T extends FlagTable, P = undefined>(def: CommandDef<T, P>): Command {
  const cmd: Command = {
    name: def.name,
    summary: def.summary,
    flags: def.flags,
    ...(def.usage === undefined ? {} : { usage: def.usage }),
    ...(def.args === undefined ? {} : { args: def.args }),
    ...(def.rest === undefined ? {} : { rest: def.rest }),
    ...(def.subcommands === undefined ? {} : { subcommands: def.subcommands }),
    async prepare(flags, args = [], rest = []): Promise<Work> {
      // values first, then the arguments, then the file system: a bad number is named before a missing file
      const o = resolveFlags(cmd, flags) as FlagValues<T>;
      checkArgs(cmd, args, rest);
      for (const [k, spec] of Object.entries(def.flags)) checkFlagPaths(flagName(k), spec, o[k]);
      checkArgPaths(cmd, args);
      const outputs = new OutputFolders();
      for (const [k, spec] of Object.entries(def.flags))
        if (spec.output && typeof o[k] === 'string') outputs.add(o[k] as string);
      const checked = def.check ? await def.check(o, { args, rest, output: (p) => outputs.add(p) }) : (undefined as P);
      return async () => {
        try {
          return await def.run(o, { args, rest, checked });
        } catch (e) {
          outputs.removeEmpty();
          throw e;
        }
      };
    },
    async run(flags, args = [], rest = []) {
      return (await cmd.prepare(flags, args, rest))();
    },
  };
  for (const s of def.subcommands ?? []) s.parent = cmd;
  return cmd;
}

/** A flag table with its literal types kept (for tables shared by several commands). */
export function flagTable<const T extends FlagTable>(table: T): T {
  return table;
}

/**
 * Parse argv against the command's table: `--name value`, `--name=value`, `--flag`, `--no-flag`; what
 * follows `--` is `rest`. Unknown flags, missing values and values that fail a check are refused with
 * the flag's name. Positional arguments are checked by prepare() against the command's `args`.
 */
export function parseFlags(
  cmd: Command,
  argv: string[],
): { flags: FlagRecord; positionals: string[]; rest: string[]; help: boolean } {
  const byName = new Map(Object.keys(cmd.flags).map((k) => [flagName(k), k]));
  const raw: FlagRecord = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    } // the rest is another program's command line
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    let key = byName.get(name);
    if (key === undefined && name.startsWith('no-') && cmd.flags[byName.get(name.slice(3)) ?? '']?.type === 'boolean') {
      if (value !== undefined) throw usageError(`--${name} takes no value, got '${value}'`);
      name = name.slice(3);
      key = byName.get(name);
      value = 'false';
    }
    if (key === undefined) throw unknownFlag(cmd, name);
    const spec = cmd.flags[key]!;
    if (spec.type === 'boolean') {
      raw[key] = booleanValue(name, value);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) {
        const how =
          value === undefined
            ? ''
            : ` (got the flag ${value}; a value that starts with -- is written --${name}=${value})`;
        throw usageError(
          `--${name} needs a value (${spec.type === 'int' ? 'an integer' : spec.type}: ${spec.description})${how}`,
        );
      }
    }
    raw[key] = parseValue(name, spec.type, value);
  }
  return { flags: help ? raw : resolveFlags(cmd, raw), positionals, rest, help };
}

function booleanValue(name: string, value: string | undefined): boolean {
  if (value === undefined || ['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw usageError(`--${name} is a switch: give --${name} or --no-${name} (or =true/=false), got '${value}'`);
}

function unknownFlag(cmd: Command, name: string): EarmarkError {
  // a flag of a sibling subcommand: say which one takes it
  const sibling = cmd.parent?.subcommands?.find(
    (s) => s !== cmd && Object.keys(s.flags).some((k) => flagName(k) === name),
  );
  if (sibling) {
    return usageError(
      `--${name}: only for \`earmark ${commandPath(sibling)}\`, not \`${cmd.name}\`; see \`earmark ${commandPath(cmd.parent!)} --help\``,
    );
  }
  const near = closest(name, Object.keys(cmd.flags).map(flagName));
  return usageError(
    `unknown flag --${name} for \`earmark ${commandPath(cmd)}\`${near ? ` (did you mean --${near}?)` : ''}; see \`earmark ${commandPath(cmd)} --help\``,
  );
}

function parseValue(
  name: string,
  type: 'string' | 'number' | 'int' | 'list',
  value: string,
): string | number | string[] {
  if (type === 'string') return value;
  if (type === 'list')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) {
    throw usageError(`--${name} must be ${type === 'int' ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

/** Defaults filled in and every declarative check applied (idempotent: prepare() applies it to what parseFlags returns). */
export function resolveFlags(cmd: Command, given: FlagRecord): FlagRecord {
  const out: FlagRecord = { ...given };
  for (const key of Object.keys(given)) if (!Object.hasOwn(cmd.flags, key)) throw unknownFlag(cmd, flagName(key));
  for (const [key, spec] of Object.entries(cmd.flags)) {
    if (out[key] === undefined && spec.default !== undefined) out[key] = spec.default;
    const name = flagName(key);
    const v = out[key];
    if (v === undefined) {
      if (spec.required)
        throw usageError(`--${name} is required: ${spec.description}; see \`earmark ${commandPath(cmd)} --help\``);
      continue;
    }
    checkFlag(name, spec, v);
  }
  return out;
}
