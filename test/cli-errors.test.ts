// The CLI's one error path, from outside: a table of wrong invocations across every command, each
// refused before any work with exit code 2 and one line on stderr that names the flag, argument, path
// or port, and no stack trace ("    at " lines); --debug adds the stack. Most rows run as real child
// processes of bin/earmark.js (in parallel); the rows whose check loads libtorch (config files, labels)
// run the CLI's run() in this process. Also: the system-error sentences, and a failing run that
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
import { GraphBuilder } from '../src/edge/builder.js';
import { encodeModel } from '../src/edge/onnx.js';
import { encodeRaw } from '../src/serialize/safetensors-format.js';
import { repoRoot } from '../src/util/paths.js';
import { systemErrorMessage } from '../src/util/sys-error.js';
import { tinyWav } from './fixtures/data/trees.js';

const BIN = path.join(repoRoot(), 'bin', 'earmark.js');
const dir = mkdtempSync(path.join(tmpdir(), 'earmark-cli-errors-'));
const at = (...p: string[]): string => path.join(dir, ...p);
let busy: Server;
let busyPort = 0;

before(async () => {
  const rows = ['path,speaker,gender,emotion'];
  for (const [s, g] of [
    ['A', 'female'],
    ['B', 'male'],
    ['C', 'female'],
    ['D', 'male'],
  ] as const) {
    for (let i = 0; i < 3; i++) {
      writeFileSync(at(`${s}${i}.wav`), tinyWav(200 + 40 * i, 0.1));
      rows.push(`${s}${i}.wav,${s},${g},${i % 2 ? 'happy' : 'sad'}`);
    }
  }
  writeFileSync(at('labels.csv'), rows.join('\n') + '\n');
  writeFileSync(at('missing.csv'), `${rows.join('\n')}\nnone.wav,A,female,sad\n`);
  writeFileSync(at('notjson.json'), 'epochs: 3\n');
  writeFileSync(at('unknown.json'), JSON.stringify({ targetTrain: { epochz: 3 } }));
  writeFileSync(
    at('plain.safetensors'),
    encodeRaw(new Map([['w', { dtype: 'F32', shape: [1], data: new Uint8Array(4) }]])),
  );
  writeFileSync(at('store.json'), JSON.stringify({ version: 1, grants: [] }));
  const ghz = tinyWav(300, 0.1);
  new DataView(ghz.buffer, ghz.byteOffset).setUint32(24, 2_000_000_000, true); // the fmt chunk's sample rate
  writeFileSync(at('ghz.wav'), ghz);
  const b = new GraphBuilder();
  b.node('Identity', [b.input('x', ['batch', 161, 'time'])], {}, 'id', 1, ['y']);
  b.output('y', ['batch', 161, 'time']);
  writeFileSync(at('obf.onnx'), encodeModel(b.model('stand-in obfuscator', {})));
  writeFileSync(at('afile'), 'x');
  mkdirSync(at('empty'));
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

after(() => {
  busy?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  argv: () => string[];
  /** What the one line must say (it must name the flag, argument, path or port). */
  says: RegExp;
  /** Run as a real child process (default) or through run() in this process. */
  inProcess?: boolean;
}

const wav = (): string => at('A0.wav');
const csv = (): string => at('labels.csv');
const obf = (...more: string[]): string[] => [
  'obfuscate',
  ...more,
  '--model',
  wav(),
  '--in',
  wav(),
  '--out',
  at('o.wav'),
];

const ROWS: Row[] = [
  { argv: () => ['demo', '--difficulty', '9'], says: /^earmark demo: --difficulty must be from 0 to 2, got 9$/ },
  {
    argv: () => ['corpus'],
    says: /^earmark corpus: `earmark corpus` needs <subcommand> \(speech, soundscapes, probe\)/,
    inProcess: true,
  },
  {
    argv: () => ['corpus', 'probe', at('nowhere')],
    says: /^earmark corpus probe: <dir>: '.*nowhere' does not exist \(no such folder\)/,
  },
  {
    argv: () => ['corpus', 'probe', at('empty')],
    says: /<dir> .*empty holds no labels\.csv: it is not a built speech corpus/,
    inProcess: true,
  },
  { argv: () => ['corpus', 'speech', '--jobs', '0'], says: /--jobs must be from 1 to 64, got 0/, inProcess: true },
  {
    argv: () => ['corpus', 'soundscapes', '--classes', 'dog,unicorn'],
    says: /--classes: unknown value\(s\) 'unicorn'; choose from dog, /,
    inProcess: true,
  },
  {
    argv: () => ['features', '--workers', '-1', '--manifest', csv()],
    says: /^earmark features: --workers must be from 0 to 256, got -1$/,
  },
  { argv: () => ['features', '--root', at('nowhere')], says: /--root: '.*nowhere' does not exist/, inProcess: true },
  {
    argv: () => ['features', '--manifest', csv(), '--out', at('afile', 'sub')],
    says: /--out: '.*afile\/sub' is not reachable: a part of the path is a file/,
    inProcess: true,
  },
  {
    argv: () => ['features', '--manifest', at('missing.csv')],
    says: /audio file .*none\.wav \(utterance none\) does not exist; .*pass --skip-bad/,
  },
  {
    argv: () => ['features', '--manifest', csv(), 'stray'],
    says: /unexpected argument 'stray': `earmark features` takes no positional arguments/,
    inProcess: true,
  },
  {
    argv: () => ['features', '--manifest', csv(), '--workers', 'two'],
    says: /^earmark features: --workers must be an integer, got 'two'$/,
  },
  {
    argv: () => ['train-target', csv(), '--task', 'speaker'],
    says: /unexpected argument '.*labels\.csv': `earmark train-target` takes no positional arguments/,
  },
  { argv: () => ['demo', '--difficulty'], says: /^earmark demo: --difficulty needs a value \(an integer: /, inProcess: true },
  {
    argv: () => ['train-target', '--epoch', '3'],
    says: /unknown flag --epoch for `earmark train-target` \(did you mean --epochs\?\)/,
    inProcess: true,
  },
  {
    argv: () => ['train-target', '--manifest', csv(), '--task', 'speaker', '--out', '--resume'],
    says: /--out needs a value .*got the flag --resume/,
    inProcess: true,
  },
  {
    argv: () => ['train-target', '--manifest', csv(), '--task', 'speaker', '--epochs', '0'],
    says: /--epochs must be at least 1, got 0/,
    inProcess: true,
  },
  {
    argv: () => ['train-target', '--manifest', csv(), '--task', 'speaker', '--config', at('notjson.json')],
    says: /--config .*notjson\.json is not JSON/,
    inProcess: true,
  },
  {
    argv: () => ['train-target', '--manifest', csv(), '--task', 'speaker', '--config', at('unknown.json')],
    inProcess: true,
    says: /--config .*unknown\.json: ExperimentConfig\.targetTrain: unknown key 'epochz'/,
  },
  {
    argv: () => ['train-target', '--manifest', csv(), '--task', 'accent'],
    says: /--task accent: .* has no 'accent' label \(its labels: speaker, gender, emotion\)/,
    inProcess: true,
  },
  {
    argv: () => ['train-target', '--task', 'speaker'],
    says: /no dataset given: pass --root <corpus folder> or --manifest/,
    inProcess: true,
  },
  {
    argv: () => ['train-obfuscator', '--target', at('none.safetensors'), '--task', 'speaker', '--manifest', csv()],
    says: /^earmark train-obfuscator: --target: '.*none\.safetensors' does not exist \(no such file\); train one with `earmark train-target` first$/,
  },
  {
    argv: () => ['train-obfuscator', '--target', at('plain.safetensors'), '--task', 'speaker', '--manifest', csv()],
    says: /--target .*plain\.safetensors is not an earmark checkpoint/,
  },
  {
    argv: () => ['train-obfuscator', '--target', wav(), '--task', 'speaker', '--manifest', csv()],
    says: /--target .*A0\.wav is not a safetensors file/,
    inProcess: true,
  },
  {
    argv: () => ['experiment', 'fig5'],
    says: /<experiment> must be one of fig3a, fig3b, fig4, rdal, got 'fig5' \(did you mean fig4\?\)/,
    inProcess: true,
  },
  {
    argv: () => ['experiment', 'fig4', '--manifest', csv(), '--seed', '-1'],
    says: /--seed must be at least 0, got -1/,
    inProcess: true,
  },
  {
    argv: () => ['experiment', 'rdal', '--methods', 'rdal,nope'],
    says: /^earmark experiment rdal: --methods: unknown value\(s\) 'nope'/,
  },
  {
    argv: () => ['experiment', 'rdal', '--data', at('empty')],
    says: /--data .*empty holds no labels\.csv: it is not a soundscape folder/,
    inProcess: true,
  },
  {
    argv: () => ['rdal', '--method', 'nope'],
    says: /^earmark rdal: --method must be one of baseline, naive, rdal, rdal-m, got 'nope'/,
    inProcess: true,
  },
  {
    argv: () => ['rdal', '--method', 'rdal', '--runs', '0'],
    says: /--runs must be at least 1, got 0/,
    inProcess: true,
  },
  { argv: () => obf('--threads', '-3'), says: /^earmark obfuscate: --threads must be from 1 to 256, got -3$/ },
  { argv: () => obf('--window', '2'), says: /--window must be from 8 to 4096, got 2/, inProcess: true },
  {
    argv: () => obf('--window', '128', '--lookahead', '40'),
    says: /--lookahead 40 is more than a quarter of the window/,
  },
  { argv: () => obf('--format', 'frames'), says: /--format frames applies to stream mode \(--in -\)/, inProcess: true },
  { argv: () => obf(), says: /--model .*A0\.wav is a WAV file, not an ONNX model/ },
  {
    argv: () => ['obfuscate', '--model', at('obf.onnx'), '--in', at('ghz.wav'), '--out', at('o.wav')],
    says: /^earmark obfuscate: --in .*ghz\.wav: its header says 2000000000 Hz, outside 1000–768000 Hz/,
  },
  {
    argv: () => ['obfuscate', '--model', at('obf.onnx'), '--in', wav(), '--out', at('o.wav'), '--lookahead', '40'],
    says: /--lookahead 40 is more than a quarter of the window \(W = 128 frames\)/,
  },
  {
    argv: () => ['obfuscate', '--model', at('obf.onnx'), '--in', wav(), '--out', at('o.mp3')],
    says: /o\.mp3.*unknown extension/,
    inProcess: true,
  },
  {
    argv: () => ['serve', '--source', `file:${at('ghz.wav')}`, '--tokens', at('store.json')],
    says: /^earmark serve: --source .*ghz\.wav: its header says 2000000000 Hz/,
    inProcess: true,
  },
  { argv: () => ['serve', '--port', '99999'], says: /^earmark serve: --port must be from 0 to 65535, got 99999$/ },
  { argv: () => ['serve', '--threads', '0'], says: /--threads must be from 1 to 256, got 0/, inProcess: true },
  {
    argv: () => ['serve', '--max-clients', '0'],
    says: /--max-clients must be from 1 to 100000, got 0/,
    inProcess: true,
  },
  { argv: () => ['serve', '--chunk-ms', '0'], says: /--chunk-ms must be from 1 to 10000, got 0/, inProcess: true },
  {
    argv: () => ['serve', '--source', `file:${at('none.wav')}`],
    says: /--source: '.*none\.wav' does not exist/,
    inProcess: true,
  },
  {
    argv: () => ['serve', '--source', 'stdin', '--tokens', at('no-store.json')],
    says: /token store .*no-store\.json does not exist.*--allow-empty-store/,
    inProcess: true,
  },
  {
    argv: () => ['serve', '--source', `file:${wav()}`, '--tokens', at('store.json'), '--port', String(busyPort)],
    says: /port \d+ on 127\.0\.0\.1 is already in use/,
  },
  {
    argv: () => ['grant', '--tokens', at('nowhere', 't.json'), '--list'],
    says: /^earmark grant: --tokens '.*nowhere\/t\.json': the folder .*nowhere does not exist .*create it first/,
    inProcess: true,
  },
  {
    argv: () => ['grant', '--task', 'a b', '--model', wav()],
    says: /--task must be a name of 1–64 letters/,
    inProcess: true,
  },
  {
    argv: () => ['revoke', 'a', 'b'],
    says: /^earmark revoke: unexpected argument 'b': `earmark revoke` takes <grant-id\|token> only/,
  },
  {
    argv: () => ['selfcheck', 'extra'],
    says: /^earmark selfcheck: unexpected argument 'extra': `earmark selfcheck` takes no positional arguments/,
  },
  {
    argv: () => ['launch', '--nproc', '2'],
    says: /`earmark launch` needs the command each rank runs/,
    inProcess: true,
  },
  {
    argv: () => ['launch', '--nproc', '0', '--', 'true'],
    says: /--nproc must be from 1 to 1024, got 0/,
    inProcess: true,
  },
  { argv: () => ['web', '--port', '99999'], says: /^earmark web: --port must be from 0 to 65535, got 99999$/ },
  {
    argv: () => ['web', '--allow-origin', 'localhost:5173'],
    says: /--allow-origin: 'localhost:5173' is not an origin/,
    inProcess: true,
  },
  {
    argv: () => ['web', '--port', '9000', '--sensor-port', '9000'],
    says: /--port and --sensor-port are both 9000/,
    inProcess: true,
  },
  { argv: () => ['nosuch'], says: /^earmark: unknown command 'nosuch'; the commands are demo, /, inProcess: true },
  { argv: () => ['--port', '1'], says: /^earmark: a command comes first, got the flag --port/, inProcess: true },
];

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

test('about 50 wrong invocations of every command: exit code 2, one line naming the flag, path or port, no stack', async () => {
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
