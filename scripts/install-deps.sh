#!/usr/bin/env bash
# Installs the Debian packages that paretonas needs to build, test and run its demo.
# Idempotent: when everything is present it only runs dpkg-query (well under a second).
# Usage: scripts/install-deps.sh [--with-test-extras] [--with-bench] [--with-fuzz]
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libtorch-dev libtbb-dev libboost-graph-dev libcereal-dev
  libgtest-dev libgmock-dev libcli11-dev libyaml-cpp-dev zlib1g-dev libonnx-dev libprotobuf-dev
  libstb-dev  # decodes the user's image folders (dataset.name: image_folder)
  libcpp-httplib-dev  # the live page, `paretonas serve`
  dataset-fashion-mnist
  openmpi-bin libopenmpi-dev  # optional at build time; `make test` runs the 3-rank MPI test
)
# Only needed by the interoperability tests (exports loaded and checked from Python; pandas for
# the Python package's DataFrames) and by the browser test of `serve` (headless Chromium; skipped
# with its reason without it).
test_extras=(python3-torch python3-onnx python3-pandas chromium)
# Only needed by benchmarks (bench/): pagmo2 for the overhead comparison, Optuna for the
# head-to-head of bench/vs_optuna/.
bench_extras=(libpagmo-dev python3-optuna)
fuzz_extras=(clang)  # libFuzzer and its sanitizer runtimes come with Debian's clang

for arg in "$@"; do
  case "$arg" in
    --with-test-extras) packages+=("${test_extras[@]}") ;;
    --with-bench) packages+=("${bench_extras[@]}") ;;
    --with-fuzz) packages+=("${fuzz_extras[@]}") ;;
    *) echo "usage: $0 [--with-test-extras] [--with-bench] [--with-fuzz]" >&2; exit 2 ;;
  esac
done

# ONNX Runtime for the interoperability tests: Debian has no package, the npm registry has
# onnxruntime-node with its CPU binaries inside (its install script, which would fetch GPU
# binaries from elsewhere, is not run). Node.js itself comes from Debian when missing.
want_onnxruntime=0
for arg in "$@"; do [[ "$arg" == --with-test-extras ]] && want_onnxruntime=1; done
here=$(cd "$(dirname "$0")" && pwd)
install_onnxruntime() {
  [[ $want_onnxruntime -eq 1 ]] || return 0
  [[ -f "$here/onnxruntime-node/node_modules/onnxruntime-node/package.json" ]] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found; the ONNX Runtime checks will use their NumPy fallback" >&2
    return 0
  fi
  echo "install-deps: installing onnxruntime-node into scripts/onnxruntime-node (npm)"
  if ! (cd "$here/onnxruntime-node" && npm install --no-audit --no-fund --no-package-lock --ignore-scripts \
        >/tmp/paretonas-npm.log 2>&1); then
    echo "install-deps: npm install of onnxruntime-node failed (see /tmp/paretonas-npm.log); the ONNX" \
         "Runtime checks will use their NumPy fallback" >&2
  fi
}
if [[ $want_onnxruntime -eq 1 ]] && ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  install_onnxruntime
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get is not available on this system." >&2
  echo "install-deps: install these Debian 12 (or equivalent) packages by hand: ${missing[*]}" >&2
  exit 1
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: not root and sudo is not available; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_onnxruntime
echo "install-deps: done"
