#!/usr/bin/env bash
# Does a latency's interval cover a re-timing minutes later (issue #54)? 24 fmnist_cells
# architectures (width 16, 28x28) timed with the search's policy (30 kept passes in 5 interleaved
# rounds, more rounds until +-3%), then the same architectures re-timed every EVERY minutes for
# MINUTES minutes while other work comes and goes: between measurements a compute thread
# (bench/load_gen) runs for a random 0-3 minutes (seeded), besides whatever else the machine runs.
# Usage: bench/latency_retime_coverage.sh BUILD_DIR OUT_DIR [MINUTES=60] [EVERY=5]
# then: python3 bench/latency_retime_coverage.py OUT_DIR
set -uo pipefail
build=$1
out=$2
minutes=${3:-60}
every=${4:-5}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/experiments/paretonas
mkdir -p "$out"
space=(--space "$src/experiments/spaces/fmnist_cells.yaml" --set width=16 --input 1x28x28 --samples 24 --seed 1)
echo "retime: $(date -u +%FT%TZ) $(uname -n) $(git -C "$src" rev-parse --short HEAD); $minutes min, every $every" | tee "$out/log"
"$bin" latency measure "${space[@]}" --out "$out/t000.csv" >>"$out/log" 2>&1
RANDOM=7
start=$(date +%s)
k=0
while (( $(date +%s) - start < minutes * 60 )); do
  k=$((k + 1))
  load=$((RANDOM % 181))  # seconds of one busy compute thread before this re-timing
  "$build/bench/load_gen" compute 1 "$load" >/dev/null 2>&1 &
  lp=$!
  sleep $((every * 60 - 60))
  # The last minute: half the time the load still runs while timing (another program), half not.
  if (( RANDOM % 2 )); then kill "$lp" 2>/dev/null; fi
  sleep 60
  printf -v name 't%03d.csv' "$k"
  echo "$(date -u +%T) re-timing $k (load ${load}s)" >>"$out/log"
  "$bin" latency measure "${space[@]}" --out "$out/$name" >>"$out/log" 2>&1
  kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
done
echo "done $(date -u +%T)" | tee -a "$out/log"
