#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine with Node 20: apt packages, npm deps, the native
# addon and the TypeScript build. Each step runs only when its output is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1mearmark bootstrap:\033[0m %s\n' "$*" >&2; }

# 1. apt packages (scripts/apt-packages.txt)
mapfile -t want < <(grep -v '^\s*#' scripts/apt-packages.txt | awk 'NF{print $1}')
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm dependencies (onnxruntime-node must not try to download CUDA parts)
export ONNXRUNTIME_NODE_INSTALL=skip
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. native addon (rebuilt when a source, binding.gyp or LIBTORCH changes). LIBTORCH may name Debian's
#    default (unset), an unpacked libtorch, an official libtorch .zip or a Python torch package folder:
#    native/libtorch.cjs resolves it (unpacking a zip once) and reads its C++ ABI.
addon=native/build/Release/earmark.node
stamp=native/build/.libtorch
want_lt="${LIBTORCH:-debian}"
if [ ! -f "$addon" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_lt" ] || \
   [ -n "$(find native/src native/binding.gyp native/libtorch.cjs -newer "$addon" 2>/dev/null | head -1)" ]; then
  node native/libtorch.cjs prepare >/dev/null  # fails here, with the fix, if LIBTORCH is unusable
  say "building the native addon against $(node native/libtorch.cjs summary)"
  gyp_args=(rebuild -j 2)
  nodedir="$(dirname "$(dirname "$(command -v node)")")"
  [ -f "$nodedir/include/node/node_api.h" ] && gyp_args+=("--nodedir=$nodedir")
  (cd native && npx --no-install node-gyp "${gyp_args[@]}" --loglevel=error)
  echo "$want_lt" > "$stamp"
fi

# 4. TypeScript (incremental, so a no-op when nothing changed)
npx --no-install tsc -p tsconfig.json

# 5. the browser sensor: type-check src/web/browser and emit earmark/web's declarations, then bundle (esbuild)
web_stamp=dist/web/types/.tsbuildinfo
if [ ! -f "$web_stamp" ] || [ -n "$(find src/web src/edge src/errors.ts tsconfig.web.json -newer "$web_stamp" 2>/dev/null | head -1)" ]; then
  npx --no-install tsc -p tsconfig.web.json
  touch "$web_stamp"
fi
node scripts/build-web.mjs
