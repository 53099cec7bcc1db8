#!/usr/bin/env bash
# One call on a CUDA machine prepared with ../shared/device (issue #10, first run 2026-11-26): build against
# the machine's CUDA LibTorch, retrain the second search's chosen front members and the
# 2 Conv+pooling+BN baseline with two longer recipes at once (A: flips + pad-4 crops, EPOCHS_A
# epochs; B: no augmentation, EPOCHS_B epochs; both batch 256, the runs' SGD), and meanwhile build
# everything else and run the test suite on the CPU cores. Needs runs/fmnist_ds and
# runs/fmnist_ds_baseline (carried) and .device/ (source .device/on-device.sh first).
# Writes $OUT/final.tgz (JSON exports with test accuracy, logs) and the build/test logs.
# EPOCHS_B 0 skips recipe B; SKIP_TESTS=1 skips the build of the rest and the tests;
# SEEDS="1 2 3" trains every model once per seed (`export --seed`), all at once.
# Usage: bash scripts/device-long-training.sh [EPOCHS_A] [EPOCHS_B] [LIMIT_S] [IDS...]
set -uo pipefail
epochs_a=${1:-50}
epochs_b=${2:-40}
limit=${3:-420}
shift 3 2>/dev/null || shift $#
ids=("$@")
[ ${#ids[@]} -gt 0 ] || ids=(107 98 73 109)
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/final
mkdir -p /usr/share/datasets && [ -e /usr/share/datasets/fashion-mnist ] || ln -s /tmp/fashion-mnist /usr/share/datasets/fashion-mnist
step() { echo "== $* ($(date +%T))"; }
step "machine"
nvidia-smi -L; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
step "configure"
cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$NAS_CMAKE_PREFIX" \
  >"$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
step "build paretonas"
cmake --build /tmp/build --target paretonas -j 16 >"$out/build.log" 2>&1 \
  || { grep -B2 -A8 "error" "$out/build.log" | head -80; exit 1; }
bin=/tmp/build/experiments/paretonas
step "training: A = augment on, $epochs_a epochs; B = augment off, $epochs_b epochs; ids ${ids[*]} + baseline"
start=$(date +%s)
train() {  # RECIPE AUGMENT EPOCHS: once per seed of $SEEDS (unset: each trial's own seed)
  local seed tag extra
  for seed in ${SEEDS:-trial}; do
    if [ "$seed" = trial ]; then tag=$1 extra=(); else tag=$1_s$seed extra=(--seed "$seed"); fi
    OMP_NUM_THREADS=1 timeout "$limit" "$bin" export runs/fmnist_ds --id "${ids[@]}" --format json \
      --train-epochs "$3" --batch-size 256 --augment "$2" --device cuda --jobs "${#ids[@]}" "${extra[@]}" \
      --out "/tmp/final/${tag}_front" >"/tmp/final/${tag}_front.log" 2>&1 &
    OMP_NUM_THREADS=1 timeout "$limit" "$bin" export runs/fmnist_ds_baseline --id 0 --format json \
      --train-epochs "$3" --batch-size 256 --augment "$2" --device cuda "${extra[@]}" \
      --out "/tmp/final/${tag}_baseline" >"/tmp/final/${tag}_baseline.log" 2>&1 &
  done
}
train A on "$epochs_a"
[ "$epochs_b" -gt 0 ] && train B off "$epochs_b"
if [ -z "${SKIP_TESTS:-}" ]; then
step "build the rest (beside the training)"
cmake --build /tmp/build -j 8 >>"$out/build.log" 2>&1 || grep -B2 -A8 "error" "$out/build.log" | head -60
tail -1 "$out/build.log"
step "tests (CPU beside the training; the CUDA test shares the GPU)"
(cd /tmp/build && OMP_NUM_THREADS=2 timeout 240 ctest -j 4 --output-on-failure >"$out/ctest.log" 2>&1)
grep -E "tests passed|tests failed|\*\*\*|Failed|SKIPPED|Skipped" "$out/ctest.log" | head -30
grep -h -A3 "CudaWorkers" /tmp/build/Testing/Temporary/LastTest.log | head -8
fi
step "waiting for the training"
wait
echo "== training done in $(( $(date +%s) - start )) s"
grep -h "test accuracy\|error\|failed\|Terminated" /tmp/final/*.log
tar czf "$out/final.tgz" -C /tmp final
step "done"
