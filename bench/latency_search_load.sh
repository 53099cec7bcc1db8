#!/usr/bin/env bash
# A multi-fidelity Fashion-MNIST search run idle and the same seed run under load (b) (two busy
# compute threads: every core shared), then both final fronts re-timed on the idle machine
# (`latency measure --front-of RUN --compare`): did the busy machine put other networks on the
# front, and how far were its latencies from the idle re-timing?
#
# Usage: bench/latency_search_load.sh BINARY OUT_DIR [SEEDS] [MAX_EVALS]
#   (then: python3 bench/latency_search_load.py OUT_DIR)
# SEEDS default "1 2 3"; MAX_EVALS default 90 (10 generations of 9 -> 3 -> 1).
set -uo pipefail
bin=$1
out=$2
seeds=${3:-1 2 3}
evals=${4:-90}
src=$(cd "$(dirname "$0")/.." && pwd)
load_gen=${LOAD_GEN:-$src/build/bench/load_gen}
[[ -x $load_gen ]] || { echo "build bench/load_gen first: make bench (or set LOAD_GEN)"; exit 2; }
mkdir -p "$out"
log=$out/bench.log
echo "latency_search_load: $(date -u +%FT%TZ) $(uname -n); seeds $seeds; max_evals $evals" | tee -a "$log"
load_pid=""
stop_load() { [[ -n $load_pid ]] && { kill -TERM "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }; load_pid=""; }
trap stop_load EXIT
for seed in $seeds; do
  for cond in idle b; do
    run=$out/${cond}_s$seed
    rm -rf "$run"
    [[ $cond == b ]] && { "$load_gen" compute 2 7200 >>"$log" 2>&1 & load_pid=$!; sleep 2; }
    t0=$(date +%s)
    "$bin" search --config "$src/experiments/fashion_mnist_mf.yaml" --run-dir "$run" --seed "$seed" \
      --max-evals "$evals" -q >"$run.log" 2>&1
    echo "seed $seed $cond: exit $?, $(( $(date +%s) - t0 )) s, $(date -u +%T)" | tee -a "$log"
    stop_load
  done
  # Both fronts re-timed on the idle machine, one after the other.
  for cond in idle b; do
    "$bin" latency measure --front-of "$out/${cond}_s$seed" --compare --out "$out/${cond}_s$seed.retimed.csv" \
      >"$out/${cond}_s$seed.compare.txt" 2>&1
  done
  "$bin" status "$out/b_s$seed" | grep -E "latency:" | tee -a "$log"
done
echo "done; analyse with: python3 bench/latency_search_load.py $out" | tee -a "$log"
