#!/usr/bin/env bash
# Re-times, per seed, the final fronts of bench/int8_search.sh's int8-aware and fp32 searches
# together as int8 models (`latency measure --precision int8`, interleaved, 60 passes in 12 rounds
# each) on a quiet machine, so that the headline compares both fronts' int8 latencies from one
# measurement instead of two runs taken minutes apart (a busy moment in one run inflates its
# numbers). int8_search.py then uses these. Usage: bench/int8_retime.sh BINARY OUT_DIR [SEEDS]
set -uo pipefail
bin=$1
out=$2
seeds=${3:-1 2 3}
src=$(cd "$(dirname "$0")/.." && pwd)
for seed in $seeds; do
  keys=()
  for arm in int8 fp32; do
    while IFS= read -r k; do keys+=(--arch "$k"); done < <(python3 -c "
import csv, sys
for row in csv.DictReader(open('$out/${arm}_s$seed/front.csv')): print(row['arch'])")
  done
  "$bin" latency measure --config "$src/experiments/fashion_mnist_int8.yaml" --precision int8 "${keys[@]}" \
    --repeats 60 --rounds 12 --max-passes 600 --out "$out/retimed_s$seed.csv" >"$out/retimed_s$seed.log" 2>&1
  echo "seed $seed: exit $?, $(( ${#keys[@]} / 2 )) front members re-timed as int8 together, $(date -u +%T)"
done
