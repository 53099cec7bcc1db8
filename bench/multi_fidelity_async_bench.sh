#!/usr/bin/env bash
# Sync vs async successive halving: how long workers wait at rung barriers. A synthetic table
# over NB201 (tests/table_fixture.sh, with learning-curve columns) stands in for training: each
# top-rung evaluation sleeps COST_MS (default 1000; each result is also fsynced to the journal,
# which costs some ms) and a lower rung its share (1/9, 1/3), so the wall time is
# pure scheduling (no CPU contention: runnable beside other work). The WORKERS are MPI worker
# ranks with one slot each (a TBB pool runs at most as many evaluations as the machine has cores,
# 2 here; sleeping ranks are not limited by cores). Generations of 27 -> 9 -> 3 (eta 3),
# 5 generations, WORKERS in 4 and 8, seeds 1-3; prints wall time, worker utilisation
# (evaluation seconds / (wall x workers)) and the final hypervolume of each run.
# Usage: bench/multi_fidelity_async_bench.sh PARETONAS [COST_MS]
set -euo pipefail
bin=$(readlink -f "$1")
cost=${2:-1000}
work=$(mktemp -d /tmp/paretonas-async-XXXXXX)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../tests/table_fixture.sh"
echo "workers | mode | seed | wall (s) | utilisation | hypervolume | complete"
for workers in 4 8; do
  for seed in 1 2 3; do
    table_experiment "$bin" "$work" exp$seed "$seed" 9 1 "$cost" 135 mf
    for mode in sync async; do
      run=$work/${mode}_${workers}_$seed
      start=$(date +%s.%N)
      mpirun --oversubscribe $([[ $(id -u) -eq 0 ]] && echo --allow-run-as-root) -np $((workers + 1)) \
        "$bin" search --config "$work/exp$seed.yaml" --run-dir "$run" -q --set fidelity.mode=$mode >"$run.log" 2>&1
      end=$(date +%s.%N)
      python3 - "$run" "$start" "$end" "$workers" "$mode" "$seed" <<'PY'
import json, sys
run, start, end, workers, mode, seed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
busy, complete = 0.0, 0
for line in open(run + "/trials.jsonl"):
    t = json.loads(line)
    busy += sum(c["seconds"] for c in t.get("curve", []))
    complete += t["status"] == "complete"
hv = [l for l in open(run + ".log") if "hypervolume" in l][-1].split("hypervolume ")[1].split(",")[0]
wall = end - start
print(f"{workers} | {mode} | {seed} | {wall:.1f} | {busy / (wall * workers):.2f} | {hv} | {complete}")
PY
    done
  done
done
