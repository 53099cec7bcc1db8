#!/usr/bin/env python3
"""Analyses bench/multi_fidelity_bench.sh's runs: for each seed and arm, the hypervolume of the
front of (top-fidelity validation accuracy, latency) after each generation against the training
images spent so far, and the comparison at equal images.

Budget: the training images each trial processed, all rungs together (the evaluator's
train_images_run per rung; train_images for a single-fidelity trial), plus, for a trial scored by zero-cost proxies (the
pre-screen), the proxies' batch of images (PROXY_BATCH, default 64: one forward and backward
pass, no update), so that a pre-screened search pays for what it looked at. Hypervolume: 2-D, of the
complete (top-rung) trials' front in (100 - val_accuracy, latency_ms), normalised by one reference
box shared by every run of the folder: ideal = the best error and latency seen in any run,
reference = the worst of any run's complete trials, plus 10% of the range. The box moves when
runs are added to the folder, and with it which of two fronts is ahead: HV_BOX="ERR_IDEAL,ERR_REF,
LAT_IDEAL,LAT_REF" (error in %, latency in ms) fixes it.

Time: the same comparison at equal evaluation seconds (the sum of the trials' "seconds", every
rung's: training, validation, latency measurement), which with one worker is the search's wall
time less the search's own overhead. Images count what the issue budgets; seconds count what a
user waits for, including each rung's validation.

Usage: bench/multi_fidelity_hv.py OUT_DIR
"""
import glob
import json
import os
import statistics
import sys


def load(run):
    trials = []
    with open(os.path.join(run, "trials.jsonl")) as f:
        for line in f:
            trials.append(json.loads(line))
    return trials


PROXY_BATCH = int(os.environ.get("PROXY_BATCH", "64"))


def images(t):
    proxy = PROXY_BATCH if "proxy_seconds" in t else 0
    if "curve" in t:
        return proxy + sum(c.get("train_images_run", 0) for c in t["curve"])
    return proxy + t.get("train_images", 0)


def points(trials):
    return [(100 - t["val_accuracy"], t["latency_ms"]) for t in trials
            if t["status"] == "complete" and "val_accuracy" in t and "latency_ms" in t]


def hv2(pts, ideal, ref):
    """Normalised 2-D hypervolume (minimisation) of pts against the box [ideal, ref]."""
    norm = sorted(((a - ideal[0]) / (ref[0] - ideal[0]), (b - ideal[1]) / (ref[1] - ideal[1]))
                  for a, b in pts)
    front, best_y = [], float("inf")
    for x, y in norm:
        if y < best_y and x < 1 and y < 1:
            front.append((x, y))
            best_y = y
    area, prev_y = 0.0, 1.0
    for x, y in front:
        area += (1 - x) * (prev_y - y)
        prev_y = y
    return area


def as_of(t, g):
    """Trial `t` as it stood after generation g, or None when it was proposed later. With a
    promotion pool (fidelity.promotion_pool) a later generation may continue a trial: the rungs
    it trained then (their curve entry's "generation") are not yet spent, and the trial is not
    yet complete."""
    if t["generation"] > g:
        return None
    if "curve" not in t or all(c.get("generation", t["generation"]) <= g for c in t["curve"]):
        return t
    c = [c for c in t["curve"] if c.get("generation", t["generation"]) <= g]
    return {**t, "curve": c, "status": "stopped"}


def seconds(t):
    if "curve" in t:
        return sum(c.get("seconds", 0) for c in t["curve"])
    return t.get("seconds", 0)


def curve(trials, ideal, ref):
    """[(images spent through generation g, hypervolume after g, trained (any rung), complete,
    scored by the pre-screen only, evaluation seconds through g)]."""
    out = []
    gens = sorted({t["generation"] for t in trials} |
                  {c["generation"] for t in trials for c in t.get("curve", []) if "generation" in c})
    for g in gens:
        upto = [u for u in (as_of(t, g) for t in trials) if u is not None]
        out.append((sum(images(t) for t in upto), hv2(points(upto), ideal, ref),
                    sum(t["status"] != "screened" for t in upto),
                    sum(t["status"] == "complete" for t in upto),
                    sum(t["status"] == "screened" for t in upto),
                    sum(seconds(t) for t in upto)))
    return out


IMAGES, SECONDS = 0, 5  # curve()'s columns of what was spent


def hv_at(cv, budget, spent=IMAGES):
    """Hypervolume after the last generation that ended within `budget` images (or seconds)."""
    best = 0.0
    for c in cv:
        if c[spent] <= budget * 1.0001:
            best = c[1]
    return best


def trained_at(cv, budget, spent=IMAGES):
    """Trials trained (any rung) by the last generation that ended within `budget`."""
    return max([c[2] for c in cv if c[spent] <= budget * 1.0001] or [0])


def to_reach(cv, target, spent=IMAGES):
    """Images (or seconds) spent when the hypervolume first reached `target`, or None."""
    return next((c[spent] for c in cv if c[1] >= target - 1e-12), None)


def wall(run):
    # seconds from log.txt is not kept; use the run's trial seconds and the files' times
    start = os.path.getmtime(os.path.join(run, "config.yaml")) if os.path.exists(os.path.join(run, "config.yaml")) else None
    end = os.path.getmtime(os.path.join(run, "trials.jsonl"))
    return end - start if start else float("nan")


def main():
    out = sys.argv[1]
    runs = {}
    for d in sorted(glob.glob(os.path.join(out, "*_seed*"))):
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "trials.jsonl")):
            runs[os.path.basename(d)] = load(d)
    allpts = [p for trials in runs.values() for p in points(trials)]
    lo = [min(p[i] for p in allpts) for i in range(2)]
    hi = [max(p[i] for p in allpts) for i in range(2)]
    ref = [hi[i] + 0.1 * (hi[i] - lo[i]) for i in range(2)]
    if os.environ.get("HV_BOX"):  # a fixed box, so that folders with other runs compare
        e0, e1, l0, l1 = (float(x) for x in os.environ["HV_BOX"].split(","))
        lo, ref = [e0, l0], [e1, l1]
    print(f"reference box: error {lo[0]:.2f}..{ref[0]:.2f} %, latency {lo[1]:.3f}..{ref[1]:.3f} ms")
    seeds = sorted({k.split("_seed")[1] for k in runs})
    labels = sorted({k.split("_seed")[0] for k in runs} - {"sf"})
    for label in labels:
        print(f"\n== {label} vs sf ==")
        compare(out, runs, seeds, label, lo, ref)


def compare(out, runs, seeds, label, lo, ref):
    rows = []
    print("seed | arm | trained (screened) | fully trained | pre-screened only | images (M) | wall (min) | "
          "final HV | HV at SF budget | HV at 1/3 of it | images to reach SF's final HV (share of SF budget)")
    for s in seeds:
        sf, mf = runs.get(f"sf_seed{s}"), runs.get(f"{label}_seed{s}")
        if not sf or not mf:
            continue
        cs, cm = curve(sf, lo, ref), curve(mf, lo, ref)
        budget = cs[-1][0]
        target = cs[-1][1]
        reach = to_reach(cm, target)
        sbudget = cs[-1][SECONDS]
        sreach = to_reach(cm, target, SECONDS)
        for arm, trials, cv in (("sf", sf, cs), (label, mf, cm)):
            d = os.path.join(out, f"{arm}_seed{s}")
            share = "" if arm == "sf" else (
                f"{reach / 1e6:.2f} M ({reach / budget:.2f})" if reach else "not reached")
            print(f"{s} | {arm} | {cv[-1][2]} | {cv[-1][3]} | {cv[-1][4]} | {cv[-1][0] / 1e6:.2f} | {wall(d) / 60:.1f} | "
                  f"{cv[-1][1]:.4f} | {hv_at(cv, budget):.4f} | {hv_at(cv, budget / 3):.4f} | {share}")
        rows.append({"seed": s, "sf_screened": cs[-1][2], "mf_screened_at_budget": trained_at(cm, budget),
                     "sf_hv": target, "mf_hv_at_budget": hv_at(cm, budget),
                     "mf_hv_at_third": hv_at(cm, budget / 3),
                     "reach_share": reach / budget if reach else float("inf"),
                     "sf_seconds": sbudget, "mf_seconds": cm[-1][SECONDS],
                     "mf_screened_at_seconds": trained_at(cm, sbudget, SECONDS),
                     "mf_hv_at_seconds": hv_at(cm, sbudget, SECONDS),
                     "mf_hv_at_third_seconds": hv_at(cm, sbudget / 3, SECONDS),
                     "sf_hv_at_third_seconds": hv_at(cs, sbudget / 3, SECONDS),
                     "reach_share_seconds": sreach / sbudget if sreach else float("inf")})
        print(f"{s} | at equal evaluation seconds: SF {sbudget:.0f} s, {label} {cm[-1][SECONDS]:.0f} s in all; "
              f"{label} screened {rows[-1]['mf_screened_at_seconds']} and reached HV {rows[-1]['mf_hv_at_seconds']:.4f} "
              f"within SF's seconds ({rows[-1]['mf_hv_at_third_seconds']:.4f} at a third of them, SF "
              f"{rows[-1]['sf_hv_at_third_seconds']:.4f}); SF's final HV at "
              + (f"{sreach:.0f} s ({sreach / sbudget:.2f} of SF's seconds)" if sreach else "not reached"))
    if rows:
        med = lambda k: statistics.median(r[k] for r in rows)
        print(f"\nmedian over {len(rows)} seeds: trained at the SF budget: SF {med('sf_screened')}, "
              f"{label} {med('mf_screened_at_budget')} ({med('mf_screened_at_budget') / med('sf_screened'):.2f}x); "
              f"HV at the SF budget: SF {med('sf_hv'):.4f}, {label} {med('mf_hv_at_budget'):.4f} "
              f"(at 1/3 of it: {med('mf_hv_at_third'):.4f}); "
              f"share of the SF budget {label} needed to reach SF's final HV: {med('reach_share'):.2f}")
        print(f"median over {len(rows)} seeds at equal evaluation seconds: SF {med('sf_seconds'):.0f} s, {label} "
              f"{med('mf_seconds'):.0f} s in all; within SF's seconds {label} screened {med('mf_screened_at_seconds')} "
              f"({med('mf_screened_at_seconds') / med('sf_screened'):.2f}x) and reached HV {med('mf_hv_at_seconds'):.4f} "
              f"(SF {med('sf_hv'):.4f}; at a third of them {med('mf_hv_at_third_seconds'):.4f}, SF "
              f"{med('sf_hv_at_third_seconds'):.4f}); share of SF's seconds to reach SF's final HV: "
              f"{med('reach_share_seconds'):.2f}")


if __name__ == "__main__":
    main()
