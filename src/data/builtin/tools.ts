// The external programs the built-in corpora call (TTS engines, Praat, sox, apt-get, dpkg-deb):
// one place that spawns them with bounded parallelism, turns failures into errors that name the
// engine, the exact command and the fix, and reads their versions for the corpus manifest.
import { spawn } from 'node:child_process';
import { EarmarkError } from '../../errors.js';

/** The command names of the tools; override one to use another build or (in tests) a missing one. */
export interface ToolCommands {
  espeakNg: string;
  flite: string;
  festival: string;
  htsEngine: string;
  praat: string;
  sox: string;
  aptGet: string;
  dpkgDeb: string;
}

export const TOOL_DEFAULTS: ToolCommands = {
  espeakNg: 'espeak-ng',
  flite: 'flite',
  festival: 'festival',
  htsEngine: 'hts_engine',
  praat: 'praat',
  sox: 'sox',
  aptGet: 'apt-get',
  dpkgDeb: 'dpkg-deb',
};

/** The Debian package that provides each tool, for the "install it" hint. */
const TOOL_PACKAGES: Record<keyof ToolCommands, string> = {
  espeakNg: 'espeak-ng',
  flite: 'flite',
  festival: 'festival festvox-kdlpc16k festvox-us-slt-hts',
  htsEngine: 'htsengine',
  praat: 'praat',
  sox: 'sox libsox-fmt-all',
  aptGet: 'apt',
  dpkgDeb: 'dpkg',
};

/** A tool that could not be started or that failed; `engine` and `command` say which. */
export class CorpusToolError extends EarmarkError {
  readonly engine: string;
  readonly command: string;
  constructor(engine: string, command: string, message: string, options?: { cause?: unknown }) {
    super('EARMARK_IO', message, options);
    this.name = 'CorpusToolError';
    this.engine = engine;
    this.command = command;
  }
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line as a shell would show it (for error messages and logs). */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(quote).join(' ');
}

/**
 * Run one tool to completion; resolves with its stdout (bytes) and stderr (text).
 * @param tool which tool (picks the install hint), e.g. 'sox'
 * @example await runTool('sox', 'sox', ['in.wav', '-r', '16000', 'out.wav']);
 */
export function runTool(
  tool: keyof ToolCommands,
  command: string,
  args: readonly string[],
  opts: { cwd?: string; input?: string | Buffer; okCodes?: number[] } = {},
): Promise<RunResult> {
  const line = commandLine(command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint =
        e.code === 'ENOENT'
          ? `'${command}' is not on PATH. Install it with \`apt-get install -y --no-install-recommends ${TOOL_PACKAGES[tool]}\` (or run scripts/bootstrap.sh, which installs scripts/apt-packages.txt)`
          : `${e.message}`;
      reject(new CorpusToolError(tool, line, `${tool}: cannot run \`${line}\`: ${hint}`, { cause: e }));
    });
    child.stdin.on('error', () => {
      /* the tool exited before reading its input; the exit code reports it */
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) {
        resolve({ stdout: Buffer.concat(out), stderr });
        return;
      }
      const tail = stderr.trim().split('\n').slice(-10).join('\n    ');
      reject(
        new CorpusToolError(
          tool,
          line,
          `${tool} failed (${signal ?? `exit code ${code}`}) running \`${line}\`${opts.cwd ? ` in ${opts.cwd}` : ''}` +
            (tail ? `\n    ${tail}` : ''),
        ),
      );
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Map `items` through an async `fn` with at most `limit` in flight; results keep the input order.
 * The first failure stops new work and is rethrown once the running calls have settled.
 * @example await mapLimit(files, 2, (f) => runTool('sox', 'sox', [f, out(f)]));
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  async function worker(): Promise<void> {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** The version line a tool prints (for the corpus manifest). */
export async function toolVersion(tool: keyof ToolCommands, command: string): Promise<string> {
  switch (tool) {
    case 'espeakNg': {
      const { stdout } = await runTool(tool, command, ['--version']);
      return stdout
        .toString()
        .replace(/\s+Data at:.*$/s, '')
        .trim();
    }
    case 'flite': {
      // flite prints its version and exits with status 1.
      const { stdout } = await runTool(tool, command, ['--version'], { okCodes: [0, 1] });
      return (
        stdout
          .toString()
          .split('\n')
          .find((l) => l.includes('version'))
          ?.trim() ?? stdout.toString().trim()
      );
    }
    case 'htsEngine': {
      // hts_engine prints its banner with the usage and exits non-zero when given no arguments.
      const { stdout, stderr } = await runTool(tool, command, [], { okCodes: [0, 1, 255] });
      const text = stdout.toString() + stderr;
      return (
        text
          .split('\n')
          .find((l) => l.startsWith('Version'))
          ?.trim() ?? 'unknown'
      );
    }
    default: {
      const { stdout, stderr } = await runTool(tool, command, ['--version']);
      return (stdout.toString() || stderr).trim().split('\n')[0]!.trim();
    }
  }
}
