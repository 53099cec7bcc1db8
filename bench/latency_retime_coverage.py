#!/usr/bin/python3
"""Reads bench/latency_retime_coverage.sh's measurements. For every pair of measurements of an
architecture, an earlier one and a later one (minutes apart), whether the later latency lies
inside the earlier one's interval, and how far apart the two are; apart for the pairs whose
earlier measurement was confirmed (not flagged noisy) and those where both were. Usage: bench/latency_retime_coverage.py OUT_DIR"""
import csv
import glob
import statistics
import sys


def read(path):
    with open(path) as f:
        return {r["arch"]: r for r in csv.DictReader(f)}


out = sys.argv[1]
files = sorted(glob.glob(f"{out}/t*.csv"))
runs = [read(p) for p in files]
stats = {"all": [0, 0, []], "confirmed": [0, 0, []], "both confirmed": [0, 0, []]}
noisy = sum(r["noisy"] == "1" for run in runs for r in run.values())
halves = [(float(r["latency_ci_high_ms"]) - float(r["latency_ci_low_ms"])) / 2 / float(r["latency_ms"])
          for run in runs for r in run.values() if r["noisy"] == "0"]
for i in range(len(runs)):
    for j in range(i + 1, len(runs)):
        for arch, a in runs[i].items():
            b = runs[j].get(arch)
            if b is None:
                continue
            lo, hi, ms = float(a["latency_ci_low_ms"]), float(a["latency_ci_high_ms"]), float(b["latency_ms"])
            kinds = ["all"] + (["confirmed"] if a["noisy"] == "0" else []) + \
                (["both confirmed"] if a["noisy"] == "0" and b["noisy"] == "0" else [])
            for k in kinds:
                stats[k][0] += lo <= ms <= hi
                stats[k][1] += 1
                stats[k][2].append(ms / float(a["latency_ms"]))
total_rows = sum(len(r) for r in runs)
print(f"{len(runs)} measurements of {len(runs[0])} architectures, {noisy} of {total_rows} rows flagged noisy; "
      f"confirmed rows' interval: median half-width {100 * statistics.median(halves):.1f}%" if halves else "")
for k, (inside, n, ratios) in stats.items():
    if not n:
        print(f"{k}: no pairs")
        continue
    dev = sorted(abs(r - 1) for r in ratios)
    qd = lambda p: 100 * dev[min(len(dev) - 1, int(p * len(dev)))]  # noqa: E731
    print(f"{k} earlier measurements: a later re-timing inside the earlier interval {inside} of {n} = "
          f"{100 * inside / n:.0f}%; later / earlier median {statistics.median(ratios):.3f}; |difference| median "
          f"{qd(0.5):.1f}%, 90th percentile {qd(0.9):.1f}%, 95th {qd(0.95):.1f}%")
