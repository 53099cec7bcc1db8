#!/usr/bin/env bash
# Zero-cost proxies against 2-epoch training on Fashion-MNIST: runs bench/zero_cost/fmnist_proxies.yaml
# (random connected fmnist_cells architectures, each scored by synflow, naswot, snip, grad_norm and
# jacob_cov at initialisation, then trained with fashion_mnist_downsampled.yaml's recipe) into
# OUT_DIR, then prints each proxy's Spearman and Kendall with the validation accuracy and its cost
# next to one training epoch (bench/zero_cost_fmnist.py).
#
# Usage: bench/zero_cost_fmnist_bench.sh PARETONAS OUT_DIR [N=200]
# About 25 minutes for 200 candidates on 2 idle cores.
set -euo pipefail
bin=$(readlink -f "$1")
out=$2
n=${3:-200}
src=$(cd "$(dirname "$0")/.." && pwd)
"$bin" search -c "$src/bench/zero_cost/fmnist_proxies.yaml" -r "$out" --max-evals "$n" -q
python3 "$src/bench/zero_cost_fmnist.py" "$out/trials.jsonl" 2
