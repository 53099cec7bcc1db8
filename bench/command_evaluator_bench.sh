#!/usr/bin/env bash
# The template training script (evaluator.kind: command, experiments/byo/train.py) against the
# built-in trainer, same data (experiments/byo/data.npz), recipe and architectures: accuracies
# side by side, their rank agreement, and the command evaluator's overhead per candidate.
# Usage: bench/command_evaluator_bench.sh [PARETONAS] [SEEDS] [EVALS]  (defaults: build/..., "0 1 2", 12)
# With EVALS = the population (12), both runs evaluate the same generation-0 architectures.
set -euo pipefail
bin=${1:-build/experiments/paretonas}
seeds=${2:-0 1 2}
evals=${3:-12}
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
[[ -f experiments/byo/data.npz ]] || /usr/bin/python3 scripts/export-idx-dataset.py experiments/byo --npz >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/paretonas-command-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
for seed in $seeds; do
  t0=$(date +%s.%N)
  "$bin" search -c experiments/fashion_mnist_quick.yaml -r "$work/builtin-$seed" --seed "$seed" --max-evals "$evals" -q \
    --set dataset.name=numpy --set dataset.path=experiments/byo/data.npz >/dev/null
  t1=$(date +%s.%N)
  "$bin" search -c experiments/byo/fashion_mnist_command.yaml -r "$work/command-$seed" --seed "$seed" --max-evals "$evals" -q >/dev/null
  t2=$(date +%s.%N)
  echo "seed $seed: wall time built-in $(echo "$t1 - $t0" | bc) s, command $(echo "$t2 - $t1" | bc) s"
done
/usr/bin/python3 - "$work" $seeds <<'PY'
import json, statistics, sys
work, seeds = sys.argv[1], sys.argv[2:]
def load(p):
    return {t["arch"]: t for t in map(json.loads, open(p)) if t["status"] == "complete"}
def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0] * len(v)
    for k, i in enumerate(order): r[i] = k
    return r
def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
diffs, rhos, over, exp, per_b, per_c, py_train, cpp_train = [], [], [], [], [], [], [], []
for s in seeds:
    b, c = load(f"{work}/builtin-{s}/trials.jsonl"), load(f"{work}/command-{s}/trials.jsonl")
    common = sorted(set(b) & set(c))
    ab = [b[a]["val_accuracy"] for a in common]
    ac = [c[a]["val_accuracy"] for a in common]
    diffs += [y - x for x, y in zip(ab, ac)]
    rhos.append(spearman(ab, ac))
    print(f"seed {s}: {len(common)} architectures in both; val_accuracy built-in median {statistics.median(ab):.2f}, "
          f"command median {statistics.median(ac):.2f}; Spearman {rhos[-1]:.3f}")
    for a in common:
        t = c[a]
        over.append(t["command_seconds"] - t["train_seconds"])
        exp.append(t["export_seconds"])
        per_c.append(t["seconds"]); per_b.append(b[a]["seconds"])
        py_train.append(t["train_seconds"]); cpp_train.append(b[a]["train_seconds"])
print(f"accuracy difference command - built-in over {len(diffs)} pairs: median {statistics.median(diffs):+.2f} points, "
      f"mean {statistics.mean(diffs):+.2f}, mean |d| {statistics.mean(map(abs, diffs)):.2f}; Spearman median {statistics.median(rhos):.3f}")
print(f"per candidate (medians): built-in evaluation {statistics.median(per_b):.2f} s (training {statistics.median(cpp_train):.2f} s); "
      f"command evaluation {statistics.median(per_c):.2f} s (the script's training loop {statistics.median(py_train):.2f} s, "
      f"the rest of the command: process start, imports, data and model loading, result {statistics.median(over):.2f} s, "
      f"writing the candidate's files {statistics.median(exp):.3f} s)")
PY
