#!/usr/bin/env bash
# Multi-fidelity vs single-fidelity search on Fashion-MNIST (experiments/spaces/fmnist_cells.yaml),
# side by side at an equal training budget counted in training images.
#
# Both arms use the recipe of experiments/fashion_mnist_downsampled.yaml (2 epochs on 10,000
# images, batch 64, augmentation; NSGA-II with surrogates, population 10) with the objectives
# validation accuracy and batch-1 CPU latency. The single-fidelity arm trains every candidate
# 2 epochs (generations of 10); the multi-fidelity arm runs successive halving over 2/9, 2/3 and
# 2 epochs (eta 3, generations of MF_BATCH = 27: 27 -> 9 -> 3; experiments/fashion_mnist_mf.yaml
# uses generations of 9, MF_BATCH=9).
# Each seed runs both arms at once, one worker (one core) each, so that they share the machine's
# conditions. The budget is the single-fidelity arm's: MAX_EVALS candidates x 2 epochs x 10,000
# images; the multi-fidelity arm gets as many generations as fit in it (its last generation may
# end a little past it; the analysis compares at equal images).
#
# Usage: bench/multi_fidelity_bench.sh PARETONAS OUT_DIR [SEEDS...]   (default seeds 1 2 3)
# Env: MAX_EVALS (default 40); TOP_EPOCHS (2): the top fidelity of both arms, the single-fidelity
# arm's training and the last rung (give MF_RUNGS to match when it is not 2); another multi-fidelity variant: MF_LABEL (mf), MF_RUNGS
# ("0.222222, 0.666667, 2"), MF_ETA (3), MF_BATCH (27), MF_RUNG_VALIDATION (training.rung_validation,
# default unset: all held-out images), MF_PROMOTION (fidelity.promotion, default unset: crowding), MF_POOL
# (fidelity.promotion_pool, default unset: 1, this generation only; "all" or a number of generations); ARMS ("sf mf": which arms to run, e.g. "mf" to add a variant
# beside single-fidelity runs already in OUT_DIR).
# The pre-screen (search.prescreen) as another arm: ARMS="sf pre" runs single fidelity beside a
# search that scores PRE_BATCH (40) proposals a generation by zero-cost proxies and trains the
# best 10 by PRE_BY ("[{metric: synflow, goal: max}, {metric: params, goal: min}]"), for the same
# MAX_EVALS trained candidates (PRE_LABEL: pre).
# The pre-screen before the rungs: MF_PRE_BATCH proposals a generation are scored by zero-cost
# proxies and the best MF_BATCH enter the lowest rung, ranked by MF_PRE_BY ("[{metric: snip, goal:
# max}, {metric: params, goal: min}]").
# Then: python3 bench/multi_fidelity_hv.py OUT_DIR
set -euo pipefail
bin=$(readlink -f "$1")
out=$(readlink -f "$2")
shift 2
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2 3)
max_evals=${MAX_EVALS:-40}
top=${TOP_EPOCHS:-2}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
label=${MF_LABEL:-mf}
rungs=${MF_RUNGS:-0.222222, 0.666667, $top}
eta=${MF_ETA:-3}
batch=${MF_BATCH:-27}
rung_validation=${MF_RUNG_VALIDATION:-}
promotion=${MF_PROMOTION:-}
pool=${MF_POOL:-}
mf_pre_batch=${MF_PRE_BATCH:-}
mf_pre_by=${MF_PRE_BY:-}
[[ -n $mf_pre_by ]] || mf_pre_by='[{metric: snip, goal: max}, {metric: params, goal: min}]'
arms=${ARMS:-sf mf}
pre_label=${PRE_LABEL:-pre}
pre_batch=${PRE_BATCH:-40}
pre_by=${PRE_BY:-}
[[ -n $pre_by ]] || pre_by='[{metric: synflow, goal: max}, {metric: params, goal: min}]'
# One epoch of 10,000 images is 157 steps of 64; a 2-epoch candidate trains 314 steps. A
# multi-fidelity generation trains n_r candidates from rung r-1's steps to rung r's, n_0 = batch,
# n_r+1 = max(1, floor(n_r / eta)); it gets as many generations as fit the single-fidelity budget.
mf_gens=$(python3 -c "
import math
rungs = [float(x) for x in '$rungs'.split(',')]
n, prev, steps = $batch, 0, 0
for r in rungs:
    s = round(r * 157); steps += n * (s - prev); prev = s; n = max(1, math.floor(n / $eta + 1e-9))
print(math.ceil($max_evals * round($top * 157) / steps))")

common() {
  cat <<YAML
seed: $1
space:
  name: $src/experiments/spaces/fmnist_cells.yaml
dataset: {name: fashion_mnist, validation: 5000, train_subset: 10000, augment: true}
training: {epochs: $top, batch_size: 64, lr: 0.1${2:-}}
objectives:
  - {metric: val_accuracy, goal: max}
  - {metric: latency_ms, goal: min}
evaluator:
  kind: train
  workers: 1
  threads_per_worker: 1
  latency: {threads: 1, warmup: 10, repeats: 30}
YAML
}

for seed in "${seeds[@]}"; do
  { echo "name: sf_seed$seed"; common "$seed"
    echo "search: {strategy: nsga2, population: 10, reject_disconnected: true, surrogate: true}"
    echo "budget: {max_evals: $max_evals}"; } >"$out/sf_seed$seed.yaml"
  { echo "name: ${label}_seed$seed"; common "$seed" "${rung_validation:+, rung_validation: $rung_validation}"
    echo "search: {strategy: nsga2, population: 10, batch: ${mf_pre_batch:-$batch}, reject_disconnected: true, surrogate: true${mf_pre_batch:+, prescreen: {keep: $batch, by: $mf_pre_by\}}}"
    echo "fidelity: {resource: epochs, rungs: [$rungs], eta: $eta, mode: sync${promotion:+, promotion: $promotion}${pool:+, promotion_pool: $pool}}"
    echo "budget: {max_evals: $((batch * mf_gens))}"; } >"$out/${label}_seed$seed.yaml"
  { echo "name: ${pre_label}_seed$seed"; common "$seed"
    echo "search: {strategy: nsga2, population: 10, batch: $pre_batch, reject_disconnected: true, surrogate: true,"
    echo "         prescreen: {keep: 10, by: $pre_by}}"
    echo "budget: {max_evals: $max_evals}"; } >"$out/${pre_label}_seed$seed.yaml"
  echo "seed $seed: single-fidelity $max_evals candidates, $label $mf_gens generations of $batch ($(date -u +%H:%M:%S))"
  for arm in $arms; do
    [[ $arm == mf ]] && arm=$label
    [[ $arm == pre ]] && arm=$pre_label
    dir=$out/${arm}_seed$seed
    if [[ -f $dir/ended ]] && grep -q finished "$dir/ended"; then continue; fi
    if [[ -f $dir/checkpoint.bin ]]; then
      "$bin" resume "$dir" -q >"$dir.log" 2>&1 &
    else
      rm -rf "$dir"
      "$bin" search --config "$out/${arm}_seed$seed.yaml" --run-dir "$dir" -q >"$dir.log" 2>&1 &
    fi
  done
  wait
  echo "seed $seed done ($(date -u +%H:%M:%S))"
done
