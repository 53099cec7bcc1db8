#!/usr/bin/env python3
"""Analyses bench/latency_search_load.sh's folder: per seed, the search run idle and the one run
under load (b), both fronts re-timed on the idle machine. Reports the fronts' sizes and shared
architectures, the load run's in-search latencies against their idle re-timing (within +-10%,
flagged noisy), and each front's hypervolume with re-timed latencies, in one box for all runs
(minimisation of -val_accuracy, latency_ms, params; box from every front's points, plus 10%).

usage: python3 bench/latency_search_load.py OUT_DIR
"""
import csv
import glob
import json
import os
import statistics
import sys


def hv(points, ref):
    """Exact hypervolume of minimisation points (any dimension, small sets) by slicing."""
    pts = [p for p in points if all(a < r for a, r in zip(p, ref))]
    if not pts:
        return 0.0
    if len(ref) == 1:
        return ref[0] - min(p[0] for p in pts)
    pts.sort(key=lambda p: p[-1])
    total = 0.0
    for i, p in enumerate(pts):
        upper = pts[i + 1][-1] if i + 1 < len(pts) else ref[-1]
        if upper > p[-1]:
            total += (upper - p[-1]) * hv([q[:-1] for q in pts[: i + 1]], ref[:-1])
    return total


def load_run(out, cond, seed):
    run = os.path.join(out, f"{cond}_s{seed}")
    trials = {}
    for line in open(os.path.join(run, "trials.jsonl")):
        t = json.loads(line)
        trials[t["id"]] = t
    front = [int(r["id"]) for r in csv.DictReader(open(os.path.join(run, "front.csv")))]
    retimed = {int(r["trial_id"]): r for r in csv.DictReader(open(os.path.join(out, f"{cond}_s{seed}.retimed.csv")))}
    return trials, front, retimed


def main():
    out = sys.argv[1]
    seeds = sorted({int(f.rsplit("_s", 1)[1]) for f in glob.glob(os.path.join(out, "idle_s*")) if os.path.isdir(f)})
    runs = {}
    for s in seeds:
        for cond in ("idle", "b"):
            try:
                runs[(cond, s)] = load_run(out, cond, s)
            except FileNotFoundError as e:
                print(f"seed {s} {cond}: missing {e.filename}")
    pts = {}
    for key, (trials, front, retimed) in runs.items():
        pts[key] = [(-trials[i]["val_accuracy"], float(retimed[i]["latency_ms"]), trials[i]["params"]) for i in front if i in retimed]
    allp = [p for v in pts.values() for p in v]
    lo = [min(p[k] for p in allp) for k in range(3)]
    hi = [max(p[k] for p in allp) for k in range(3)]
    ref = [h + 0.1 * (h - l if h > l else abs(h) or 1) for l, h in zip(lo, hi)]
    norm = lambda p: tuple((p[k] - lo[k]) / (ref[k] - lo[k]) for k in range(3))
    box = 1.0
    print(f"# {out}: seeds {seeds}; hypervolume of each front with its latencies re-timed idle, one box")
    print("\n| seed | front idle / under (b) | same architectures | HV idle | HV under (b) | (b) run's latencies within +-10% of idle re-timing | flagged noisy in the (b) run |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for s in seeds:
        if ("idle", s) not in runs or ("b", s) not in runs:
            continue
        ti, fi, _ = runs[("idle", s)]
        tb, fb, rb = runs[("b", s)]
        shared = len({ti[i]["arch"] for i in fi} & {tb[i]["arch"] for i in fb})
        h_idle = hv([norm(p) for p in pts[("idle", s)]], [box] * 3)
        h_load = hv([norm(p) for p in pts[("b", s)]], [box] * 3)
        ratios.append(h_load / h_idle if h_idle else float("nan"))
        within = [abs(tb[i]["latency_ms"] / float(rb[i]["latency_ms"]) - 1) <= 0.10 for i in fb if i in rb]
        flagged = sum(1 for i in fb if tb[i].get("latency_noisy", 0) == 1)
        print(f"| {s} | {len(fi)} / {len(fb)} | {shared} | {h_idle:.3f} | {h_load:.3f} | "
              f"{sum(within)} of {len(within)} | {flagged} of {len(fb)} |")
    if ratios:
        print(f"\nHV under (b) / HV idle: median {statistics.median(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
