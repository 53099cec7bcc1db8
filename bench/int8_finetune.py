#!/usr/bin/env python3
"""Analyses bench/int8_finetune.sh's runs: (1) on the same trained networks (the trials both
searches ran with the same architecture and seed), int8 validation accuracy after post-training
quantization against after quantization-aware fine-tuning; (2) the deployed front (int8 accuracy,
int8 latency) of each search at the same number of evaluations, one box a seed, and what each
cost in wall time. Standard library only. Usage: python3 bench/int8_finetune.py OUT_DIR"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from int8_search import front, hv, q  # noqa: E402  (the same front and hypervolume)


def trials(path):
    out = []
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            if t.get("status") == "complete" and "int8_val_accuracy" in t:
                out.append(t)
    return out


def seconds(log, seed, arm):
    for line in open(log):
        if line.startswith(f"seed {seed} {arm}:"):
            return int(line.split(",")[1].split()[0])
    return None


def main(out):
    seeds = sorted({int(d.split("_s")[-1]) for d in os.listdir(out) if d.startswith("qat_s") and os.path.isdir(os.path.join(out, d))})
    log = os.path.join(out, "bench.log")
    print(f"# {out}: seeds {seeds}\n")
    gain, ptq_loss, qat_loss, ft_share = [], [], [], []
    rows = []
    for s in seeds:
        ptq = trials(os.path.join(out, f"ptq_s{s}", "trials.jsonl"))
        qat = trials(os.path.join(out, f"qat_s{s}", "trials.jsonl"))
        e2_path = os.path.join(out, f"ptq_e2_s{s}", "trials.jsonl")
        e2 = trials(e2_path) if os.path.exists(e2_path) else []
        by = {(t["arch"], t.get("seed")): t for t in ptq}
        pairs = 0
        for t in qat:
            p = by.get((t["arch"], t.get("seed")))
            if p is None or p["val_accuracy"] != t["val_accuracy"]:
                continue  # not the same fp32 network
            pairs += 1
            gain.append(t["int8_val_accuracy"] - p["int8_val_accuracy"])
            ptq_loss.append(p["val_accuracy"] - p["int8_val_accuracy"])
            qat_loss.append(t["val_accuracy"] - t["int8_val_accuracy"])
        for t in qat:
            if "int8_finetune_seconds" in t and t.get("train_seconds"):
                ft_share.append(t["int8_finetune_seconds"] / t["train_seconds"])
        pts = {arm: [(t["int8_val_accuracy"], t["int8_latency_ms"]) for t in ts if "int8_latency_ms" in t]
               for arm, ts in (("ptq", ptq), ("qat", qat), ("ptq_e2", e2)) if ts}
        fronts = {arm: [p[i] for i in front(p)] for arm, p in pts.items()}
        union = [p for f in fronts.values() for p in f]  # one box a seed, as int8_search.py's headline
        ref_acc = min(a for a, _ in union) - 1.0
        ref_lat = max(l for _, l in union) * 1.05
        h = {arm: hv(f, ref_acc, ref_lat) for arm, f in fronts.items()}
        rows.append((s, pairs, h["ptq"], h["qat"], h.get("ptq_e2", float("nan")), seconds(log, s, "ptq"),
                     seconds(log, s, "qat"), seconds(log, s, "ptq_e2"), max(a for a, _ in pts["ptq"]),
                     max(a for a, _ in pts["qat"]), max((a for a, _ in pts.get("ptq_e2", [])), default=float("nan"))))
    print(f"1. The same trained networks ({len(gain)} pairs over {len(seeds)} seeds): int8 validation accuracy")
    if gain:
        print(f"   loss under PTQ: median {statistics.median(ptq_loss):.2f} points, worst {max(ptq_loss):.2f}")
        print(f"   loss after fine-tuning: median {statistics.median(qat_loss):.2f} points, worst {max(qat_loss):.2f}")
        print(f"   fine-tuning's gain: median {statistics.median(gain):+.2f} points, range {min(gain):+.2f} .. {max(gain):+.2f};"
              f" {sum(g > 0 for g in gain)} better, {sum(g == 0 for g in gain)} equal, {sum(g < 0 for g in gain)} worse")
    if ft_share:
        print(f"   fine-tuning's time / training's time: median {statistics.median(ft_share):.2f}")
    print("\n2. Deployed front at equal evaluations (one box a seed; int8 latency as each run measured it)")
    print("| seed | pairs | HV ptq | HV qat | HV ptq_e2 | qat/ptq | qat/ptq_e2 | best int8 acc ptq / qat / ptq_e2 | wall s ptq / qat / ptq_e2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios, ratios_e2, walls, walls_e2 = [], [], [], []
    for s, pairs, hp, hq, he, wp, wq, we, bp, bq, be in rows:
        ratios.append(hq / hp if hp > 0 else float("nan"))
        ratios_e2.append(hq / he if he > 0 else float("nan"))
        if wp and wq:
            walls.append(wq / wp)
        if wp and we:
            walls_e2.append(we / wp)
        print(f"| {s} | {pairs} | {hp:.3f} | {hq:.3f} | {he:.3f} | {ratios[-1]:.3f} | {ratios_e2[-1]:.3f} | "
              f"{bp:.2f} / {bq:.2f} / {be:.2f} | {wp} / {wq} / {we} |")
    if ratios:
        print(f"\nHV qat/ptq: median {statistics.median(ratios):.3f}, higher on {sum(r > 1 for r in ratios)} of {len(ratios)} seeds")
        print(f"HV qat/ptq_e2: median {statistics.median(ratios_e2):.3f}, higher on {sum(r > 1 for r in ratios_e2)} of {len(ratios_e2)} seeds")
    if walls:
        print(f"wall time qat/ptq: median {statistics.median(walls):.2f}"
              + (f"; ptq_e2/ptq: median {statistics.median(walls_e2):.2f}" if walls_e2 else ""))


if __name__ == "__main__":
    main(sys.argv[1])
