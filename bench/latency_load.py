#!/usr/bin/env python3
"""Analyses bench/latency_load_bench.sh's folder: for each space, load and build, how many
architectures' latencies under load are within +-10% of the same build's idle numbers, the rank
agreement (Kendall tau) with them, how many the build flagged noisy, and the share that is right
or flagged; the measuring time of each build; and, from every timed pass the new build wrote, how
close several estimators come to their idle values (which estimate to trust under load).

usage: python3 bench/latency_load.py OUT_DIR [--markdown]
"""
import csv
import glob
import os
import statistics
import sys
from collections import defaultdict


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def kendall(a, b):
    c = d = ta = tb = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            x, y = a[i] - a[j], b[i] - b[j]
            if x == 0 and y == 0:
                continue
            if x == 0:
                ta += 1
            elif y == 0:
                tb += 1
            elif (x > 0) == (y > 0):
                c += 1
            else:
                d += 1
    den = ((c + d + ta) * (c + d + tb)) ** 0.5
    return (c - d) / den if den else 1.0


def quantile(v, p):
    s = sorted(v)
    if not s:
        return float("nan")
    pos = p * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def estimators(passes, repeats=30):
    """name -> estimate, from one architecture's passes [(round, wall, cpu, kept)]."""
    allw = [w for _, w, _, _ in passes]
    kept = [w for _, w, _, k in passes if k]
    rounds = defaultdict(list)
    rounds_kept = defaultdict(list)
    for r, w, _, k in passes:
        rounds[r].append(w)
        if k:
            rounds_kept[r].append(w)
    return {
        "median of the first 30 passes (as before)": statistics.median(allw[:repeats]),
        "median of every pass": statistics.median(allw),
        "median of the kept passes (CPU-time filter)": statistics.median(kept) if kept else float("nan"),
        "25th percentile of every pass": quantile(allw, 0.25),
        "10th percentile of every pass": quantile(allw, 0.10),
        "minimum of the round medians": min(statistics.median(v) for v in rounds.values()),
        "minimum of the round medians, kept passes": min(statistics.median(v) for v in rounds_kept.values() if v)
        if any(rounds_kept.values()) else float("nan"),
    }


def read_passes(path):
    rows = defaultdict(list)
    for r in read_csv(path):
        rows[int(r["row"])].append((int(r["round"]), float(r["wall_ms"]), float(r["cpu_ms"]), r["kept"] == "1"))
    return [rows[i] for i in sorted(rows)]


def main():
    out = sys.argv[1]
    md = "--markdown" in sys.argv
    files = glob.glob(os.path.join(out, "*_r*.csv"))
    runs = sorted({int(f.rsplit("_r", 1)[1].split(".")[0]) for f in files if not f.endswith(".passes.csv")})
    spaces = ["fmnist_cells", "mobilenet"]
    conds = ["a", "b", "c", "d"]
    names = {"a": "(a) 1 compute thread", "b": "(b) 2 compute threads", "c": "(c) 4 compute threads",
             "d": "(d) 1 memory thread"}
    times = defaultdict(list)
    if os.path.exists(os.path.join(out, "times.csv")):
        for r in read_csv(os.path.join(out, "times.csv")):
            times[(r["side"], r["space"], r["cond"])].append(float(r["seconds"]))
    print(f"# {out}: runs {runs}")
    print("\n## Each build under load against its own idle numbers (median over runs; each run's value in brackets)\n")
    hdr = "| space | load | build | within +-10% of idle | Kendall tau | flagged noisy | right or flagged | seconds (idle: same build) |"
    print(hdr)
    print("|" + "---|" * 8)
    for space in spaces:
        for cond in conds:
            for side in ["old", "new"]:
                within, taus, flagged, rof = [], [], [], []
                for run in runs:
                    idle_p = os.path.join(out, f"{side}_{space}_idle_r{run}.csv")
                    load_p = os.path.join(out, f"{side}_{space}_{cond}_r{run}.csv")
                    if not (os.path.exists(idle_p) and os.path.exists(load_p)):
                        continue
                    idle, load = read_csv(idle_p), read_csv(load_p)
                    x = [float(r["latency_ms"]) for r in idle]
                    y = [float(r["latency_ms"]) for r in load]
                    fl = [r.get("noisy", "0") == "1" for r in load]
                    ok = [abs(b / a - 1) <= 0.10 for a, b in zip(x, y)]
                    within.append(sum(ok) / len(ok))
                    taus.append(kendall(x, y))
                    flagged.append(sum(fl) / len(fl))
                    rof.append(sum(o or f for o, f in zip(ok, fl)) / len(ok))
                if not within:
                    continue
                def cell(v, pct=True):
                    f = (lambda z: f"{100 * z:.0f}%") if pct else (lambda z: f"{z:.2f}")
                    return f"{f(statistics.median(v))} [{', '.join(f(z) for z in v)}]"
                secs = times.get((side, space, cond), [])
                isecs = times.get((side, space, "idle"), [])
                sec = f"{statistics.median(secs):.1f} (idle {statistics.median(isecs):.1f})" if secs and isecs else "-"
                print(f"| {space} | {names[cond]} | {side} | {cell(within)} | {cell(taus, False)} | "
                      f"{cell(flagged)} | {cell(rof)} | {sec} |")
    print("\n## Estimators on the new build's passes: within +-10% of the same estimator idle, and Kendall tau (median over runs)\n")
    est_names = None
    table = defaultdict(lambda: defaultdict(list))
    for space in spaces:
        for run in runs:
            idle_p = os.path.join(out, f"new_{space}_idle_r{run}.passes.csv")
            if not os.path.exists(idle_p):
                continue
            idle = [estimators(p) for p in read_passes(idle_p)]
            est_names = list(idle[0].keys())
            for cond in conds:
                load_p = os.path.join(out, f"new_{space}_{cond}_r{run}.passes.csv")
                if not os.path.exists(load_p):
                    continue
                load = [estimators(p) for p in read_passes(load_p)]
                for e in est_names:
                    x = [r[e] for r in idle]
                    y = [r[e] for r in load]
                    ok = [abs(b / a - 1) <= 0.10 for a, b in zip(x, y) if a == a and b == b]
                    table[(space, cond)][e].append((sum(ok) / max(1, len(ok)), kendall(x, y)))
    if est_names:
        print("| space | load | " + " | ".join(est_names) + " |")
        print("|" + "---|" * (2 + len(est_names)))
        for (space, cond), per in sorted(table.items()):
            cells = []
            for e in est_names:
                v = per[e]
                cells.append(f"{100 * statistics.median(a for a, _ in v):.0f}% / {statistics.median(t for _, t in v):.2f}")
            print(f"| {space} | {names[cond]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
