// The declarative checks of flags and positional arguments (choices, min/max, integer, existence of
// files and folders), each refusing with one line that names the flag, the value and the fix.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { pathProblem } from '../util/sys-error.js';
import { commandPath, type ArgSpec, type Command, type FlagSpec } from './flags.js';

/** A command line that cannot run as given: the dispatcher exits with code 2. */
export function usageError(message: string, cause?: unknown): EarmarkError {
  return new EarmarkError('EARMARK_BAD_ARGUMENT', message, cause === undefined ? undefined : { cause });
}

/** The closest of `names` to `name` (edit distance ≤ 2, or a prefix), for "did you mean". */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = n.startsWith(name) || name.startsWith(n) ? 1 : editDistance(name, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

const quote = (v: string): string => `'${v}'`;

/** The paths a flag names: `exists` (a file or folder that must be there) and `parentExists` (its folder must be). */
export function checkFlagPaths(name: string, spec: FlagSpec, v: unknown): void {
  if (spec.type !== 'string' || typeof v !== 'string' || (spec.dash && v === '-')) return;
  if (spec.exists) checkExists(`--${name}`, spec.exists, v, `'${v}'`, spec.fix);
  if (spec.parentExists) {
    const up = path.dirname(path.resolve(v));
    checkExists(`--${name} '${v}'`, 'dir', up, `the folder ${up}`, 'create it first or choose another path');
  }
  if (spec.output) checkWritable(`--${name}`, v);
}

/** The first existing folder on the way to output path `v` is a folder this process may write into. */
function checkWritable(what: string, v: string): void {
  let up = path.resolve(v);
  for (;;) {
    try {
      statSync(up);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || path.dirname(up) === up)
        throw usageError(`${what}: '${up}' ${pathProblem(code ?? 'EIO')}; choose another path`, e);
      up = path.dirname(up);
    }
  }
  if (up === path.resolve(v)) return; // it exists: the command decides whether it may re-use it
  if (!statSync(up).isDirectory())
    throw usageError(`${what}: '${up}' is a file, so '${v}' cannot be made inside it; choose another path`);
  try {
    accessSync(up, constants.W_OK);
  } catch (e) {
    throw usageError(`${what}: cannot create '${v}': no permission to write into '${up}'; choose another path`, e);
  }
}

/** One flag's value against its spec (type, choices, range; the paths are checkFlagPaths's). */
export function checkFlag(name: string, spec: FlagSpec, v: string | number | boolean | readonly string[]): void {
  if (spec.type === 'string' && typeof v === 'string') {
    if (spec.choices && !spec.choices.includes(v)) {
      const near = closest(v, spec.choices);
      throw usageError(
        `--${name} must be one of ${spec.choices.join(', ')}, got ${quote(v)}${near ? ` (did you mean ${near}?)` : ''}`,
      );
    }
    if (v === '' && (spec.exists || spec.parentExists || spec.output))
      throw usageError(`--${name} needs a path, got ''`);
  } else if (spec.type === 'list' && Array.isArray(v)) {
    if (spec.choices) {
      const unknown = v.filter((x) => !spec.choices!.includes(x));
      if (unknown.length || v.length === 0) {
        throw usageError(
          `--${name}: unknown value(s) ${unknown.map(quote).join(', ') || '(none given)'}; choose from ${spec.choices.join(', ')}`,
        );
      }
    }
  } else if ((spec.type === 'number' || spec.type === 'int') && typeof v === 'number') {
    if (!Number.isFinite(v)) throw usageError(`--${name} must be a finite number, got ${v}`);
    if (spec.type === 'int' && !Number.isInteger(v)) throw usageError(`--${name} must be an integer, got '${v}'`);
    if (spec.type === 'int' && !Number.isSafeInteger(v))
      throw usageError(`--${name} must be an integer of at most 2^53 - 1 in size, got ${v}`);
    const { min, max } = spec;
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      const range =
        min === undefined ? `at most ${max}` : max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
      throw usageError(`--${name} must be ${range}, got ${v}`);
    }
    if (spec.above !== undefined && !(v > spec.above))
      throw usageError(`--${name} must be more than ${spec.above}, got ${v}`);
  } else if (spec.type !== typeof v && !(spec.type === 'int' && typeof v === 'number')) {
    throw new TypeError(`flag --${name}: expected a ${spec.type} value, got ${typeof v}`);
  }
}

/**
 * `v` names an existing file or folder; else a usage error naming `what` (the flag or argument), the
 * path and why (missing, a symlink loop, permission denied, …).
 */
export function checkExists(
  what: string,
  kind: 'file' | 'dir',
  v: string,
  shown = `'${v}'`,
  missingFix?: string,
): void {
  const noun = kind === 'file' ? 'file' : 'folder';
  let st;
  try {
    st = statSync(v);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'ENOENT';
    const fix =
      code !== 'ENOENT'
        ? 'fix the path or its permissions'
        : (missingFix ?? `check the path${path.isAbsolute(v) ? '' : ` (relative to ${process.cwd()})`}`);
    throw usageError(
      `${what}: ${shown} ${code === 'ENOENT' ? `does not exist (no such ${noun})` : pathProblem(code)}; ${fix}`,
      e,
    );
  }
  if (kind === 'file' && !st.isFile())
    throw usageError(`${what}: ${shown} is a folder, not a file; give the file's path`);
  if (kind === 'dir' && !st.isDirectory()) throw usageError(`${what}: ${shown} is a file, not a folder; give a folder`);
}

/** Positional arguments (count, choices) and the command line after `--` against the command's declarations. */
export function checkArgs(cmd: Command, args: readonly string[], rest: readonly string[]): void {
  const specs = cmd.args ?? [];
  const seeHelp = `see \`earmark ${commandPath(cmd)} --help\``;
  if (args.length > specs.length) {
    const stray = args.slice(specs.length).map(quote).join(' ');
    const sub = cmd.subcommands?.length ? ` (subcommands: ${cmd.subcommands.map((s) => s.name).join(', ')})` : '';
    const takes =
      specs.length === 0 ? 'takes no positional arguments' : `takes ${specs.map((s) => `<${s.name}>`).join(' ')} only`;
    throw usageError(
      `unexpected argument ${stray}: \`earmark ${commandPath(cmd)}\` ${takes}${sub}; flags start with --; ${seeHelp}`,
    );
  }
  specs.forEach((s, i) => {
    const v = args[i];
    if (v === undefined) {
      const which = s.choices ? ` (${s.choices.join(', ')})` : '';
      if (s.required)
        throw usageError(`\`earmark ${commandPath(cmd)}\` needs <${s.name}>${which}: ${s.description}; ${seeHelp}`);
      return;
    }
    if (s.choices && !s.choices.includes(v)) {
      const near = closest(v, s.choices);
      throw usageError(
        `<${s.name}> must be one of ${s.choices.join(', ')}, got ${quote(v)}${near ? ` (did you mean ${near}?)` : ''}; ${seeHelp}`,
      );
    }
  });
  if (rest.length && cmd.rest === undefined) {
    throw usageError(
      `\`earmark ${commandPath(cmd)}\` takes nothing after \`--\` (got ${rest.map(quote).join(' ')}); ${seeHelp}`,
    );
  }
  if (!rest.length && cmd.rest !== undefined)
    throw usageError(`\`earmark ${commandPath(cmd)}\` needs ${cmd.rest} after \`--\`; ${seeHelp}`);
}

/** The paths that positional arguments with `exists` name. */
export function checkArgPaths(cmd: Command, args: readonly string[]): void {
  (cmd.args ?? []).forEach((s, i) => {
    if (s.exists && args[i] !== undefined) checkExists(`<${s.name}>`, s.exists, args[i]);
  });
}
