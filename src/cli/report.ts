// The CLI's one error path: any error becomes a message naming the flag, path or port and the fix,
// printed as `earmark <command>: <message>`, and an exit code: 2 for a usage error (found while parsing
// and checking, before any work; or refused by a library as a bad argument), 1 when the work failed.
// A stack is printed only with --debug; system errors (ENOENT, EACCES, ELOOP, EADDRINUSE, …) become
// sentences (util/sys-error.ts).
import { EarmarkError } from '../errors.js';
import { findSystemError, systemErrorMessage } from '../util/sys-error.js';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Where the error came from: 'usage' while parsing and checking, 'work' once the command's work started. */
export type Phase = 'usage' | 'work';

/** The message of `e` for a person: EarmarkError and argument errors as they are, system errors as sentences. */
export function errorMessage(e: unknown): string {
  if (e instanceof EarmarkError) return e.message;
  const sys = systemErrorMessage(e);
  if (sys !== undefined) return sys;
  if (e instanceof RangeError || e instanceof TypeError || e instanceof SyntaxError) return e.message;
  if (e instanceof Error)
    return `internal error: ${e.name}: ${e.message}; run again with --debug for the stack and report it`;
  return `internal error: ${String(e)}; run again with --debug and report it`;
}

/** listen()'s errors that only another --port or --host can cure: a usage error even once the work started. */
const LISTEN_USAGE_CODES = ['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'ENOTFOUND', 'EAI_AGAIN'];

/** `e` (or a cause) is a port in use, not ours to take, or a --host that is no address of this machine. */
export function isListenUsageError(e: unknown): boolean {
  const s = findSystemError(e);
  if (s === undefined || !LISTEN_USAGE_CODES.includes(s.code)) return false;
  return s.code !== 'EACCES' || s.syscall === 'listen' || s.syscall === 'bind';
}

/** 2 when the command line is at fault, else 1. */
export function exitCodeOf(e: unknown, phase: Phase): number {
  if (phase === 'usage') return EXIT_USAGE;
  if (e instanceof EarmarkError && e.code === 'EARMARK_BAD_ARGUMENT') return EXIT_USAGE;
  return isListenUsageError(e) ? EXIT_USAGE : EXIT_FAILED;
}

/** `e`'s stack and those of its causes, for --debug. */
export function stackOf(e: unknown): string {
  const parts: string[] = [];
  for (
    let x = e, depth = 0;
    x !== undefined && depth < 8;
    x = x instanceof Error ? (x as { cause?: unknown }).cause : undefined, depth++
  ) {
    const code = (x as { code?: unknown }).code;
    const head = x instanceof Error ? (x.stack ?? `${x.name}: ${x.message}`) : String(x);
    parts.push(`${depth ? 'caused by: ' : ''}${head}${typeof code === 'string' ? ` [${code}]` : ''}`);
  }
  return parts.join('\n');
}

/**
 * Print `e` for the command named `where` (one line unless the message itself has several; with
 * `debug`, the stacks follow) and return the exit code.
 */
export function reportError(
  e: unknown,
  where: string,
  phase: Phase,
  debug: boolean,
  print: (s: string) => void = (s) => console.error(s),
): number {
  print(`${where}: ${errorMessage(e)}`);
  if (debug) print(stackOf(e));
  return exitCodeOf(e, phase);
}
