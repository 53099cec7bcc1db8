#!/usr/bin/env bash
# Where a multi-fidelity search's time goes, rung by rung: training, validation (with a low
# rung's recomputed BatchNorm statistics), latency measurement and the rest.
#
# Runs `paretonas search --config CONFIG` (any experiment with a fidelity section; extra
# arguments go to `search`, e.g. --max-evals 27 --seed 4) into OUT_DIR/run and prints, per rung,
# the mean seconds of an evaluation and of its parts (the results' seconds, train_seconds,
# val_seconds, latency_seconds), then each part's share of all evaluation seconds. With one
# worker those add up to the search's wall time less its own overhead. To compare two builds,
# run them side by side with the same config and seed: the first generation trains the same
# candidates; later ones may differ, since measured latencies steer promotion.
#
# Usage: bench/rung_time_profile.sh PARETONAS CONFIG OUT_DIR [SEARCH ARGS...]
# e.g.   MF_BATCH=9 bench/multi_fidelity_bench.sh ...   (writes OUT/mf_seed4.yaml), then
#        bench/rung_time_profile.sh build/experiments/paretonas OUT/mf_seed4.yaml /tmp/prof --max-evals 27
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n '2,15p' "$0"; exit 2; }
bin=$(readlink -f "$1")
config=$(readlink -f "$2")
out=$(readlink -f "$3")
shift 3
mkdir -p "$out"
rm -rf "$out/run"
"$bin" search --config "$config" --run-dir "$out/run" -q "$@" >"$out/run.log" 2>&1 || { tail "$out/run.log"; exit 1; }
python3 - "$out/run/trials.jsonl" <<'PY'
import collections, json, sys
parts = ("seconds", "train_seconds", "val_seconds", "latency_seconds")
by_rung = collections.defaultdict(collections.Counter)
for line in open(sys.argv[1]):
    trial = json.loads(line)
    for c in trial.get("curve", []):
        agg = by_rung[c["rung"]]
        agg["n"] += 1
        for k in parts:
            agg[k] += c.get(k, 0.0)
if not by_rung:
    sys.exit("no learning curves in " + sys.argv[1] + ": the experiment has no fidelity section")
total = collections.Counter()
print("rung | evaluations | seconds | train | validation | latency | rest (mean per evaluation)")
for rung, agg in sorted(by_rung.items()):
    n = agg["n"]
    rest = agg["seconds"] - sum(agg[k] for k in parts[1:])
    print(f"{rung} | {n} | " + " | ".join(f"{agg[k] / n:.3f}" for k in parts) + f" | {rest / n:.3f}")
    total.update({k: agg[k] for k in parts})
all_s = total["seconds"]
print(f"all | {sum(a['n'] for a in by_rung.values())} | {all_s:.1f} s: training {total['train_seconds'] / all_s:.0%}, "
      f"validation {total['val_seconds'] / all_s:.0%}, latency {total['latency_seconds'] / all_s:.0%}")
PY
