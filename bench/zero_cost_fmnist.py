#!/usr/bin/env python3
"""Rank correlation of zero-cost proxies with trained validation accuracy, and their cost.

Reads the trials.jsonl of a run of bench/zero_cost/fmnist_proxies.yaml (every trial scored by
the five proxies at initialisation, then trained 2 epochs) and prints, for each proxy and for
the static costs as baselines, Spearman and Kendall tau-b with val_accuracy over the complete
trials, and the median seconds of each proxy per candidate next to one training epoch's
(train_seconds / epochs). Standard library only.

Usage: zero_cost_fmnist.py RUN_DIR/trials.jsonl [EPOCHS=2]
"""
import json
import statistics
import sys


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0
        i = j + 1
    return r


def pearson(a, b):
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    den = (sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b)) ** 0.5
    return num / den if den else float("nan")


def spearman(a, b):
    return pearson(ranks(a), ranks(b))


def kendall(a, b):
    """Kendall tau-b, O(n^2)."""
    conc = disc = ta = tb = 0
    n = len(a)
    for i in range(n):
        for j in range(i + 1, n):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ta += 1
            elif db == 0:
                tb += 1
            elif (da > 0) == (db > 0):
                conc += 1
            else:
                disc += 1
    den = ((conc + disc + ta) * (conc + disc + tb)) ** 0.5
    return (conc - disc) / den if den else float("nan")


def main():
    path = sys.argv[1]
    epochs = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    trials = [json.loads(line) for line in open(path)]
    done = [t for t in trials if t.get("status") == "complete"]
    acc = [t["val_accuracy"] for t in done]
    print(f"{len(done)} complete trials of {len(trials)} in {path}")
    epoch = statistics.median(t["train_seconds"] / epochs for t in done)
    print(f"one training epoch: median {epoch:.2f} s per candidate (1 thread)")
    print(f"{'score':<10} {'spearman':>9} {'kendall':>8} {'finite':>7} {'median s':>9} {'x epoch':>8}")
    for name in ["synflow", "naswot", "snip", "grad_norm", "jacob_cov", "params", "macs"]:
        rows = [(t[name], t["val_accuracy"]) for t in done
                if isinstance(t.get(name), (int, float)) and abs(t[name]) != float("inf")]
        xs, ys = [r[0] for r in rows], [r[1] for r in rows]
        secs = [t[name + "_seconds"] for t in done if name + "_seconds" in t]
        cost = statistics.median(secs) if secs else None
        if cost is not None:
            cost_text = f"{cost:9.4f} {cost / epoch:8.4f}"
        elif name == "grad_norm":
            cost_text = f"{'in snip':>9} {'-':>8}"  # one backward pass gives both
        else:
            cost_text = f"{'static':>9} {'-':>8}"
        print(f"{name:<10} {spearman(xs, ys):9.3f} {kendall(xs, ys):8.3f} {len(rows):7d} {cost_text}")
    print(f"all five proxies: median {statistics.median(t['proxy_seconds'] for t in done):.3f} s per candidate")
    # What a proxy tells beyond size: the accuracy left after a least-squares fit on log(params),
    # against the proxy (a front of accuracy vs cost needs the best at each cost).
    import math
    xs = [math.log(t["params"] + 1) for t in done]
    mx, my = statistics.fmean(xs), statistics.fmean(acc)
    vx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, acc)) / vx if vx else 0.0
    resid = [y - (my + b * (x - mx)) for x, y in zip(xs, acc)]
    print("beyond size (accuracy residual after a fit on log params):")
    for name in ["synflow", "naswot", "snip", "grad_norm", "jacob_cov"]:
        rows = [(t[name], r) for t, r in zip(done, resid)
                if isinstance(t.get(name), (int, float)) and abs(t[name]) != float("inf")]
        print(f"  {name:<10} spearman {spearman([a for a, _ in rows], [r for _, r in rows]):6.3f}")


if __name__ == "__main__":
    main()
