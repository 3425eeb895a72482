// The CLI's one error path, from outside: a table of wrong invocations across every command, each
// refused before any work with exit code 2 and one line on stderr that names the flag, argument, path
// or port, and no stack trace ("    at " lines); --debug adds the stack. The rows (test/fixtures/cli/)
// that issue 12 lists run as real child processes of bin/earmark.js, three at a time; the others, and
// those whose check loads libtorch (config files, labels), run the CLI's run() in this process. Also: the system-error sentences, and a failing run that
// leaves no empty output folder behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../src/cli/main.js';
import { errorMessage, exitCodeOf, reportError } from '../src/cli/report.js';
import { repoRoot } from '../src/util/paths.js';
import { systemErrorMessage } from '../src/util/sys-error.js';
import { writeCliFixtures, wrongInvocations, type Row } from './fixtures/cli/wrong-invocations.js';
import { tinyWav } from './fixtures/data/trees.js';

const BIN = path.join(repoRoot(), 'bin', 'earmark.js');
const dir = mkdtempSync(path.join(tmpdir(), 'earmark-cli-errors-'));
const at = (...p: string[]): string => path.join(dir, ...p);
let busy: Server;
let busyPort = 0;

before(async () => {
  writeCliFixtures(at);
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

after(() => {
  busy?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ROWS = wrongInvocations(at, () => busyPort);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(argv: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...argv], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, EARMARK_THREADS: '1', EARMARK_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
    }, 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** run() in this process, with console.log/error captured and the working folder set to `dir`. */
async function runHere(argv: string[]): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error, cwd] = [console.log, console.error, process.cwd()];
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '));
  };
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '));
  };
  process.chdir(dir);
  try {
    const code = await run(argv);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
    process.chdir(cwd);
  }
}

/** Up to `n` at a time, in order. */
async function pool<T, R>(items: readonly T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

test('about 60 wrong invocations of every command: exit code 2, one line naming the flag, path or port, no stack', async () => {
  const procs = ROWS.filter((r) => !r.inProcess);
  assert.ok(procs.length >= 12 && ROWS.length >= 30, `${procs.length} child processes of ${ROWS.length} rows`);
  const results = new Map<Row, Result>();
  const spawned = pool(procs, 3, async (r) => {
    results.set(r, await spawnCli(r.argv()));
  });
  for (const r of ROWS.filter((x) => x.inProcess)) results.set(r, await runHere(r.argv()));
  await spawned;
  const failures: string[] = [];
  for (const r of ROWS) {
    const res = results.get(r)!;
    const lines = res.stderr.trimEnd().split('\n');
    const why = [
      res.code !== 2 && `exit code ${res.code}`,
      lines.length !== 1 && `${lines.length} lines on stderr`,
      /^\s+at /m.test(res.stderr) && 'a stack trace',
      !r.says.test(lines[0] ?? '') && `not ${r.says}`,
    ].filter(Boolean);
    if (why.length)
      failures.push(
        `earmark ${r.argv().join(' ')} (${r.inProcess ? 'run()' : 'process'}): ${why.join(', ')}\n    ${res.stderr.trimEnd().replace(/\n/g, '\n    ')}`,
      );
  }
  assert.deepEqual(failures, []);
  assert.ok(!existsSync(at('o.wav')) && !existsSync(at('.earmark-cache')), 'a refused command writes nothing');
});

test('--debug (anywhere before --) adds the stack and the causes to the same message', async () => {
  const r = await spawnCli(['corpus', 'probe', at('nowhere'), '--debug']);
  assert.equal(r.code, 2);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^earmark corpus probe: <dir>: '.*nowhere' does not exist/);
  assert.match(r.stderr, /^EarmarkError: <dir>: /m);
  assert.match(r.stderr, /^\s+at checkExists /m);
  assert.match(r.stderr, /^caused by: Error: ENOENT: no such file or directory, stat '.*nowhere'/m);
});

test('system errors become sentences naming the path or port; unknown errors ask for --debug; the exit codes', () => {
  const sys = (code: string, extra: Record<string, unknown>): Error =>
    Object.assign(new Error(`${code}: raw`), { code, ...extra });
  assert.equal(
    systemErrorMessage(sys('ENOENT', { syscall: 'open', path: '/d/.tokens.json.123.89abcdef.tmp' })),
    '/d/tokens.json does not exist; check the path and that its folder exists',
  );
  assert.match(
    systemErrorMessage(sys('ELOOP', { syscall: 'stat', path: '/c/a.wav' }))!,
    /^\/c\/a\.wav is a symbolic link loop/,
  );
  assert.match(
    systemErrorMessage(sys('ENOSPC', { syscall: 'write', path: '/runs/x' }))!,
    /^no space left on the device while writing \/runs\/x/,
  );
  assert.match(
    systemErrorMessage(sys('EISDIR', { syscall: 'read', path: '/runs' }))!,
    /^\/runs is a folder where a file was expected/,
  );
  assert.match(
    systemErrorMessage(sys('ENOTDIR', { syscall: 'mkdir', path: '/f/x' }))!,
    /^\/f\/x: a part of this path is a file/,
  );
  assert.match(
    systemErrorMessage(sys('EACCES', { syscall: 'open', path: '/root/x' }))!,
    /^permission denied on \/root\/x \(open\)/,
  );
  assert.match(
    systemErrorMessage(sys('EACCES', { syscall: 'listen', address: '127.0.0.1', port: 80 }))!,
    /not allowed to listen on port 80 on 127\.0\.0\.1/,
  );
  const unknownHost = sys('ENOTFOUND', { syscall: 'getaddrinfo', hostname: 'nosuch.invalid' });
  assert.match(systemErrorMessage(unknownHost)!, /^nosuch\.invalid is not a known host name or address; use --host/);
  assert.equal(exitCodeOf(unknownHost, 'work'), 2, 'a --host that is no address here is a usage error');
  assert.equal(exitCodeOf(sys('EACCES', { syscall: 'open', path: '/x' }), 'work'), 1, 'EACCES on a file is not');
  const inUse = new Error('wrapped', {
    cause: sys('EADDRINUSE', { syscall: 'listen', address: '127.0.0.1', port: 8765 }),
  });
  assert.match(errorMessage(inUse), /^port 8765 on 127\.0\.0\.1 is already in use/);
  assert.equal(exitCodeOf(inUse, 'work'), 2, 'a port in use is a usage error even once the work started');
  assert.equal(exitCodeOf(sys('ENOSPC', { syscall: 'write', path: '/x' }), 'work'), 1);
  assert.equal(exitCodeOf(new Error('x'), 'usage'), 2);
  const printed: string[] = [];
  assert.equal(
    reportError(new Error('boom'), 'earmark x', 'work', false, (s) => printed.push(s)),
    1,
  );
  assert.deepEqual(printed, [
    'earmark x: internal error: Error: boom; run again with --debug for the stack and report it',
  ]);
});

test('a run that fails after its work started removes the output folders it created and left empty', async () => {
  const bad = at('bad');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'labels.csv'), 'path,speaker\na.wav,A\nb.wav,B\nc.wav,A\nd.wav,B\n');
  for (const n of ['a', 'b', 'c']) writeFileSync(path.join(bad, `${n}.wav`), tinyWav(300, 0.1));
  writeFileSync(path.join(bad, 'd.wav'), tinyWav(300, 0.1).subarray(0, 60)); // truncated: fails while computing features
  const out = at('runs', 'target');
  const r = await runHere([
    'train-target',
    '--manifest',
    path.join(bad, 'labels.csv'),
    '--task',
    'speaker',
    '--out',
    out,
    '--epochs',
    '1',
  ]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /cannot compute features for .*d\.wav \(utterance d\): is truncated or its header is corrupt.*--skip-bad/,
  );
  assert.ok(!existsSync(at('runs')), 'runs/ and runs/target are gone');
  // a folder that existed before the run is kept, and so is one that holds something
  mkdirSync(at('kept'));
  symlinkSync(bad, at('kept', 'link'));
  const kept = await runHere([
    'train-target',
    '--manifest',
    path.join(bad, 'labels.csv'),
    '--task',
    'speaker',
    '--out',
    at('kept', 'target'),
  ]);
  assert.equal(kept.code, 1);
  assert.ok(existsSync(at('kept', 'link')) && !existsSync(at('kept', 'target')));
});
