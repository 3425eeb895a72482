// A small typed flag parser: each command declares its flags once; unknown flags and bad values are
// refused with the flag's name and what it expects.
import { EarmarkError } from '../errors.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  description: string;
  default?: string | number | boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, for --help. */
  usage?: string;
  flags: Record<string, FlagSpec>;
  run(flags: Record<string, string | number | boolean | undefined>, positionals: string[]): Promise<number | void>;
}

export function parseFlags(cmd: Command, argv: string[]): { flags: Record<string, string | number | boolean | undefined>; positionals: string[]; help: boolean } {
  const flags: Record<string, string | number | boolean | undefined> = {};
  for (const [k, s] of Object.entries(cmd.flags)) if (s.default !== undefined) flags[k] = s.default;
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') { help = true; continue; }
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; } // the rest is another program's command line
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    let key = a.slice(2, eq < 0 ? undefined : eq);
    let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    let spec = cmd.flags[key];
    if (spec === undefined && key.startsWith('no-') && cmd.flags[key.slice(3)]?.type === 'boolean') {
      key = key.slice(3);
      spec = cmd.flags[key];
      value = 'false';
    }
    if (spec === undefined) {
      throw new EarmarkError('EARMARK_BAD_ARGUMENT', `unknown flag --${key} for \`earmark ${cmd.name}\`; see \`earmark ${cmd.name} --help\``);
    }
    if (spec.type === 'boolean') {
      flags[key] = value === undefined ? true : value !== 'false' && value !== '0';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${key} needs a value (${spec.type})`);
    }
    if (spec.type === 'string') flags[key] = value;
    else {
      const n = Number(value);
      if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
        throw new EarmarkError('EARMARK_BAD_ARGUMENT', `--${key} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${value}'`);
      }
      flags[key] = n;
    }
  }
  return { flags, positionals, help };
}

export function helpText(cmd: Command): string {
  const lines = [`earmark ${cmd.name}${cmd.usage ? ' ' + cmd.usage : ''}`, '', cmd.summary, ''];
  const entries = Object.entries(cmd.flags);
  if (entries.length) {
    lines.push('Flags:');
    for (const [k, s] of entries) {
      const d = s.default === undefined ? '' : ` (default: ${String(s.default)})`;
      lines.push(`  --${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`.padEnd(28) + s.description + d);
    }
  }
  lines.push('  --help'.padEnd(28) + 'show this help');
  return lines.join('\n');
}
