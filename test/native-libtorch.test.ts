// Building against the libtorch a user has (native/libtorch.cjs): Debian's libtorch-dev by default, or
// LIBTORCH naming an unpacked libtorch, an official libtorch .zip (unpacked once into a cache) or a Python
// torch package folder; the C++ ABI is read from libc10.so's symbols, never assumed. The resolved compiler
// and linker flags are checked here on small fake libtorch trees (tiny libc10.so built with each ABI); the
// full addon builds against the Python torch folder and a zip of Debian's files are opt-in
// (EARMARK_BUILD_TESTS=1: two builds of 1-3 min each on 2 cores, too slow for CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../src/util/paths.js';

interface Resolved {
  kind: string;
  root: string;
  version: string;
  abi: number;
  abiSource: string;
  include: string[];
  cuda: boolean;
  nccl?: boolean;
  ncclWhy?: string;
}
interface LibtorchModule {
  resolve(env: Record<string, string | undefined>): Resolved;
  settings(t: Resolved): { include: string[]; libs: string[]; defines: string[] };
  LibtorchError: new (m: string) => Error;
}

const root = repoRoot();
const lt = createRequire(import.meta.url)(path.join(root, 'native/libtorch.cjs')) as LibtorchModule;
const PY_TORCH = '/usr/lib/python3/dist-packages/torch';
const hasGxx = spawnSync('g++', ['--version']).status === 0;
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', '1']).status === 0);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'earmark-libtorch-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A tiny shared library exporting a function of std::string, built with the given libstdc++ ABI. */
function fakeLibc10(file: string, abi: 0 | 1): void {
  const src = path.join(tmp, `c10-${abi}.cc`);
  writeFileSync(src, '#include <string>\nvoid earmark_probe(const std::string& s) { (void)s; }\n');
  const r = spawnSync('g++', ['-shared', '-fPIC', `-D_GLIBCXX_USE_CXX11_ABI=${abi}`, src, '-o', file], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
}

/** An official-libtorch-shaped tree: include/, lib/ (libc10 with `abi`), share/cmake/Torch/TorchConfig.cmake. */
function fakeLibtorch(dir: string, o: { abi: 0 | 1; cmakeAbi?: 0 | 1; version?: string; cuda?: boolean }): void {
  const api = path.join(dir, 'include/torch/csrc/api/include/torch');
  mkdirSync(api, { recursive: true });
  const [major, minor, patch] = (o.version ?? '2.4.0').split('.');
  writeFileSync(
    path.join(api, 'version.h'),
    `#define TORCH_VERSION_MAJOR ${major}\n#define TORCH_VERSION_MINOR ${minor}\n#define TORCH_VERSION_PATCH ${patch}\n`,
  );
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  fakeLibc10(path.join(dir, 'lib/libc10.so'), o.abi);
  for (const name of ['torch', 'torch_cpu', ...(o.cuda ? ['torch_cuda', 'c10_cuda'] : [])]) {
    writeFileSync(path.join(dir, `lib/lib${name}.so`), '');
  }
  if (o.cmakeAbi !== undefined) {
    mkdirSync(path.join(dir, 'share/cmake/Torch'), { recursive: true });
    writeFileSync(
      path.join(dir, 'share/cmake/Torch/TorchConfig.cmake'),
      `set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${o.cmakeAbi}")\n`,
    );
  }
}

/** Zip `folder` (as a top-level folder of that name, like the official zips) with Python's zipfile. */
function zipFolder(folder: string, zip: string): void {
  const r = spawnSync(python!, ['-m', 'zipfile', '-c', zip, path.basename(folder)], {
    cwd: path.dirname(folder),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
}

test(
  "default: Debian's libtorch-dev, with the ABI read from libc10.so's symbols",
  { skip: existsSync('/usr/include/torch') ? false : 'libtorch-dev is not installed' },
  () => {
    const t = lt.resolve({});
    assert.equal(t.kind, 'debian');
    assert.match(t.version, /^1\.13\./);
    assert.equal(t.abi, 1);
    assert.match(t.abiSource, /libc10\.so symbols/);
    const s = lt.settings(t);
    assert.deepEqual(s.defines, ['_GLIBCXX_USE_CXX11_ABI=1']);
    assert.deepEqual(s.libs, ['-ltorch', '-ltorch_cpu', '-lc10']);
  },
);

test(
  'LIBTORCH=<Python torch package folder> uses its include/ and lib/, on the rpath',
  { skip: existsSync(path.join(PY_TORCH, 'lib/libc10.so')) ? false : `no Python torch package at ${PY_TORCH}` },
  () => {
    const t = lt.resolve({ LIBTORCH: PY_TORCH });
    assert.equal(t.kind, 'python');
    assert.equal(t.abi, 1);
    const s = lt.settings(t);
    assert.deepEqual(s.include, [
      path.join(PY_TORCH, 'include'),
      path.join(PY_TORCH, 'include/torch/csrc/api/include'),
    ]);
    assert.ok(s.libs.includes(`-L${PY_TORCH}/lib`) && s.libs.includes(`-Wl,-rpath,${PY_TORCH}/lib`), s.libs.join(' '));
  },
);

test(
  'the C++ ABI comes from the library itself: a pre-cxx11 libc10 gives _GLIBCXX_USE_CXX11_ABI=0',
  { skip: hasGxx ? false : 'needs g++' },
  () => {
    for (const abi of [0, 1] as const) {
      const dir = path.join(tmp, `abi${abi}`);
      fakeLibtorch(dir, { abi });
      const t = lt.resolve({ LIBTORCH: dir });
      assert.equal(t.kind, 'libtorch');
      assert.equal(t.abi, abi);
      assert.ok(lt.settings(t).defines.includes(`_GLIBCXX_USE_CXX11_ABI=${abi}`));
    }
  },
);

test(
  'LIBTORCH=<official .zip> is unpacked once into the cache and used from there, CUDA libraries kept',
  { skip: hasGxx && python ? false : 'needs g++ and python3' },
  () => {
    const src = path.join(tmp, 'zipsrc/libtorch');
    fakeLibtorch(src, { abi: 0, cmakeAbi: 0, version: '2.4.1', cuda: true });
    const zip = path.join(tmp, 'libtorch-cxx11-abi-shared-with-deps-2.4.1+cu121.zip');
    zipFolder(src, zip);
    const env = { LIBTORCH: zip, EARMARK_CACHE: path.join(tmp, 'cache') };
    const t = lt.resolve(env);
    assert.equal(t.kind, 'zip');
    assert.ok(t.root.startsWith(path.join(tmp, 'cache/libtorch/')) && t.root.endsWith('/libtorch'), t.root);
    assert.equal(t.version, '2.4.1');
    assert.equal(t.abi, 0);
    assert.match(t.abiSource, /agreeing with .*TorchConfig\.cmake/);
    assert.equal(t.cuda, true);
    const s = lt.settings(t);
    assert.deepEqual(s.defines, ['_GLIBCXX_USE_CXX11_ABI=0', 'EARMARK_WITH_CUDA=1']);
    const lib = path.join(t.root, 'lib');
    assert.deepEqual(s.libs, [
      `-L${lib}`,
      `-Wl,-rpath,${lib}`,
      '-Wl,--no-as-needed',
      '-ltorch_cuda',
      '-lc10_cuda',
      '-ltorch',
      '-ltorch_cpu',
      '-lc10',
      '-Wl,--as-needed',
    ]);
    const stamp = statSync(path.join(t.root, '..', '.complete')).mtimeMs;
    assert.equal(lt.resolve(env).root, t.root);
    assert.equal(
      statSync(path.join(t.root, '..', '.complete')).mtimeMs,
      stamp,
      'the second resolve must not unpack again',
    );
  },
);

test('unusable LIBTORCH values fail with the path and the fix', { skip: hasGxx ? false : 'needs g++' }, () => {
  assert.throws(
    () => lt.resolve({ LIBTORCH: path.join(tmp, 'nope') }),
    /does not exist; point it at a libtorch folder/,
  );
  const empty = path.join(tmp, 'empty');
  mkdirSync(path.join(empty, 'include/torch'), { recursive: true });
  assert.throws(() => lt.resolve({ LIBTORCH: empty }), /is not a usable libtorch: missing .*libc10\.so/);
  const text = path.join(tmp, 'notes.txt');
  writeFileSync(text, 'x');
  assert.throws(() => lt.resolve({ LIBTORCH: text }), /is a file but not a \.zip/);
  const mixed = path.join(tmp, 'mixed');
  fakeLibtorch(mixed, { abi: 0, cmakeAbi: 1 });
  assert.throws(() => lt.resolve({ LIBTORCH: mixed }), /says _GLIBCXX_USE_CXX11_ABI=1 but .* was built with 0/);
  // binding.gyp's <!(node libtorch.cjs ...) lines: a clear message and a failing exit status
  const r = spawnSync(process.execPath, [path.join(root, 'native/libtorch.cjs'), 'libs'], {
    env: { ...process.env, LIBTORCH: path.join(tmp, 'nope') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^earmark: LIBTORCH=.* does not exist/);
});

test(
  'NCCL is built (EARMARK_NCCL) only where libtorch_cuda exports ProcessGroupNCCL and the headers are found',
  {
    skip: hasGxx ? false : 'needs g++',
  },
  () => {
    const dir = path.join(tmp, 'nccl');
    fakeLibtorch(dir, { abi: 1, cuda: true });
    const env = { LIBTORCH: dir, CUDA_HOME: path.join(tmp, 'cuda'), NCCL_INCLUDE_DIR: path.join(tmp, 'nccl-include') };
    // an empty libtorch_cuda.so (no symbols): CUDA but no NCCL, and EARMARK_NCCL=1 says why
    assert.equal(lt.resolve(env).nccl, false);
    assert.match(lt.resolve(env).ncclWhy ?? '', /exports no ProcessGroupNCCL/);
    assert.throws(() => lt.resolve({ ...env, EARMARK_NCCL: '1' }), /EARMARK_NCCL=1 but NCCL cannot be built/);
    const src = path.join(tmp, 'pg-nccl.cc');
    writeFileSync(src, 'extern "C" void c10d_ProcessGroupNCCL_probe() {}\n');
    const out = path.join(dir, 'lib/libtorch_cuda.so');
    const r = spawnSync('g++', ['-shared', '-fPIC', src, '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(lt.resolve(env).ncclWhy ?? '', /no include\/torch\/csrc\/distributed\/c10d\/ProcessGroupNCCL\.hpp/);
    mkdirSync(path.join(dir, 'include/torch/csrc/distributed/c10d'), { recursive: true });
    writeFileSync(path.join(dir, 'include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'), '');
    assert.match(lt.resolve({ ...env, NCCL_INCLUDE_DIR: path.join(tmp, 'none') }).ncclWhy ?? '', /nccl\.h not found/);
    const headers: [string, string][] = [
      [env.NCCL_INCLUDE_DIR, 'nccl.h'],
      [path.join(env.CUDA_HOME, 'include'), 'cuda_runtime_api.h'],
    ];
    for (const [d, f] of headers) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, f), '');
    }
    const t = lt.resolve(env);
    assert.equal(t.nccl, true, t.ncclWhy);
    const s = lt.settings(t);
    assert.deepEqual(s.defines, ['_GLIBCXX_USE_CXX11_ABI=1', 'EARMARK_WITH_CUDA=1', 'EARMARK_NCCL=1']);
    assert.ok(s.include.includes(env.NCCL_INCLUDE_DIR) && s.include.includes(path.join(env.CUDA_HOME, 'include')));
    assert.equal(lt.resolve({ ...env, EARMARK_NCCL: '0' }).nccl, false, 'EARMARK_NCCL=0 turns it off');
  },
);

// ---- opt-in: full builds of the addon against other layouts of this machine's libtorch ----

const buildSkip =
  process.env.EARMARK_BUILD_TESTS === '1'
    ? false
    : 'set EARMARK_BUILD_TESTS=1 to build the addon against the Python torch folder and a libtorch zip (1-3 min each)';

/** Build the addon from a copy of native/ with `env`, check its rpath, load it in a child process and run one op. */
function buildAndRun(name: string, env: Record<string, string>, libdir: RegExp): string {
  const dir = path.join(tmp, `build-${name}`);
  for (const f of ['src', 'binding.gyp', 'libtorch.cjs'])
    cpSync(path.join(root, 'native', f), path.join(dir, f), { recursive: true });
  const nodedir = path.dirname(path.dirname(process.execPath));
  const gyp = path.join(root, 'node_modules/.bin/node-gyp');
  const b = spawnSync(
    gyp,
    [
      'rebuild',
      '-j',
      '2',
      '--loglevel=error',
      ...(existsSync(path.join(nodedir, 'include/node/node_api.h')) ? [`--nodedir=${nodedir}`] : []),
    ],
    { cwd: dir, env: { ...process.env, ...env, NODE_PATH: path.join(root, 'node_modules') }, encoding: 'utf8' },
  );
  assert.equal(b.status, 0, b.stderr.slice(-4000));
  const addon = path.join(dir, 'build/Release/earmark.node');
  const dyn = spawnSync('readelf', ['-d', addon], { encoding: 'utf8' }).stdout;
  assert.match(
    dyn,
    new RegExp(`(RUNPATH|RPATH).*${libdir.source}`),
    'the addon must find that libtorch through its rpath',
  );
  const script = `import('${path.join(root, 'dist/src/tensor/index.js')}').then((T) => {
    const x = T.tensor([1, 2, 3]).mul(2).add(1); console.log(JSON.stringify({ v: x.toArray(), version: T.libtorchVersion() })); })`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, EARMARK_ADDON: addon },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test(
  'opt-in build: against the Python torch package folder',
  { skip: buildSkip || (existsSync(PY_TORCH) ? false : 'no Python torch') },
  () => {
    const out = buildAndRun('python', { LIBTORCH: PY_TORCH }, /\/dist-packages\/torch\/lib/);
    assert.deepEqual(JSON.parse(out), { v: [3, 5, 7], version: '1.13.0' });
  },
);

test(
  'opt-in build: against a libtorch zip made from the same files',
  { skip: buildSkip || (python ? false : 'needs python3') },
  () => {
    // official layout, libtorch/{include,lib}, holding links to Debian's headers and libraries
    const src = path.join(tmp, 'zipfull/libtorch');
    for (const d of ['include', 'lib']) mkdirSync(path.join(src, d), { recursive: true });
    for (const h of ['ATen', 'TH', 'c10', 'caffe2', 'torch'])
      symlinkSync(path.join('/usr/include', h), path.join(src, 'include', h));
    for (const l of ['libc10.so', 'libtorch.so', 'libtorch_cpu.so'])
      symlinkSync(path.join('/usr/lib/x86_64-linux-gnu', l), path.join(src, 'lib', l));
    const zip = path.join(tmp, 'libtorch-debian-1.13.zip');
    const z = spawnSync('zip', ['-q', '-r', '-y', zip, 'libtorch'], { cwd: path.dirname(src) });
    assert.equal(z.status, 0, 'needs zip (apt-get install zip) to store the links');
    const out = JSON.parse(
      buildAndRun(
        'zip',
        { LIBTORCH: zip, EARMARK_CACHE: path.join(tmp, 'cache-full') },
        /cache-full\/libtorch\/libtorch-debian-1\.13-\d+\/libtorch\/lib/,
      ),
    );
    assert.deepEqual(out, { v: [3, 5, 7], version: '1.13.0' });
  },
);
