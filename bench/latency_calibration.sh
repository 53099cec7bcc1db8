#!/usr/bin/env bash
# On-machine latency predictor check (issue #5): for the nb201 proxy of
# experiments/fashion_mnist.yaml and the mobilenet preset, calibrate on 200 random
# architectures, then measure 200 fresh ones (another seed) and evaluate the model on them. The
# noise floor: the fresh architectures measured a second time, compared with the first time.
# Run on an idle machine. ROUNDS: `--rounds` of every measurement (1: each architecture's
# passes back to back, the engine's only way before interleaved rounds, 2026-11-26).
# Usage: bench/latency_calibration.sh [BINARY] [OUT_DIR] [ROUNDS]
set -euo pipefail
bin=${1:-build/experiments/paretonas}
out=${2:-$(mktemp -d)}
rounds=${3:-5}
mkdir -p "$out"
compare() {  # compare A.csv B.csv: the same architectures measured twice
  paste -d, <(tail -n +2 "$1" | cut -d, -f2) <(tail -n +2 "$2" | cut -d, -f2) | awk -F, '
    { d = ($1 > $2 ? $1 / $2 : $2 / $1) - 1; n++; if ($2 / $1 - 1 <= 0.1 && $1 / $2 - 1 <= 0.1) w10++;
      if ($2 / $1 - 1 <= 0.05 && $1 / $2 - 1 <= 0.05) w5++; }
    END { printf "noise floor (same %d architectures measured twice): within +-10%% %.1f%%, within +-5%% %.1f%%\n", n, 100 * w10 / n, 100 * w5 / n }'
}
for space in nb201 mobilenet; do
  if [[ $space == nb201 ]]; then sel=(--config experiments/fashion_mnist.yaml); else sel=(--space mobilenet); fi
  echo "== $space (${sel[*]}, rounds $rounds)"
  start=$(date +%s)
  "$bin" latency calibrate "${sel[@]}" --rounds "$rounds" --samples 200 --seed 0 --out "$out/$space.model" 2>/dev/null
  echo "calibrate: $(( $(date +%s) - start )) s"
  "$bin" latency measure "${sel[@]}" --rounds "$rounds" --samples 200 --seed 1000 --out "$out/$space.fresh.csv" 2>/dev/null >/dev/null
  "$bin" latency measure "${sel[@]}" --rounds "$rounds" --samples 200 --seed 1000 --out "$out/$space.fresh2.csv" 2>/dev/null >/dev/null
  echo "model on 200 fresh architectures:"
  "$bin" latency eval --model "$out/$space.model" --data "$out/$space.fresh.csv" | grep -v "^plot"
  compare "$out/$space.fresh.csv" "$out/$space.fresh2.csv"
  echo "model on the second measurement of the same architectures:"
  "$bin" latency eval --model "$out/$space.model" --data "$out/$space.fresh2.csv" --json
done
echo "files: $out"
