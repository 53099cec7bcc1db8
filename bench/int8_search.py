#!/usr/bin/env python3
"""Analyses bench/int8_search.sh's runs: int8 against fp32 on the same trained networks, the two
calibrations on the same networks, and the headline: the int8-aware search's deployed front
against today's fp32 search's front read as deployed (int8 accuracy and latency), one box a seed.
Standard library only. Usage: python3 bench/int8_search.py OUT_DIR"""
import json
import os
import statistics
import sys


def trials(path):
    out = []
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            if t.get("status") == "complete" and "int8_val_accuracy" in t and "val_accuracy" in t:
                out.append(t)
    return out


def front(points):
    """Indices of the non-dominated (accuracy max, latency min) points."""
    keep = []
    for i, (a, l) in enumerate(points):
        dominated = any((a2 >= a and l2 <= l and (a2 > a or l2 < l)) for j, (a2, l2) in enumerate(points) if j != i)
        if not dominated:
            keep.append(i)
    return keep


def hv(points, ref_acc, ref_lat):
    """Area dominated by (accuracy, latency) points, above ref_acc and below ref_lat."""
    pts = sorted({p for p in points if p[0] > ref_acc and p[1] < ref_lat}, key=lambda p: p[1])
    area, best = 0.0, ref_acc
    for i, (a, l) in enumerate(pts):
        best = max(best, a)
        nxt = pts[i + 1][1] if i + 1 < len(pts) else ref_lat
        area += (best - ref_acc) * (nxt - l)
    return area


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(p * (len(v) - 1)))))]


def main(out):
    seeds = sorted({int(d.split("_s")[-1]) for d in os.listdir(out) if d.startswith("int8_s") and os.path.isdir(os.path.join(out, d))})
    runs = {(arm, s): trials(os.path.join(out, f"{arm}_s{s}", "trials.jsonl"))
            for s in seeds for arm in ("int8", "fp32", "fp32_mm") if os.path.exists(os.path.join(out, f"{arm}_s{s}", "trials.jsonl"))}
    print(f"# {out}: seeds {seeds}\n")
    # 1. int8 against fp32, the same trained networks (every complete trial of every run with percentile).
    lat_ratio, acc_loss = [], []
    for (arm, s), ts in runs.items():
        if arm == "fp32_mm":
            continue
        for t in ts:
            lat_ratio.append(t["int8_latency_ms"] / t["latency_ms"])
            acc_loss.append(t["val_accuracy"] - t["int8_val_accuracy"])
    print("## int8 against fp32, the same trained networks (percentile calibration)\n")
    print(f"- {len(lat_ratio)} networks; int8 / fp32 latency (batch 1, 1 thread): median {statistics.median(lat_ratio):.3f}, "
          f"range {min(lat_ratio):.3f}-{max(lat_ratio):.3f} (10th-90th percentile {q(lat_ratio, .1):.3f}-{q(lat_ratio, .9):.3f})")
    print(f"- validation accuracy lost to int8 (points): median {statistics.median(acc_loss):.2f}, worst {max(acc_loss):.2f}, "
          f"mean {statistics.mean(acc_loss):.2f}\n")
    # 2. Calibrations: pairs trained alike (same architecture, same seed, same fp32 accuracy).
    print("## min-max against percentile calibration, the same trained networks\n")
    loss_pct, loss_mm = [], []
    for s in seeds:
        a = {(t["arch"], t["seed"]): t for t in runs.get(("fp32", s), [])}
        for t in runs.get(("fp32_mm", s), []):
            u = a.get((t["arch"], t["seed"]))
            if u and u["val_accuracy"] == t["val_accuracy"]:
                loss_pct.append(u["val_accuracy"] - u["int8_val_accuracy"])
                loss_mm.append(t["val_accuracy"] - t["int8_val_accuracy"])
    if loss_pct:
        better = sum(1 for p, m in zip(loss_pct, loss_mm) if p < m)
        worse = sum(1 for p, m in zip(loss_pct, loss_mm) if p > m)
        print(f"- {len(loss_pct)} pairs; accuracy lost: percentile median {statistics.median(loss_pct):.2f} (worst {max(loss_pct):.2f}), "
              f"min-max median {statistics.median(loss_mm):.2f} (worst {max(loss_mm):.2f}); percentile lost less on {better}, more on {worse}\n")
    # 3. The headline.
    # The fronts' int8 latencies re-timed together (bench/int8_retime.sh), where there.
    retimed = {}
    for sd in seeds:
        path = os.path.join(out, f"retimed_s{sd}.csv")
        if os.path.exists(path):
            import csv
            retimed[sd] = {r["arch"]: float(r["latency_ms"]) for r in csv.DictReader(open(path))}
    for label, use in (("as measured in each run", False), ("re-timed together on a quiet machine (bench/int8_retime.sh)", True)):
        if use and not retimed:
            continue
        headline(out, seeds, runs, retimed if use else {}, label)


def headline(out, seeds, runs, retimed, label):
    print(f"## the deployed front: int8-aware search against the fp32 search's front read as int8; int8 latencies {label}\n")
    print("| seed | int8-aware front | fp32 front (as int8) | deployed HV int8-aware | deployed HV fp32 front | ratio | fastest member at equal accuracy, int8-aware / fp32 front |")
    print("|---|---|---|---|---|---|---|")
    ratios, speed = [], []
    for s in seeds:
        a, b = runs.get(("int8", s)), runs.get(("fp32", s))
        if not a or not b:
            continue
        lat = lambda t: retimed.get(s, {}).get(t["arch"], t["int8_latency_ms"])
        pa = [(t["int8_val_accuracy"], t["int8_latency_ms"]) for t in a]
        fa = [(a[i]["int8_val_accuracy"], lat(a[i])) for i in front(pa)]
        fa = [fa[i] for i in front(fa)]
        pb32 = [(t["val_accuracy"], t["latency_ms"]) for t in b]
        fb = [(b[i]["int8_val_accuracy"], lat(b[i])) for i in front(pb32)]
        fb_nd = [fb[i] for i in front(fb)]  # what a user keeps of it, deployed
        union = fa + fb_nd
        ref_acc = min(p[0] for p in union) - 1.0
        ref_lat = max(p[1] for p in union) * 1.05
        ha, hb = hv(fa, ref_acc, ref_lat), hv(fb_nd, ref_acc, ref_lat)
        ratios.append(ha / hb if hb > 0 else float("inf"))
        # At equal accuracy: for every accuracy a member of either front has and both fronts
        # reach, the fastest int8 latency of each front at that accuracy or better.
        top = min(max(p[0] for p in fa), max(p[0] for p in fb_nd))
        levels = sorted({p[0] for p in union if p[0] <= top})
        r = [min(l for acc, l in fa if acc >= lv) / min(l for acc, l in fb_nd if acc >= lv) for lv in levels]
        speed.extend(r)
        print(f"| {s} | {len(fa)} | {len(fb_nd)} of {len(fb)} | {ha:.3f} | {hb:.3f} | {ratios[-1]:.3f} | "
              f"median {statistics.median(r):.3f} over {len(r)} accuracy levels up to {top:.2f}% (range {min(r):.3f}-{max(r):.3f}); "
              f"best accuracy {max(p[0] for p in fa):.2f}% vs {max(p[0] for p in fb_nd):.2f}% |")
    if ratios:
        print(f"\nratio of deployed hypervolumes: median {statistics.median(ratios):.3f} ({', '.join(f'{r:.3f}' for r in ratios)}); "
              f"higher on {sum(1 for r in ratios if r > 1)} of {len(ratios)} seeds")
        print(f"fastest member at equal accuracy, int8-aware / fp32 front: median {statistics.median(speed):.3f} over all "
              f"levels of all seeds (faster at {sum(1 for v in speed if v < 1)}, slower at {sum(1 for v in speed if v > 1)} of {len(speed)})\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/i8b")
