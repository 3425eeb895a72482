// Prints the compiler/linker settings node-gyp needs for libtorch, for binding.gyp's <!(...) lines.
// Default: Debian's libtorch-dev. With env LIBTORCH=/path/to/libtorch (an official CPU or CUDA
// build), its headers and libraries are used and the library folder is put on the rpath.
'use strict';
const fs = require('fs');
const path = require('path');

const root = process.env.LIBTORCH;
const what = process.argv[2];

function official() {
  const inc = [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')];
  const lib = path.join(root, 'lib');
  const has = (name) => fs.existsSync(path.join(lib, `lib${name}.so`));
  const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
  // CUDA kernels register themselves at load time, so these must not be dropped by --as-needed
  const cuda = ['torch_cuda', 'c10_cuda'].filter(has).map((n) => `-l${n}`);
  let abi = '1';
  const cfg = path.join(root, 'share/cmake/Torch/TorchConfig.cmake');
  if (fs.existsSync(cfg) && /_GLIBCXX_USE_CXX11_ABI=0/.test(fs.readFileSync(cfg, 'utf8'))) abi = '0';
  return {
    include: inc,
    libs: [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', ...cuda, ...libs, '-Wl,--as-needed'],
    defines: [`_GLIBCXX_USE_CXX11_ABI=${abi}`],
  };
}

function debian() {
  return {
    include: ['/usr/include', '/usr/include/torch/csrc/api/include'],
    libs: ['-ltorch', '-ltorch_cpu', '-lc10'],
    defines: ['_GLIBCXX_USE_CXX11_ABI=1'],
  };
}

const cfg = root ? official() : debian();
if (root && !fs.existsSync(path.join(root, 'include/torch'))) {
  console.error(`LIBTORCH=${root} has no include/torch; point it at an unpacked libtorch folder or unset it`);
  process.exit(1);
}
process.stdout.write((cfg[what] || []).join(' '));
