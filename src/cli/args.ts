// Flags declared once per command as a typed table (vitest's CLIOptions<Config> is the model): the
// table gives the parser its names, types, defaults and checks, gives --help its lines, and types the
// options object the command's run() receives, so no command casts a flag. Keys are camelCase and the
// command-line names are their kebab-case (`splitSeed` is --split-seed). A flag may name the config
// key it sets (config-flags.ts), so commands do not merge flags into nested overrides by hand.
//
// The checks are declarative (choices, min/max, integer, exists, required) and all run at parse time
// with a message that names the flag, the value and the fix.
import { statSync } from 'node:fs';
import { EarmarkError } from '../errors.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

interface FlagBase {
  description: string;
  /** The config key this flag sets, as a dotted path (or several); see config-flags.ts. */
  config?: string | readonly string[];
  /** Refuse the command when the flag is missing. */
  required?: boolean;
}

export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  /** The only values accepted. */
  choices?: readonly string[];
  /** The value must name an existing file or folder. */
  exists?: 'file' | 'dir';
}

export interface NumberFlag extends FlagBase {
  /** 'int' accepts integers only. */
  type: 'number' | 'int';
  default?: number;
  min?: number;
  max?: number;
}

export interface BooleanFlag extends FlagBase {
  type: 'boolean';
  default?: boolean;
}

/** A comma-separated list: `--methods baseline,rdal`. */
export interface ListFlag extends FlagBase {
  type: 'list';
  default?: readonly string[];
  choices?: readonly string[];
}

export type FlagSpec = StringFlag | NumberFlag | BooleanFlag | ListFlag;
export type FlagTable = Record<string, FlagSpec>;

/** Parsed flag values by table key (what an untyped caller, such as a test, passes to run()). */
export type FlagRecord = Record<string, string | number | boolean | readonly string[] | undefined>;

/** The type a flag's value has in the options object. */
export type FlagValue<F> = F extends { type: 'boolean' } ? boolean
  : F extends { type: 'number' | 'int' } ? number
  : F extends { type: 'list'; choices: readonly (infer C)[] } ? C[]
  : F extends { type: 'list' } ? string[]
  : F extends { choices: readonly (infer C)[] } ? C
  : string;

/** The options object of a flag table: flags with a default (or required) are always present. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K] extends { default: unknown } | { required: true } ? FlagValue<T[K]> : FlagValue<T[K]> | undefined;
};

/** A command as the dispatcher sees it; write one with defineCommand. */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, for --help. */
  usage?: string;
  flags: FlagTable;
  /** `earmark <name> <sub> …`: chosen by the first argument. */
  subcommands?: Command[];
  /** Set on subcommands by defineCommand. */
  parent?: Command;
  /** Fill defaults, check the flags and run; `flags` as parseFlags returns them. */
  run(flags: FlagRecord, positionals: string[]): Promise<number | void>;
}

export interface CommandDef<T extends FlagTable> {
  name: string;
  summary: string;
  usage?: string;
  flags: T;
  subcommands?: Command[];
  run(options: FlagValues<T>, positionals: string[]): Promise<number | void>;
}

/**
 * A command whose run() gets the typed options object of its flag table.
 * @example
 * export const hello = defineCommand({ name: 'hello', summary: 'Greets', flags: { times: { type: 'int', description: 'how often', default: 1, min: 1 } },
 *   async run(o) { for (let i = 0; i < o.times; i++) console.log('hello'); } });
 */
export function defineCommand<const T extends FlagTable>(def: CommandDef<T>): Command {
  const cmd: Command = {
    name: def.name, summary: def.summary, flags: def.flags,
    ...(def.usage === undefined ? {} : { usage: def.usage }),
    ...(def.subcommands === undefined ? {} : { subcommands: def.subcommands }),
    run: (flags, positionals) => def.run(resolveFlags(cmd, flags) as FlagValues<T>, positionals),
  };
  for (const s of def.subcommands ?? []) s.parent = cmd;
  return cmd;
}

/** A flag table with its literal types kept (for tables shared by several commands). */
export function flagTable<const T extends FlagTable>(table: T): T {
  return table;
}

/** `splitSeed` → `split-seed` (keys that already hold dashes are kept). */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `earmark corpus speech`'s name as typed. */
export function commandPath(cmd: Command): string {
  return cmd.parent ? `${commandPath(cmd.parent)} ${cmd.name}` : cmd.name;
}

function bad(message: string): EarmarkError {
  return new EarmarkError('EARMARK_BAD_ARGUMENT', message);
}

/**
 * Parse argv against the command's table: `--name value`, `--name=value`, `--flag`, `--no-flag`.
 * Unknown flags, missing values and values that fail a check are refused with the flag's name.
 */
export function parseFlags(cmd: Command, argv: string[]): { flags: FlagRecord; positionals: string[]; help: boolean } {
  const byName = new Map(Object.keys(cmd.flags).map((k) => [flagName(k), k]));
  const raw: FlagRecord = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') { help = true; continue; }
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; } // the rest is another program's command line
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    let name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    let key = byName.get(name);
    if (key === undefined && name.startsWith('no-') && cmd.flags[byName.get(name.slice(3)) ?? '']?.type === 'boolean') {
      name = name.slice(3);
      key = byName.get(name);
      value = 'false';
    }
    if (key === undefined) throw unknownFlag(cmd, name);
    const spec = cmd.flags[key]!;
    if (spec.type === 'boolean') {
      raw[key] = value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw bad(`--${name} needs a value (${spec.type})`);
    }
    raw[key] = parseValue(name, spec, value);
  }
  return { flags: help ? raw : resolveFlags(cmd, raw), positionals, help };
}

function unknownFlag(cmd: Command, name: string): EarmarkError {
  // a flag of a sibling subcommand: say which one takes it
  const sibling = cmd.parent?.subcommands?.find((s) => s !== cmd && Object.keys(s.flags).some((k) => flagName(k) === name));
  if (sibling) {
    return bad(`--${name}: only for \`earmark ${commandPath(sibling)}\`, not \`${cmd.name}\`; see \`earmark ${commandPath(cmd.parent!)} --help\``);
  }
  return bad(`unknown flag --${name} for \`earmark ${commandPath(cmd)}\`; see \`earmark ${commandPath(cmd)} --help\``);
}

function parseValue(name: string, spec: FlagSpec, value: string): string | number | string[] {
  if (spec.type === 'string') return value;
  if (spec.type === 'list') return value.split(',').map((s) => s.trim()).filter(Boolean);
  const n = Number(value);
  if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
    throw bad(`--${name} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

/** Defaults filled in and every check applied (idempotent: run() applies it to what parseFlags returns). */
export function resolveFlags(cmd: Command, given: FlagRecord): FlagRecord {
  const out: FlagRecord = { ...given };
  for (const [key, spec] of Object.entries(cmd.flags)) {
    if (out[key] === undefined && spec.default !== undefined) out[key] = spec.default;
    const name = flagName(key);
    const v = out[key];
    if (v === undefined) {
      if (spec.required) throw bad(`--${name} is required: ${spec.description}; see \`earmark ${commandPath(cmd)} --help\``);
      continue;
    }
    checkFlag(name, spec, v);
  }
  return out;
}

function checkFlag(name: string, spec: FlagSpec, v: string | number | boolean | readonly string[]): void {
  if (spec.type === 'string' && typeof v === 'string') {
    if (spec.choices && !spec.choices.includes(v)) throw bad(`--${name} must be one of ${spec.choices.join(', ')}, got '${v}'`);
    if (spec.exists) checkExists(name, spec.exists, v);
  } else if (spec.type === 'list' && Array.isArray(v)) {
    if (spec.choices) {
      const unknown = v.filter((x) => !spec.choices!.includes(x));
      if (unknown.length || v.length === 0) {
        throw bad(`--${name}: unknown value(s) ${unknown.map((x) => `'${x}'`).join(', ') || '(none given)'}; choose from ${spec.choices.join(', ')}`);
      }
    }
  } else if ((spec.type === 'number' || spec.type === 'int') && typeof v === 'number') {
    if (spec.type === 'int' && !Number.isInteger(v)) throw bad(`--${name} must be an integer, got '${v}'`);
    if (spec.min !== undefined && v < spec.min) throw bad(`--${name} must be at least ${spec.min}, got ${v}`);
    if (spec.max !== undefined && v > spec.max) throw bad(`--${name} must be at most ${spec.max}, got ${v}`);
  } else if (spec.type !== typeof v && !(spec.type === 'int' && typeof v === 'number')) {
    throw new TypeError(`flag --${name}: expected a ${spec.type} value, got ${typeof v}`);
  }
}

function checkExists(name: string, kind: 'file' | 'dir', v: string): void {
  let st;
  try {
    st = statSync(v);
  } catch {
    throw bad(`--${name}: no ${kind === 'file' ? 'file' : 'folder'} at '${v}'; check the path`);
  }
  if (kind === 'file' && !st.isFile()) throw bad(`--${name}: '${v}' is not a file`);
  if (kind === 'dir' && !st.isDirectory()) throw bad(`--${name}: '${v}' is not a folder`);
}

/** What --help prints: usage, summary, subcommands, then one line per flag. */
export function helpText(cmd: Command): string {
  const lines = [`earmark ${commandPath(cmd)}${cmd.usage ? ' ' + cmd.usage : ''}`, '', cmd.summary, ''];
  if (cmd.subcommands?.length) {
    lines.push('Subcommands:');
    for (const s of cmd.subcommands) lines.push(`  ${s.name}`.padEnd(28) + s.summary.split('\n')[0]);
    lines.push(`  (each has --help: earmark ${commandPath(cmd)} <subcommand> --help)`, '');
  }
  lines.push('Flags:');
  for (const [k, s] of Object.entries(cmd.flags)) {
    const choices = 'choices' in s && s.choices ? s.choices.join('|') : undefined;
    const arg = s.type === 'boolean' ? '' : ` <${s.type === 'list' ? `list of ${choices ?? 'values'}` : choices ?? s.type}>`;
    const d = s.default === undefined ? '' : ` (default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})`;
    const flag = `  --${flagName(k)}${arg}`;
    lines.push(flag.length < 28 ? flag.padEnd(28) + s.description + d : `${flag}\n${' '.repeat(28)}${s.description}${d}`);
  }
  lines.push('  --help'.padEnd(28) + 'show this help');
  return lines.join('\n');
}
