#!/usr/bin/python3
"""paretonas against Optuna on the NAS-Bench-201 tables (issue #45, item 2): table lookup, so the
comparison is of the search alone, at equal evaluation counts.

For each device column of ../shared/benchmarks/nb201/nb201_cifar10.csv and each seed:
  paretonas   `paretonas search --config experiments/nb201_table.yaml` (its shipped settings:
              NSGA-II with surrogates, dedup canonical_raw, reject_disconnected, remeasure_front)
  optuna_nsga2  optuna.samplers.NSGAIISampler(seed)
  optuna_tpe    optuna.samplers.TPESampler(multivariate=True, seed)
Optuna chooses the six edge operations of the cell (5 choices each: the table's 15,625 cells) and
the objective looks the cell up (CIFAR-10 accuracy, max; the device's latency, min). Its budget
counts distinct cells, as paretonas's does: a cell Optuna proposes again is answered from a cache
and not counted (a user would not train it twice), with at most 10x the budget in trials.
Reported at 300 and 1,000 evaluations (the first N distinct cells of one run: neither side knows
its budget in advance): the share of the table's exact Pareto front (its cells) that was
evaluated, and the hypervolume of the evaluated set's front over the exact front's, in a box from
the table's worst accuracy and worst latency.

Usage: /usr/bin/python3 bench/vs_optuna/nb201.py PARETONAS [--seeds 10] [--devices a,b] [--budgets 300,1000]
       [--out DIR] [--arms paretonas,optuna_nsga2,optuna_tpe]
Needs Debian's python3-optuna (scripts/install-deps.sh --with-bench)."""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from int8_search import hv  # noqa: E402  (the benches' one 2-D hypervolume)
sys.path.insert(0, HERE)
from nb201_cell import OPS, arch_key  # noqa: E402
TABLE = os.path.join(REPO, "..", "shared", "benchmarks", "nb201", "nb201_cifar10.csv")
DEVICES = ["fpga_ms", "gold_6226_ms", "titan_rtx_256_ms", "pixel3_ms"]


def load_table():
    rows = {}
    with open(TABLE) as f:
        for r in csv.DictReader(f):
            rows[r["arch_string"]] = (float(r["cifar10_test_acc"]), {d: float(r[d]) for d in DEVICES})
    return rows


def pareto(points):
    """Keys of the non-dominated (accuracy max, latency min) points of {key: (acc, lat)}."""
    items = sorted(points.items(), key=lambda kv: (kv[1][1], -kv[1][0]))
    front, best = [], -1e300
    for k, (a, l) in items:
        if a > best:
            front.append(k)
            best = a
    # equal points are all on the front
    vals = {points[k] for k in front}
    return {k for k, p in points.items() if p in vals}


def run_paretonas(binary, device, seed, budget, out):
    run = os.path.join(out, f"paretonas_{device}_s{seed}")
    subprocess.run(["rm", "-rf", run], check=True)
    cmd = [binary, "search", "--config", os.path.join(REPO, "experiments", "nb201_table.yaml"), "--run-dir", run,
           "--seed", str(seed), "--max-evals", str(budget), "--set", f"evaluator.table.latency_column={device}",
           "--set", f"evaluator.table.path={TABLE}", "-q"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    order = []
    with open(os.path.join(run, "trials.jsonl")) as f:
        for line in f:
            t = json.loads(line)
            if t.get("status") == "complete":
                order.append((t["id"], t["arch"]))
    order.sort()
    return [a for _, a in order]


def run_optuna(kind, rows, device, seed, budget):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(seed=seed) if kind == "optuna_nsga2" else \
        optuna.samplers.TPESampler(multivariate=True, seed=seed)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    seen = []
    known = set()

    def objective(trial):
        o = [trial.suggest_categorical(f"edge{i}", OPS) for i in range(6)]
        key = arch_key(o)
        if key not in known:
            known.add(key)
            seen.append(key)
        acc, lat = rows[key]
        return acc, lat[device]

    trials = 0
    while len(seen) < budget and trials < 10 * budget:
        study.optimize(objective, n_trials=min(50, 10 * budget - trials))
        trials += 50
    return seen[:budget]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paretonas")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--devices", default=",".join(DEVICES))
    ap.add_argument("--budgets", default="300,1000")
    ap.add_argument("--arms", default="paretonas,optuna_nsga2,optuna_tpe")
    ap.add_argument("--out", default="/tmp/vs_optuna_nb201")
    a = ap.parse_args()
    if not os.path.exists(TABLE):
        sys.exit(f"nb201.py: {TABLE} is absent (the NAS-Bench-201 tables of ../shared/benchmarks)")
    budgets = [int(b) for b in a.budgets.split(",")]
    arms = a.arms.split(",")
    os.makedirs(a.out, exist_ok=True)
    rows = load_table()
    results = {}  # (device, arm, budget) -> [(share, hv ratio)]
    for device in a.devices.split(","):
        points = {k: (acc, lat[device]) for k, (acc, lat) in rows.items()}
        exact = pareto(points)
        ref_acc = min(p[0] for p in points.values())
        ref_lat = max(p[1] for p in points.values())
        hv_exact = hv([points[k] for k in exact], ref_acc, ref_lat)
        print(f"# {device}: exact front {len(exact)} cells; box accuracy > {ref_acc:.2f}, latency < {ref_lat:.4g}", flush=True)
        for seed in range(1, a.seeds + 1):
            for arm in arms:
                t0 = time.time()
                if arm == "paretonas":
                    seen = run_paretonas(a.paretonas, device, seed, max(budgets), a.out)
                else:
                    seen = run_optuna(arm, rows, device, seed, max(budgets))
                for b in budgets:
                    got = seen[:b]
                    share = len(exact & set(got)) / len(exact)
                    found = {k: points[k] for k in got}
                    h = hv([found[k] for k in pareto(found)], ref_acc, ref_lat) / hv_exact
                    results.setdefault((device, arm, b), []).append((share, h, len(got)))
                print(f"{device} seed {seed} {arm}: {len(seen)} cells in {time.time() - t0:.1f} s; " +
                      ", ".join(f"@{b}: {100 * results[(device, arm, b)][-1][0]:.1f}% of the front" for b in budgets), flush=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"|".join(map(str, k)): v for k, v in results.items()}, f)
    print("\n| device | evaluations | " + " | ".join(f"{arm}: share of front (median) / HV ratio" for arm in arms) +
          " | paretonas / best Optuna share |")
    print("|---|---|" + "---|" * len(arms) + "---|")
    for device in a.devices.split(","):
        for b in budgets:
            med = {arm: (statistics.median(s for s, _, _ in results[(device, arm, b)]),
                         statistics.median(h for _, h, _ in results[(device, arm, b)])) for arm in arms}
            opt = [med[x][0] for x in arms if x.startswith("optuna")]
            ratio = med["paretonas"][0] / max(opt) if "paretonas" in med and opt and max(opt) > 0 else float("nan")
            print(f"| {device} | {b} | " + " | ".join(f"{100 * med[arm][0]:.1f}% / {med[arm][1]:.4f}" for arm in arms) +
                  f" | {ratio:.2f} |")


if __name__ == "__main__":
    main()
