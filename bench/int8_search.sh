#!/usr/bin/env bash
# The deployed front (issue #43): per seed, three searches at the same budget on Fashion-MNIST
# (experiments/fashion_mnist_int8.yaml: fmnist_cells, 1 epoch on 4,000 images), every candidate
# quantized to int8 after training and measured as the int8 model in all three:
#   int8      objectives int8_val_accuracy, int8_latency_ms (the int8-aware search)
#   fp32      objectives val_accuracy, latency_ms (today's search); its front is then read as
#             deployed, from the int8 metrics of the same trained networks
#   fp32_mm   as fp32 with deploy.calibration: minmax (the two calibrations on the same networks
#             wherever the two searches trained the same architecture with the same seed)
# Usage: bench/int8_search.sh BINARY OUT_DIR [SEEDS] [MAX_EVALS]; then bench/int8_retime.sh BINARY
# OUT_DIR [SEEDS] (both fronts' int8 latencies re-timed together) and python3 bench/int8_search.py OUT_DIR
# ARMS="int8 fp32" leaves the calibration arm out; SETS="training.epochs=3 ..." adds --set overrides
# to every arm (a longer training, a larger population).
set -uo pipefail
bin=$1
out=$2
seeds=${3:-1 2 3}
evals=${4:-96}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
log=$out/bench.log
arms=${ARMS:-int8 fp32 fp32_mm}
sets=()
for kv in ${SETS:-}; do sets+=(--set "$kv"); done
echo "int8_search: $(date -u +%FT%TZ) $(uname -n); seeds $seeds; max_evals $evals; arms $arms; sets ${SETS:-none}; $(git -C "$src" rev-parse --short HEAD)" | tee -a "$log"
fp32_objectives='objectives=[{metric: val_accuracy, goal: max}, {metric: latency_ms, goal: min}]'
for seed in $seeds; do
  for arm in $arms; do
    run=$out/${arm}_s$seed
    rm -rf "$run"
    args=(--seed "$seed" "${sets[@]}")
    [[ $arm != int8 ]] && args+=(--set "$fp32_objectives")
    [[ $arm == fp32_mm ]] && args+=(--set deploy.calibration=minmax)
    t0=$(date +%s)
    "$bin" search --config "$src/experiments/fashion_mnist_int8.yaml" --run-dir "$run" --max-evals "$evals" \
      "${args[@]}" -q >"$run.log" 2>&1
    echo "seed $seed $arm: exit $?, $(( $(date +%s) - t0 )) s, $(date -u +%T)" | tee -a "$log"
  done
done
echo "done; analyse with: python3 bench/int8_search.py $out" | tee -a "$log"
