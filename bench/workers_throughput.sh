#!/usr/bin/env bash
# Candidates per hour on this machine: 1 worker x 1 thread, 1 worker x 2 threads, 2 workers x 1
# thread, training the same 12 architectures (the first generation of fashion_mnist_quick.yaml,
# latency measurement included). Usage: bench/workers_throughput.sh [RUNS] [BINARY]
set -euo pipefail
runs=${1:-3}
bin=${2:-build/experiments/paretonas}
cfg=experiments/fashion_mnist_quick.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for conf in "1 1" "1 2" "2 1"; do
  set -- $conf
  for ((r = 1; r <= runs; r++)); do
    rm -rf "$tmp/run"
    start=$(date +%s.%N)
    "$bin" search --config "$cfg" --run-dir "$tmp/run" -q --max-evals 12 \
      --set search.population=12 --set evaluator.workers=$1 --set evaluator.threads_per_worker=$2 >/dev/null
    end=$(date +%s.%N)
    echo "workers=$1 threads_per_worker=$2 run $r: $(echo "$end - $start" | bc) s for 12 candidates"
  done
done
