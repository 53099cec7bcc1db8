#!/usr/bin/env bash
# Multi-fidelity vs single-fidelity search on Fashion-MNIST (experiments/spaces/fmnist_cells.yaml),
# side by side at an equal training budget counted in training images.
#
# Both arms use the recipe of experiments/fashion_mnist_downsampled.yaml (2 epochs on 10,000
# images, batch 64, augmentation; NSGA-II with surrogates, population 10) with the objectives
# validation accuracy and batch-1 CPU latency. The single-fidelity arm trains every candidate
# 2 epochs (generations of 10); the multi-fidelity arm runs successive halving over 2/9, 2/3 and
# 2 epochs (eta 3, generations of 27: 27 -> 9 -> 3), as experiments/fashion_mnist_mf.yaml does.
# Each seed runs both arms at once, one worker (one core) each, so that they share the machine's
# conditions. The budget is the single-fidelity arm's: MAX_EVALS candidates x 2 epochs x 10,000
# images; the multi-fidelity arm gets as many generations as fit in it (its last generation may
# end a little past it; the analysis compares at equal images).
#
# Usage: bench/multi_fidelity_bench.sh PARETONAS OUT_DIR [SEEDS...]   (default seeds 1 2 3)
# Env: MAX_EVALS (default 40). Then: python3 bench/multi_fidelity_hv.py OUT_DIR
set -euo pipefail
bin=$(readlink -f "$1")
out=$(readlink -f "$2")
shift 2
seeds=("$@")
[[ ${#seeds[@]} -gt 0 ]] || seeds=(1 2 3)
max_evals=${MAX_EVALS:-40}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
# One epoch of 10,000 images is 157 steps of 64; a 2-epoch candidate trains 20,096 images.
# A multi-fidelity generation trains 27 x 35 + 9 x (105 - 35) + 3 x (314 - 105) steps.
mf_gen_steps=$((27 * 35 + 9 * 70 + 3 * 209))
mf_gens=$(((max_evals * 314 + mf_gen_steps - 1) / mf_gen_steps))

common() {
  cat <<YAML
seed: $1
space:
  name: $src/experiments/spaces/fmnist_cells.yaml
dataset: {name: fashion_mnist, validation: 5000, train_subset: 10000, augment: true}
training: {epochs: 2, batch_size: 64, lr: 0.1}
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
  sf=$out/sf_seed$seed
  mf=$out/mf_seed$seed
  { echo "name: sf_seed$seed"; common "$seed"
    echo "search: {strategy: nsga2, population: 10, reject_disconnected: true, surrogate: true}"
    echo "budget: {max_evals: $max_evals}"; } >"$out/sf_seed$seed.yaml"
  { echo "name: mf_seed$seed"; common "$seed"
    echo "search: {strategy: nsga2, population: 10, batch: 27, reject_disconnected: true, surrogate: true}"
    echo "fidelity: {resource: epochs, rungs: [0.222222, 0.666667, 2], eta: 3, mode: sync}"
    echo "budget: {max_evals: $((27 * mf_gens))}"; } >"$out/mf_seed$seed.yaml"
  echo "seed $seed: single-fidelity $max_evals candidates, multi-fidelity $mf_gens generations of 27 ($(date -u +%H:%M:%S))"
  for arm in sf mf; do
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
