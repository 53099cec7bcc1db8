#!/usr/bin/env bash
# Scheduling overhead of the MPI evaluator per evaluation, on this machine.
# A table-evaluator search (synthetic table over NB201, every evaluation sleeps COST_MS) with the
# same number of evaluation slots run locally and under mpirun:
#   local 1 worker  vs  mpirun -np 2 (rank 0 + 1 worker rank, 1 slot)
#   local 2 workers vs  mpirun -np 3 (rank 0 + 2 worker ranks, 1 slot each)
# Each configuration RUNS times (median of wall times). The launch cost of mpirun itself
# (`mpirun -np N paretonas --version`, which starts and ends every rank, minus the same binary's
# plain `--version`, which the local run pays too) is measured and subtracted:
# overhead/eval = (mpi - (launch - start) - local) / EVALS.
# Usage: bench/mpi_overhead.sh [RUNS] [EVALS] [COST_MS] [BINARY]
set -euo pipefail
runs=${1:-5}
evals=${2:-400}
cost=${3:-20}
bin=${4:-build/experiments/paretonas}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)

source "$(dirname "$0")/../tests/table_fixture.sh"
table_experiment "$bin" "$tmp" exp 1 20 1 "$cost" "$evals"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
timed() {  # prints wall seconds of "$@"
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}

declare -A med
for conf in local1 mpi2 local2 mpi3 launch2 launch3 start; do
  : >"$tmp/$conf.times"
done
for ((r = 1; r <= runs; r++)); do  # interleaved, so that drift of the machine hits all alike
  rm -rf "$tmp/run"; timed "$bin" search --config "$tmp/exp.yaml" --run-dir "$tmp/run" -q >>"$tmp/local1.times"
  rm -rf "$tmp/run"; timed "${mpi[@]}" -np 2 "$bin" search --config "$tmp/exp.yaml" --run-dir "$tmp/run" -q >>"$tmp/mpi2.times"
  cp "$tmp/run/trials.jsonl" "$tmp/mpi2.trials"
  rm -rf "$tmp/run"; timed "$bin" search --config "$tmp/exp.yaml" --run-dir "$tmp/run" --set evaluator.workers=2 -q >>"$tmp/local2.times"
  cp "$tmp/run/trials.jsonl" "$tmp/local2.trials"
  rm -rf "$tmp/run"; timed "${mpi[@]}" -np 3 "$bin" search --config "$tmp/exp.yaml" --run-dir "$tmp/run" -q >>"$tmp/mpi3.times"
  cmp -s "$tmp/run/trials.jsonl" "$tmp/local2.trials" || { echo "mpi_overhead: 3-rank trials differ from the local run" >&2; exit 1; }
  cmp -s "$tmp/mpi2.trials" "$tmp/local2.trials" || { echo "mpi_overhead: 2-rank trials differ from the local run" >&2; exit 1; }
  timed "${mpi[@]}" -np 2 "$bin" --version >>"$tmp/launch2.times"
  timed "${mpi[@]}" -np 3 "$bin" --version >>"$tmp/launch3.times"
  timed "$bin" --version >>"$tmp/start.times"
  echo "run $r: local1 $(tail -1 "$tmp/local1.times") mpi2 $(tail -1 "$tmp/mpi2.times") local2 $(tail -1 "$tmp/local2.times") mpi3 $(tail -1 "$tmp/mpi3.times") s"
done
for conf in local1 mpi2 local2 mpi3 launch2 launch3 start; do
  med[$conf]=$(median <"$tmp/$conf.times")
done
ideal1=$(echo "$evals * $cost / 1000" | bc -l)
ideal2=$(echo "$ideal1 / 2" | bc -l)
printf '%s evaluations of %s ms each, population 20, median of %s runs (wall seconds)\n' "$evals" "$cost" "$runs"
extra2=$(echo "${med[launch2]} - ${med[start]}" | bc -l)
extra3=$(echo "${med[launch3]} - ${med[start]}" | bc -l)
printf '  1 slot:  local %.3f  mpirun -np 2 %.3f (launch adds %.3f)  ideal %.3f\n' "${med[local1]}" "${med[mpi2]}" "$extra2" "$ideal1"
printf '  2 slots: local %.3f  mpirun -np 3 %.3f (launch adds %.3f)  ideal %.3f\n' "${med[local2]}" "${med[mpi3]}" "$extra3" "$ideal2"
printf '  overhead per evaluation vs local, launch subtracted: 1 worker rank %.3f ms, 2 worker ranks %.3f ms\n' \
  "$(echo "(${med[mpi2]} - $extra2 - ${med[local1]}) * 1000 / $evals" | bc -l)" \
  "$(echo "(${med[mpi3]} - $extra3 - ${med[local2]}) * 1000 / $evals" | bc -l)"
printf '  speed-up of 2 worker ranks over 1: %.2fx (local 2 workers over 1: %.2fx)\n' \
  "$(echo "${med[mpi2]} / ${med[mpi3]}" | bc -l)" "$(echo "${med[local1]} / ${med[local2]}" | bc -l)"
printf '  search overhead of the local run itself (vs ideal): 1 slot %.3f ms/eval, 2 slots %.3f ms/eval\n' \
  "$(echo "(${med[local1]} - $ideal1) * 1000 / $evals" | bc -l)" "$(echo "(${med[local2]} - $ideal2) * 1000 / $evals" | bc -l)"
