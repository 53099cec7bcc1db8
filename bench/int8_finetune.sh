#!/usr/bin/env bash
# Quantization-aware fine-tuning (deploy.finetune_epochs, issue #43): per seed, two int8-aware
# searches at the same budget on Fashion-MNIST (experiments/fashion_mnist_int8.yaml: fmnist_cells,
# 1 epoch on 4,000 images), side by side:
#   ptq   post-training quantization only (today's default)
#   qat   each candidate fine-tuned FT epochs (default 1) through the simulated int8 network
#         after training, then quantized again
#   ptq_e2  the control: PTQ of candidates trained 1 + FT epochs in fp32 (the same extra epochs
#         spent on ordinary training; fine-tuning an undertrained network also just trains it)
# Generation 0 trains the same architectures with the same seeds in both, so those trials pair
# up: the same fp32 network, its int8 accuracy after PTQ against after fine-tuning.
# Usage: bench/int8_finetune.sh BINARY OUT_DIR [SEEDS] [MAX_EVALS] [FT]; then
#        python3 bench/int8_finetune.py OUT_DIR
set -uo pipefail
bin=$1
out=$2
seeds=${3:-1 2 3}
evals=${4:-96}
ft=${5:-1}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
log=$out/bench.log
echo "int8_finetune: $(date -u +%FT%TZ) $(uname -n); seeds $seeds; max_evals $evals; finetune_epochs $ft; $(git -C "$src" rev-parse --short HEAD)" | tee -a "$log"
for seed in $seeds; do
  for arm in ptq qat ptq_e2; do
    run=$out/${arm}_s$seed
    rm -rf "$run"
    args=(--seed "$seed")
    [[ $arm == qat ]] && args+=(--set "deploy.finetune_epochs=$ft")
    [[ $arm == ptq_e2 ]] && args+=(--set "training.epochs=$((1 + ft))")
    t0=$(date +%s)
    "$bin" search --config "$src/experiments/fashion_mnist_int8.yaml" --run-dir "$run" --max-evals "$evals" \
      "${args[@]}" -q >"$run.log" 2>&1
    echo "seed $seed $arm: exit $?, $(( $(date +%s) - t0 )) s, $(date -u +%T)" | tee -a "$log"
  done
done
echo "done; analyse with: python3 bench/int8_finetune.py $out" | tee -a "$log"
