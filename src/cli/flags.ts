// The shapes of the CLI's tables: a flag's spec (type, default, declarative checks), a positional
// argument's spec, and a command as the dispatcher sees it. Written with defineCommand (args.ts).

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

interface FlagBase {
  description: string;
  /** The config key this flag sets, as a dotted path (or several); see config-flags.ts. */
  config?: string | readonly string[];
  /** Refuse the command when the flag is missing. */
  required?: boolean;
  /**
   * The value is a path (file or folder) the command writes: folders that a failing run created on the
   * way to it and left empty are removed.
   */
  output?: boolean;
}

export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  /** The only values accepted. */
  choices?: readonly string[];
  /** The value must name an existing file or folder ('-' is let through when `dash` is set). */
  exists?: 'file' | 'dir';
  /** '-' (stdin or stdout) is a valid value besides a path. */
  dash?: boolean;
  /** The folder the value would be written into must exist (an output file such as a token store). */
  parentExists?: boolean;
  /** What to do when an `exists` path is missing, for the message ('build it with `earmark corpus speech`'). */
  fix?: string;
}

export interface NumberFlag extends FlagBase {
  /** 'int' accepts integers only. */
  type: 'number' | 'int';
  default?: number;
  min?: number;
  max?: number;
  /** Strictly above this (for numbers where 0 itself is wrong: a chunk length, a learning rate). */
  above?: number;
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

/** A positional argument: `earmark corpus probe <dir>`, `earmark experiment <fig3a|fig3b|fig4>`. */
export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
  choices?: readonly string[];
  exists?: 'file' | 'dir';
}

/** Parsed flag values by table key (what an untyped caller, such as a test, passes to run()). */
export type FlagRecord = Record<string, string | number | boolean | readonly string[] | undefined>;

/** The type a flag's value has in the options object. */
export type FlagValue<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'number' | 'int' }
    ? number
    : F extends { type: 'list'; choices: readonly (infer C)[] }
      ? C[]
      : F extends { type: 'list' }
        ? string[]
        : F extends { choices: readonly (infer C)[] }
          ? C
          : string;

/** The options object of a flag table: flags with a default (or required) are always present. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K] extends { default: unknown } | { required: true }
    ? FlagValue<T[K]>
    : FlagValue<T[K]> | undefined;
};

/** What a command does once its inputs are checked. */
export type Work = () => Promise<number | void>;

/** A command as the dispatcher sees it; write one with defineCommand. */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, for --help (default: from `args`). */
  usage?: string;
  flags: FlagTable;
  /** The positional arguments it takes; any other is refused. */
  args?: readonly ArgSpec[];
  /** What the command line after `--` is (only commands with `rest` take one). */
  rest?: string;
  /** `earmark <name> <sub> …`: chosen by the first argument. */
  subcommands?: Command[];
  /** Set on subcommands by defineCommand. */
  parent?: Command;
  /**
   * Fill defaults, check flags, arguments and inputs (every error here is a usage error: nothing was
   * done), and return the work.
   */
  prepare(flags: FlagRecord, args?: string[], rest?: string[]): Promise<Work>;
  /** prepare() and the work, for callers such as tests. */
  run(flags: FlagRecord, args?: string[], rest?: string[]): Promise<number | void>;
}

/** `splitSeed` → `split-seed` (keys that already hold dashes are kept). */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `earmark corpus speech`'s name as typed. */
export function commandPath(cmd: Pick<Command, 'name' | 'parent'>): string {
  return cmd.parent ? `${commandPath(cmd.parent)} ${cmd.name}` : cmd.name;
}
