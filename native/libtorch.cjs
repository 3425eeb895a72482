// Finds the libtorch to build against and prints node-gyp's settings for it (binding.gyp's <!(...) lines).
//   LIBTORCH unset        Debian's libtorch-dev (headers in /usr/include, libraries in /usr/lib/<triplet>).
//   LIBTORCH=<dir>        an unpacked official libtorch (include/, lib/, share/cmake/Torch/), or a Python
//                         torch package folder (python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))',
//                         which holds include/ and lib/), e.g. a pip torch 2.x with CUDA.
//   LIBTORCH=<file.zip>   an official libtorch zip, unpacked once into .earmark-cache/libtorch/<name>/
//                         (EARMARK_CACHE=<dir> puts the cache elsewhere).
// The C++ ABI (_GLIBCXX_USE_CXX11_ABI) is read from libc10.so's dynamic symbols, never assumed: std::__cxx11
// names mean 1. TorchConfig.cmake's flag, where there is one, must agree.
// Usage: node libtorch.cjs include|libs|defines|describe|summary|prepare
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

class LibtorchError extends Error {}

const exists = (p) => fs.existsSync(p);
const isDir = (p) => exists(p) && fs.statSync(p).isDirectory();

// ---- ELF: the names in a shared library's dynamic symbol table ----

/** Strings of the .dynstr table linked from SHT_DYNSYM, or null if `file` is not a 64-bit little-endian ELF. */
function dynamicStrings(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (offset, length) => {
      const b = Buffer.alloc(length);
      fs.readSync(fd, b, 0, length, offset);
      return b;
    };
    const h = read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return null; // \x7fELF, 64-bit, LE
    const shoff = Number(h.readBigUInt64LE(0x28));
    const shentsize = h.readUInt16LE(0x3a);
    const shnum = h.readUInt16LE(0x3c);
    const sections = read(shoff, shentsize * shnum);
    const sec = (i) => ({
      type: sections.readUInt32LE(i * shentsize + 4),
      offset: Number(sections.readBigUInt64LE(i * shentsize + 0x18)),
      size: Number(sections.readBigUInt64LE(i * shentsize + 0x20)),
      link: sections.readUInt32LE(i * shentsize + 0x28),
    });
    for (let i = 0; i < shnum; i++) {
      const s = sec(i);
      if (s.type !== 11) continue; // SHT_DYNSYM
      const strtab = sec(s.link);
      return read(strtab.offset, strtab.size).toString('latin1').split('\0');
    }
    return [];
  } finally {
    fs.closeSync(fd);
  }
}

/** 1 if libc10's exported C++ names use std::__cxx11 (the new libstdc++ ABI), 0 if none does. */
function abiFromSymbols(libc10) {
  const names = dynamicStrings(fs.realpathSync(libc10));
  if (names === null) throw new LibtorchError(`${libc10} is not a 64-bit little-endian ELF library`);
  const cxx = names.filter((n) => n.startsWith('_Z'));
  if (cxx.length === 0) throw new LibtorchError(`${libc10} exports no C++ symbols; is it really libc10?`);
  return cxx.some((n) => n.includes('St7__cxx11')) ? 1 : 0;
}

function abiFromCmake(root) {
  for (const f of ['share/cmake/Torch/TorchConfig.cmake', 'lib/cmake/Torch/TorchConfig.cmake']) {
    const p = path.join(root, f);
    const m = exists(p) && /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(p, 'utf8'));
    if (m) return { abi: Number(m[1]), file: p };
  }
  return null;
}

function versionOf(apiInclude) {
  const h = path.join(apiInclude, 'torch/version.h');
  if (!exists(h)) return 'unknown';
  const text = fs.readFileSync(h, 'utf8');
  const part = (k) => (new RegExp(`#define TORCH_VERSION_${k}\\s+(\\d+)`).exec(text) || [])[1];
  if (part('MAJOR') !== undefined) return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return (/#define TORCH_VERSION\s+"([^"]+)"/.exec(text) || [])[1] || 'unknown';
}

// ---- an official libtorch zip, unpacked once ----

function cacheRoot(env) {
  return path.resolve(env.EARMARK_CACHE || path.join(__dirname, '..', '.earmark-cache'), 'libtorch');
}

function unpackZip(zip, env) {
  const st = fs.statSync(zip);
  const dest = path.join(cacheRoot(env), `${path.basename(zip, '.zip')}-${st.size}`);
  if (exists(path.join(dest, '.complete'))) return dest;
  const tmp = `${dest}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  process.stderr.write(`earmark: unpacking ${zip} into ${dest}\n`);
  let r = spawnSync('unzip', ['-q', '-o', zip, '-d', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) {
    // no unzip: Python's zipfile (drops symlinks, which official zips do not use)
    const py = ['python3', '/usr/bin/python3'].find((p) => !spawnSync(p, ['-c', '1']).error);
    if (py === undefined) throw new LibtorchError(`cannot unpack ${zip}: install unzip (apt-get install unzip)`);
    r = spawnSync(py, ['-m', 'zipfile', '-e', zip, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  if (r.status !== 0) throw new LibtorchError(`unpacking ${zip} failed: ${String(r.stderr).trim()}`);
  fs.writeFileSync(path.join(tmp, '.complete'), `${zip}\n`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.renameSync(tmp, dest); // atomic: a half-unpacked folder is never used
  return dest;
}

// ---- NCCL: ProcessGroupNCCL in libtorch_cuda, its header, nccl.h and the CUDA runtime headers ----

/** The first of `dirs` that holds `file`, or undefined. */
function findDir(dirs, file) {
  return dirs.filter(Boolean).find((d) => exists(path.join(d, file)));
}

/**
 * Whether c10d.cc can be built with ProcessGroupNCCL (-DEARMARK_NCCL) against this libtorch: libtorch_cuda
 * exports it (torch 2.x; `nm -D libtorch_cuda.so | grep ProcessGroupNCCL`), the header is there, and nccl.h
 * and cuda_runtime_api.h are found (a pip torch keeps them in site-packages/nvidia/*, a CUDA toolkit in
 * CUDA_HOME). EARMARK_NCCL=0 turns it off; EARMARK_NCCL=1 makes a missing piece an error.
 */
function ncclOf(root, lib, env) {
  const no = (why) => {
    if (env.EARMARK_NCCL === '1') throw new LibtorchError(`EARMARK_NCCL=1 but NCCL cannot be built: ${why}`);
    return { nccl: false, ncclWhy: why, ncclInclude: [] };
  };
  if (env.EARMARK_NCCL === '0') return no('EARMARK_NCCL=0');
  const cudaLib = path.join(lib, 'libtorch_cuda.so');
  if (!exists(cudaLib)) return no('no libtorch_cuda.so');
  const names = dynamicStrings(fs.realpathSync(cudaLib));
  if (!names || !names.some((n) => n.includes('ProcessGroupNCCL'))) return no(`${cudaLib} exports no ProcessGroupNCCL`);
  if (!exists(path.join(root, 'include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp'))) {
    return no('no include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp');
  }
  const site = path.dirname(root); // a pip torch: site-packages/torch
  const nv = (sub) => ['nccl', 'cuda_runtime', 'cu13', 'cu12'].map((p) => path.join(site, 'nvidia', p, sub));
  const cudaHome = env.CUDA_HOME || env.CUDA_PATH || '/usr/local/cuda';
  const nccl = findDir(
    [
      env.NCCL_INCLUDE_DIR,
      env.NCCL_HOME && path.join(env.NCCL_HOME, 'include'),
      path.join(root, 'include'),
      ...nv('include'),
      path.join(cudaHome, 'include'),
      '/usr/include',
    ],
    'nccl.h',
  );
  if (!nccl) return no('nccl.h not found (set NCCL_INCLUDE_DIR or NCCL_HOME)');
  const cuda = findDir(
    [path.join(cudaHome, 'include'), path.join(root, 'include'), ...nv('include'), '/usr/include'],
    'cuda_runtime_api.h',
  );
  if (!cuda) return no('cuda_runtime_api.h not found (set CUDA_HOME)');
  return { nccl: true, ncclWhy: `ProcessGroupNCCL in ${cudaLib}`, ncclInclude: [...new Set([nccl, cuda])] };
}

// ---- layouts ----

function debian() {
  const libdir = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].find((d) =>
    exists(path.join(d, 'libc10.so')),
  );
  if (libdir === undefined || !exists('/usr/include/torch')) {
    throw new LibtorchError(
      "Debian's libtorch-dev is not installed (no /usr/include/torch or libc10.so): " +
        '`apt-get install libtorch-dev`, or set LIBTORCH to a libtorch folder, zip or Python torch package',
    );
  }
  const api = '/usr/include/torch/csrc/api/include';
  return {
    kind: 'debian',
    root: '/usr',
    libdir,
    version: versionOf(api),
    abi: abiFromSymbols(path.join(libdir, 'libc10.so')),
    abiSource: `${path.join(libdir, 'libc10.so')} symbols`,
    include: ['/usr/include', api],
    rpath: false,
    cuda: false,
  };
}

function folder(spec, env) {
  let root = path.resolve(spec);
  let kind = 'libtorch';
  if (exists(root) && !isDir(root)) {
    if (!root.endsWith('.zip')) throw new LibtorchError(`LIBTORCH=${spec} is a file but not a .zip`);
    root = unpackZip(root, env);
    kind = 'zip';
  } else if (!isDir(root)) {
    throw new LibtorchError(
      `LIBTORCH=${spec} does not exist; point it at a libtorch folder, an official libtorch ` +
        ".zip or a Python torch package folder (python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')",
    );
  }
  if (!exists(path.join(root, 'include/torch')) && exists(path.join(root, 'libtorch/include/torch'))) {
    root = path.join(root, 'libtorch'); // an official zip unpacks to libtorch/
  }
  const api = path.join(root, 'include/torch/csrc/api/include');
  const lib = path.join(root, 'lib');
  const missing = [api, path.join(lib, 'libc10.so'), path.join(lib, 'libtorch_cpu.so')].filter((p) => !exists(p));
  if (missing.length) {
    throw new LibtorchError(
      `LIBTORCH=${spec} is not a usable libtorch: missing ${missing.join(', ')}` +
        (exists(path.join(root, '__init__.py')) ? ' (this torch package ships no C++ headers or libraries)' : ''),
    );
  }
  if (kind === 'libtorch' && exists(path.join(root, '__init__.py'))) kind = 'python';
  const abi = abiFromSymbols(path.join(lib, 'libc10.so'));
  const cmake = abiFromCmake(root);
  if (cmake !== null && cmake.abi !== abi) {
    throw new LibtorchError(
      `${cmake.file} says _GLIBCXX_USE_CXX11_ABI=${cmake.abi} but ${path.join(lib, 'libc10.so')} ` +
        `was built with ${abi}; this libtorch is inconsistent, use another`,
    );
  }
  const has = (name) => exists(path.join(lib, `lib${name}.so`));
  return {
    kind,
    root,
    libdir: lib,
    version: versionOf(api),
    abi,
    abiSource: `${path.join(lib, 'libc10.so')} symbols` + (cmake ? `, agreeing with ${cmake.file}` : ''),
    include: [path.join(root, 'include'), api],
    rpath: true,
    cuda: has('torch_cuda'),
    cudaLibs: ['torch_cuda', 'c10_cuda'].filter(has),
    ...ncclOf(root, lib, env),
  };
}

/** The resolved libtorch for `env` (process.env by default). Throws LibtorchError with the fix. */
function resolve(env = process.env) {
  return env.LIBTORCH ? folder(env.LIBTORCH, env) : debian();
}

function settings(t) {
  const base = ['-ltorch', '-ltorch_cpu', '-lc10'];
  // CUDA kernels register themselves at load time, so their libraries must not be dropped by --as-needed
  const cuda = (t.cudaLibs || []).map((n) => `-l${n}`);
  return {
    include: [...t.include, ...(t.ncclInclude || [])],
    libs: t.rpath
      ? [`-L${t.libdir}`, `-Wl,-rpath,${t.libdir}`, '-Wl,--no-as-needed', ...cuda, ...base, '-Wl,--as-needed']
      : base,
    defines: [
      `_GLIBCXX_USE_CXX11_ABI=${t.abi}`,
      ...(t.cuda ? ['EARMARK_WITH_CUDA=1'] : []),
      ...(t.nccl ? ['EARMARK_NCCL=1'] : []),
    ],
  };
}

function main() {
  const what = process.argv[2];
  try {
    const t = resolve();
    const s = settings(t);
    if (what === 'describe') process.stdout.write(`${JSON.stringify({ ...t, ...s }, null, 1)}\n`);
    else if (what === 'summary')
      process.stdout.write(
        `${t.kind} libtorch ${t.version} at ${t.root}, C++ ABI ${t.abi}${t.cuda ? ', CUDA' : ''}` +
          `${t.nccl ? ', NCCL' : ''}\n`,
      );
    else if (what === 'prepare') process.stdout.write(`${t.root}\n`);
    else if (what in s) process.stdout.write(s[what].join(' '));
    else
      throw new LibtorchError(`usage: node libtorch.cjs include|libs|defines|describe|summary|prepare (got ${what})`);
  } catch (e) {
    if (!(e instanceof LibtorchError)) throw e;
    process.stderr.write(`earmark: ${e.message}\n`);
    process.exit(1);
  }
}

if (require.main === module) main();
module.exports = { resolve, settings, abiFromSymbols, LibtorchError };
