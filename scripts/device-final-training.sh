#!/usr/bin/env bash
# Retrains the Fashion-MNIST front and the hand-designed baseline from scratch on a CUDA machine
# (issue #10), all with one recipe: `paretonas export --train-epochs E --batch-size B --device
# cuda`, the front's members at once on their own CUDA streams. Needs the run directories
# runs/fashion_mnist and runs/fashion_mnist_baseline (carried) and ../shared/device's
# .device/ (source .device/on-device.sh first). Writes $OUT/final.tgz (the JSON exports with
# test accuracy) and the logs. Usage: bash scripts/device-final-training.sh [EPOCHS] [BATCH] [LIMIT_S]
set -uo pipefail
epochs=${1:-15}
batch=${2:-256}
limit=${3:-200}
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/final
mkdir -p /usr/share/datasets && [ -e /usr/share/datasets/fashion-mnist ] || ln -s /tmp/fashion-mnist /usr/share/datasets/fashion-mnist
echo "== build ($(date +%T))"
cmake -S . -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$NAS_CMAKE_PREFIX" >"$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
cmake --build /tmp/build --target paretonas -j 16 >"$out/build.log" 2>&1 || { grep -A5 error "$out/build.log" | head -40; exit 1; }
bin=/tmp/build/experiments/paretonas
export OMP_NUM_THREADS=1  # one CPU thread per training process: the GPU does the work
echo "== training ($(date +%T)): $epochs epochs, batch $batch, limit $limit s"
start=$(date +%s)
# One process for the whole front (--jobs: threads, each model on its own CUDA stream; separate
# processes would only time-slice the GPU), one for the baseline.
n=$(($(wc -l <runs/fashion_mnist/front.csv) - 1))
timeout "$limit" "$bin" export runs/fashion_mnist --front --format json --train-epochs "$epochs" \
  --batch-size "$batch" --device cuda --jobs "$n" --out /tmp/final/front >/tmp/final/front.log 2>&1 &
timeout "$limit" "$bin" export runs/fashion_mnist_baseline --id 0 --format json --train-epochs "$epochs" \
  --batch-size "$batch" --device cuda --out /tmp/final/baseline >/tmp/final/baseline.log 2>&1 &
wait
echo "== done in $(( $(date +%s) - start )) s"
grep -h "test accuracy\|error\|failed" /tmp/final/*.log
tar czf "$out/final.tgz" -C /tmp final
