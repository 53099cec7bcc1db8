#!/usr/bin/env bash
# Latency on a busy machine: the same architectures measured idle and under four reproducible
# background loads, by two builds side by side (typically today's and a new one), so that
# each build's numbers under load can be compared with its own numbers idle.
#
# Usage: bench/latency_load_bench.sh OLD_BINARY NEW_BINARY OUT_DIR [RUNS] [SAMPLES]
#   (then: python3 bench/latency_load.py OUT_DIR)
#
# Loads (bench/load_gen, started and stopped here, each bounded in time):
#   idle: nothing;  a: one busy compute thread (the timing thread still has a core);
#   b: two busy compute threads (every core shared);  c: four busy compute threads (a load
#   average near twice the cores);  d: one memory-bandwidth-bound thread.
# Spaces: fmnist_cells (experiments/spaces/fmnist_cells.yaml, 1x28x28) and mobilenet (1x28x28),
# SAMPLES random architectures each (default 100), the same ones for both builds and all loads.
# Each build runs `latency measure` with its defaults; the new one also writes every timed pass
# (--passes), from which bench/latency_load.py compares estimators. The order of the two builds
# alternates between runs. Everything is logged in OUT_DIR/bench.log.
set -uo pipefail
old=$1
new=$2
out=$3
runs=${4:-3}
samples=${5:-100}
src=$(cd "$(dirname "$0")/.." && pwd)
load_gen=${LOAD_GEN:-$src/build/bench/load_gen}
[[ -x $load_gen ]] || { echo "build bench/load_gen first: make bench (or set LOAD_GEN)"; exit 2; }
mkdir -p "$out"
log=$out/bench.log
echo "latency_load_bench: $(date -u +%FT%TZ) $(uname -n) $(nproc) cores; old $old, new $new; runs $runs, samples $samples" | tee -a "$log"

start_load() {  # start_load CONDITION: starts the load in the background, sets load_pid
  load_pid=""
  case $1 in
    idle) ;;
    a) "$load_gen" compute 1 900 >>"$log" 2>&1 & load_pid=$! ;;
    b) "$load_gen" compute 2 900 >>"$log" 2>&1 & load_pid=$! ;;
    c) "$load_gen" compute 4 900 >>"$log" 2>&1 & load_pid=$! ;;
    d) "$load_gen" memory 1 900 >>"$log" 2>&1 & load_pid=$! ;;
  esac
  [[ -n $load_pid ]] && sleep 2  # let it reach its steady state
  return 0
}
stop_load() {
  [[ -n ${load_pid:-} ]] && { kill -TERM "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }
  load_pid=""
}
trap stop_load EXIT

measure() {  # measure SIDE BIN SPACE COND RUN
  local side=$1 bin=$2 space=$3 cond=$4 run=$5
  local args=(--space "$space" --input 1x28x28 --samples "$samples" --seed "$run")
  [[ $space == fmnist_cells ]] && args=(--space "$src/experiments/spaces/fmnist_cells.yaml" --input 1x28x28 --samples "$samples" --seed "$run")
  local base=$out/${side}_${space}_${cond}_r$run
  local extra=()
  [[ $side == new ]] && extra=(--passes "$base.passes.csv")
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" latency measure "${args[@]}" "${extra[@]}" -o "$base.csv" >>"$log" 2>"$base.err"
  t1=$(date +%s.%N)
  echo "$side,$space,$cond,$run,$(echo "$t1 - $t0" | bc),$(cut -d' ' -f1 /proc/loadavg)" >>"$out/times.csv"
}

[[ -s $out/times.csv ]] || echo "side,space,cond,run,seconds,loadavg1" >"$out/times.csv"
for ((run = 1; run <= runs; run++)); do
  for space in fmnist_cells mobilenet; do
    for cond in idle a b c d; do
      start_load "$cond"
      if ((run % 2)); then
        measure old "$old" "$space" "$cond" "$run"; measure new "$new" "$space" "$cond" "$run"
      else
        measure new "$new" "$space" "$cond" "$run"; measure old "$old" "$space" "$cond" "$run"
      fi
      stop_load
      echo "run $run $space $cond done $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
    done
  done
done
echo "done; analyse with: python3 bench/latency_load.py $out" | tee -a "$log"
