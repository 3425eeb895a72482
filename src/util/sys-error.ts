// Node's system errors (ENOENT, EACCES, ELOOP, EADDRINUSE, …) as sentences that name the path or the
// port and say what to do, for the CLI's one error path and for per-file reasons in corpus listings.
// A path that is one of util/atomic.ts's temp names is reported as the file it was going to become.

/** The fields Node puts on a system error. */
export interface SystemErrorLike extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
}

/** The first system error in `e`'s cause chain (an Error with an 'E…' code and a syscall or path), or undefined. */
export function findSystemError(e: unknown): SystemErrorLike | undefined {
  for (let x = e, depth = 0; x instanceof Error && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    const s = x as Partial<SystemErrorLike>;
    if (
      typeof s.code === 'string' &&
      /^E[A-Z0-9]+$/.test(s.code) &&
      (s.syscall !== undefined || s.path !== undefined)
    ) {
      return x as SystemErrorLike;
    }
  }
  return undefined;
}

/** `dir/.name.1234.89abcdef.tmp` (an atomic write's temp file) → `dir/name`; other paths unchanged. */
export function untempPath(p: string): string {
  const m = /^(.*[\\/])?\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(p);
  return m ? `${m[1] ?? ''}${m[2]}` : p;
}

/** Why a path cannot be used, in a few words ('does not exist', 'is a symbolic link loop', …), by errno code. */
export function pathProblem(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ELOOP':
      return 'is a symbolic link loop (too many levels of symbolic links)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENOTDIR':
      return 'is not reachable: a part of the path is a file, not a folder';
    case 'ENAMETOOLONG':
      return 'has a name that is too long';
    case 'EIO':
      return 'cannot be read: input/output error (a failing disk?)';
    default:
      return `cannot be used (${code})`;
  }
}

/**
 * A system error as one sentence naming its path or port and the fix; undefined when `e` holds none.
 * @example systemErrorMessage(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'open', path: 'a.wav' }))
 *          // "a.wav does not exist; check the path"
 */
export function systemErrorMessage(e: unknown): string | undefined {
  const s = findSystemError(e);
  if (s === undefined) return undefined;
  const p = s.path === undefined ? undefined : untempPath(s.path);
  const where = p ?? (s.port !== undefined ? `port ${s.port}` : 'a file');
  const port = `port ${s.port ?? '?'}${s.address ? ` on ${s.address}` : ''}`;
  const listening = s.syscall === 'listen' || s.syscall === 'bind';
  switch (s.code) {
    case 'ENOENT':
      if (s.syscall === 'spawn' || s.syscall?.startsWith('spawn '))
        return `cannot run '${p ?? s.syscall.slice(6)}': no such program; check that it is installed and on PATH`;
      return `${where} does not exist${s.dest ? ` (while making ${untempPath(s.dest)})` : ''}; check the path${s.syscall === 'open' ? ' and that its folder exists' : ''}`;
    case 'EACCES':
    case 'EPERM':
      if (listening)
        return `not allowed to listen on ${port} (ports below 1024 need privileges); choose a --port of 1024 or above`;
      return `permission denied on ${where} (${s.syscall ?? 'access'}); check its permissions or choose another path`;
    case 'ELOOP':
      return `${where} is a symbolic link loop (too many levels of symbolic links); fix or remove the link`;
    case 'ENOSPC':
      return `no space left on the device while writing ${where}; free some space or write to another folder`;
    case 'EDQUOT':
      return `the disk quota is exhausted while writing ${where}; free some space or write to another folder`;
    case 'EISDIR':
      return `${where} is a folder where a file was expected; give a file path`;
    case 'ENOTDIR':
      return `${where}: a part of this path is a file, not a folder; check the path`;
    case 'EEXIST':
      return `${where} already exists; remove it or choose another path`;
    case 'ENOTEMPTY':
      return `${where} is not empty; remove what it holds or choose another folder`;
    case 'EROFS':
      return `${where} is on a read-only file system; choose another path`;
    case 'ENAMETOOLONG':
      return `${where}: the name is too long; choose a shorter path`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files (at ${where}); raise the limit (ulimit -n) or use fewer workers`;
    case 'EBUSY':
      return `${where} is busy (in use by another process); try again or choose another path`;
    case 'EIO':
      return `input/output error on ${where} (a failing disk or a lost mount?)`;
    case 'EADDRINUSE':
      return `${port} is already in use (another earmark?); stop that process or choose another --port (0 = any free port)`;
    case 'EADDRNOTAVAIL':
      return `${s.address ?? 'the address'} is not an address of this machine; use --host 127.0.0.1`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${(s as { hostname?: string }).hostname ?? 'the host'} is not a known host name or address; use --host 127.0.0.1`;
    case 'ECONNREFUSED':
      return `nothing is listening on ${port}; start it first or check --port`;
    case 'EPIPE':
      return 'the output was closed before everything was written (broken pipe)';
    default:
      return `${s.message.replace(/\s+/g, ' ')}${p && !s.message.includes(p) ? ` (${p})` : ''}`;
  }
}
