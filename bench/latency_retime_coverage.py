#!/usr/bin/python3
"""Reads bench/latency_retime_coverage.sh's measurements: for every later re-timing of each
architecture, whether its latency lies inside the first measurement's interval, and how far
apart the two are. Usage: bench/latency_retime_coverage.py OUT_DIR"""
import csv
import glob
import statistics
import sys


def read(path):
    with open(path) as f:
        return {r["arch"]: r for r in csv.DictReader(f)}


out = sys.argv[1]
files = sorted(glob.glob(f"{out}/t*.csv"))
first = read(files[0])
inside = total = 0
ratios, overlap = [], 0
confirmed_inside = confirmed_total = 0
for path in files[1:]:
    now = read(path)
    for arch, r0 in first.items():
        if arch not in now:
            continue
        ms0, lo, hi = float(r0["latency_ms"]), float(r0["latency_ci_low_ms"]), float(r0["latency_ci_high_ms"])
        ms = float(now[arch]["latency_ms"])
        lo1, hi1 = float(now[arch]["latency_ci_low_ms"]), float(now[arch]["latency_ci_high_ms"])
        total += 1
        inside += lo <= ms <= hi
        overlap += not (hi1 < lo or lo1 > hi)
        ratios.append(ms / ms0)
        if r0["noisy"] == "0" and now[arch]["noisy"] == "0":
            confirmed_total += 1
            confirmed_inside += lo <= ms <= hi
dev = sorted(abs(r - 1) for r in ratios)
q = lambda p: dev[min(len(dev) - 1, int(p * len(dev)))]
half = statistics.median((float(r["latency_ci_high_ms"]) - float(r["latency_ci_low_ms"])) / 2 / float(r["latency_ms"])
                         for r in first.values())
print(f"{len(files) - 1} re-timings of {len(first)} architectures ({total} pairs); first measurement's interval: "
      f"median half-width {100 * half:.1f}%")
print(f"re-timed latency inside the first interval: {inside} of {total} = {100 * inside / total:.0f}%; "
      f"the two intervals overlap: {100 * overlap / total:.0f}%")
print(f"where neither was flagged noisy: {confirmed_inside} of {confirmed_total} inside")
print(f"re-timed / first: median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-{max(ratios):.3f}; "
      f"|difference| median {100 * q(0.5):.1f}%, 90th percentile {100 * q(0.9):.1f}%, 95th {100 * q(0.95):.1f}%")
