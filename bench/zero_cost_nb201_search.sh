#!/usr/bin/env bash
# The pre-screen on the NAS-Bench-201 table: synflow for every cell (zero_cost_nb201_bench,
# about 12 minutes on 2 idle cores), joined to the table as a column, then nb201_search_bench with the
# recorded best search settings against the same plus a pre-screen (80 proposals a generation,
# the best 20 evaluated: by rank on synflow and params, or by the surrogates without and with
# synflow among their features), same seeds, equal evaluations.
#
# Usage: bench/zero_cost_nb201_search.sh BUILD_DIR OUT_DIR LATENCY_COLUMN [SEEDS=30]
# Env: BENCH_MAX_EVALS (300), SEED (synflow's initialisation seed, 1).
set -euo pipefail
build=$(readlink -f "$1")
out=$2
column=$3
seeds=${4:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
table=$src/../shared/benchmarks/nb201/nb201_cifar10.csv
[[ -f $table ]] || { echo "no NB201 table at $table"; exit 2; }
mkdir -p "$out"
if [[ ! -f $out/synflow.csv ]]; then
  "$build/bench/zero_cost_nb201_bench" "$table" 1 2 "$out/synflow.csv.tmp" "${SEED:-1}" | tee "$out/synflow.log"
  mv "$out/synflow.csv.tmp" "$out/synflow.csv"
fi
python3 - "$table" "$out/synflow.csv" "$out/nb201_with_synflow.csv" <<'PY'
import csv, sys
table, synflow, joined = sys.argv[1:]
score = {r["arch_string"]: r["synflow"] for r in csv.DictReader(open(synflow))}
rows = list(csv.reader(open(table)))
key = rows[0].index("arch_string")
with open(joined, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0] + ["synflow"])
    for r in rows[1:]:
        w.writerow(r + [score[r[key]]])
PY
best="nsga2_surrogate:0.5:20:0.9+canonical_raw+connected+remeasure"
export BENCH_MAX_EVALS=${BENCH_MAX_EVALS:-300}
# Two processes side by side: every proposal evaluated and the pre-screen by rank; the
# pre-screen by the surrogates without and with synflow among their features.
"$build/bench/nb201_search_bench" "$out/nb201_with_synflow.csv" "$column" "$seeds" \
  "$best" "$best+prescreen=20:80" >"$out/A.txt" &
"$build/bench/nb201_search_bench" "$out/nb201_with_synflow.csv" "$column" "$seeds" \
  "$best+prescreen_surrogate=20:80" "$best+prescreen_surrogate=20:80:synflow" >"$out/B.txt" &
wait
grep -h "@\|per" "$out/A.txt" "$out/B.txt"
