#!/usr/bin/env python3
"""Does the supernet rank sub-networks as standalone training does? (issue #55)

  supernet_ranking.py PARETONAS OUT [--subnets 40] [--ref-epochs 4] [--supernet-epochs 30] [--seeds 1 2]

On the Fashion-MNIST task of bench/vs_optuna/fmnist.py (fmnist_cells at width 16; 4,000 training
and 2,000 held-out images, OUT/data.npz written as there):
- `--subnets` random connected cells (seeded 0), each trained standalone by the PyTorch objective
  that bench/vs_optuna checks to be paretonas' network and recipe: `--ref-epochs` epochs (the
  reference) and 1 epoch (the per-candidate training of that benchmark's searches);
- a supernet per seed: `paretonas supernet train --epochs E --rule R` (auto: the fair rule for a
  cell space), then `paretonas supernet eval` of the same cells (inherited weights, BatchNorm
  recomputed on 2,000 training images, no training);
- with --ref-seeds N, the reference trained N times (other initialisations and batch orders):
  what one training agrees with the mean of the others is the most any scorer can show.
Prints Kendall's tau of each against the reference and the mean reference, between the two
supernet seeds, against the parameter count, and the seconds each way takes per sub-network."""
import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fmnist", os.path.join(HERE, "vs_optuna", "fmnist.py"))
fmnist = importlib.util.module_from_spec(spec)
sys.argv, argv = sys.argv[:1], sys.argv  # fmnist.py re-executes itself under /usr/bin/python3 when needed
spec.loader.exec_module(fmnist)
sys.argv = argv


def kendall(a, b):
    """Kendall's tau-b of two equally long lists (ties in either counted as tau-b does)."""
    n, s, ta, tb = len(a), 0, 0, 0
    for i in range(n):
        for j in range(i + 1, n):
            da, db = a[i] - a[j], b[i] - b[j]
            ta += da == 0
            tb += db == 0
            if da != 0 and db != 0:
                s += 1 if (da > 0) == (db > 0) else -1
    pairs = n * (n - 1) // 2
    den = ((pairs - ta) * (pairs - tb)) ** 0.5
    return s / den if den else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary")
    p.add_argument("out")
    p.add_argument("--subnets", type=int, default=40)
    p.add_argument("--ref-epochs", type=int, default=4)
    p.add_argument("--supernet-epochs", type=int, default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rule", default="auto", help="supernet train --rule")
    p.add_argument("--calibration-images", type=int, default=2000, help="supernet eval --calibration-images")
    p.add_argument("--ref-seeds", type=int, default=2,
                   help="train the reference this many times (other initialisations and orders): their agreement is "
                        "the most any scorer can show; the reference is their mean")
    p.add_argument("--reuse", action="store_true", help="keep a supernet already trained in OUT (same rule and seed)")
    p.add_argument("--train-args", default="", help="more arguments for supernet train (e.g. '--random-subnets 4')")
    p.add_argument("--per-class", type=int, nargs=2, default=None, metavar=("TRAIN", "VAL"),
                   help="training and held-out images per class (default: fmnist.py's 400 and 200); another size "
                        "needs its own OUT")
    p.add_argument("--tag", default="", help="suffix of the supernet folders (variants of one rule)")
    a = p.parse_args()
    import torch
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    data = fmnist.write_data(a.out, tuple(a.per_class)) if a.per_class else fmnist.write_data(a.out)
    experiment = fmnist.write_experiment(a.out, data)
    x, y, xv, yv = fmnist.load_tensors(data)
    rng = random.Random(0)
    cells = []
    while len(cells) < a.subnets:
        ops = [rng.choice(fmnist.OPS) for _ in fmnist.EDGES]
        if fmnist.connected(ops) and fmnist.arch_key(ops) not in [fmnist.arch_key(c) for c in cells]:
            cells.append(ops)
    keys = [fmnist.arch_key(c) for c in cells]

    def standalone(epochs, seed_base=1000):
        fmnist.RECIPE["epochs"] = epochs
        accs, t0 = [], time.time()
        for i, ops in enumerate(cells):
            g = torch.Generator().manual_seed(seed_base + i)
            net = fmnist.Net(ops)
            fmnist.initialise(net, g)
            accs.append(fmnist.train_and_validate(net, x, y, xv, yv, g))
        return accs, (time.time() - t0) / len(cells)

    # The standalone trainings are the same for every supernet variant: kept in OUT, keyed by the cells.
    cache = os.path.join(a.out, f"standalone_{a.subnets}_{a.ref_epochs}.json")
    if os.path.exists(cache):
        with open(cache) as f:
            c = json.load(f)
        ref, ref_s, one, one_s = c["ref"], c["ref_s"], c["one"], c["one_s"]
    else:
        ref, ref_s = standalone(a.ref_epochs)
        one, one_s = standalone(1)
        with open(cache + ".tmp", "w") as f:
            json.dump({"keys": keys, "ref": ref, "ref_s": ref_s, "one": one, "one_s": one_s}, f)
        os.replace(cache + ".tmp", cache)
    print(f"standalone, {a.ref_epochs} epochs (reference): {ref_s:.2f} s per sub-network; 1 epoch: {one_s:.2f} s", flush=True)
    # More trainings of the reference, each with other initial weights and batch orders (cached one file each).
    refs = [ref]
    for r in range(1, a.ref_seeds):
        path = os.path.join(a.out, f"standalone_{a.subnets}_{a.ref_epochs}_seed{r}.json")
        if os.path.exists(path):
            with open(path) as f:
                refs.append(json.load(f)["ref"])
            continue
        accs, secs = standalone(a.ref_epochs, 1000 + 1000 * r)
        with open(path + ".tmp", "w") as f:
            json.dump({"keys": keys, "ref": accs, "ref_s": secs}, f)
        os.replace(path + ".tmp", path)
        refs.append(accs)
    mean_ref = [sum(v) / len(v) for v in zip(*refs)]
    params = [sum(t.numel() for t in fmnist.Net(ops).parameters()) for ops in cells]
    supernets = {}
    for seed in a.seeds:
        d = os.path.join(a.out, f"supernet_{a.rule}{a.tag}_s{seed}")
        t0 = time.time()
        if not (a.reuse and os.path.exists(os.path.join(d, "supernet.pt"))):
            subprocess.run(["rm", "-rf", d], check=True)
            subprocess.run([a.binary, "supernet", "train", "--config", experiment, "--out", d, "--epochs",
                            str(a.supernet_epochs), "--rule", a.rule, "--set", f"seed={seed}"] + a.train_args.split(),
                           check=True, stderr=subprocess.DEVNULL)
        train_s = time.time() - t0
        cmd = [a.binary, "supernet", "eval", d, "--calibration-images", str(a.calibration_images)]
        for k in keys:
            cmd += ["--arch", k]
        t0 = time.time()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split("\n")
        eval_s = (time.time() - t0) / len(keys)
        accs = {line.split("%  ")[1]: float(line.split("%  ")[0]) for line in out if "%  " in line}
        supernets[seed] = [accs[k] for k in keys]
        print(f"supernet seed {seed}: trained in {train_s:.0f} s ({a.supernet_epochs} epochs); {eval_s:.2f} s per "
              f"sub-network scored; Kendall tau vs reference {kendall(supernets[seed], ref):.3f}", flush=True)
    print(f"\nrule {a.rule}, BatchNorm recomputed on {a.calibration_images} training images")
    print(f"{len(keys)} random connected cells of fmnist_cells (width 16), Fashion-MNIST {len(x):,}/{len(xv):,} images")
    print(f"Kendall tau against standalone {a.ref_epochs}-epoch training:")
    print(f"  standalone 1 epoch (per-candidate search): {kendall(one, ref):.3f}")
    for seed in a.seeds:
        print(f"  supernet seed {seed} ({a.supernet_epochs} epochs), inherited weights: {kendall(supernets[seed], ref):.3f}")
    if len(refs) >= 2:
        for i in range(len(refs)):
            others = [r for j, r in enumerate(refs) if j != i]
            print(f"  reference training {i + 1} against the mean of the others: "
                  f"{kendall(refs[i], [sum(v) / len(v) for v in zip(*others)]):.3f}")
        print(f"  the reference trained again ({len(refs) - 1} other initialisations and orders): "
              + ", ".join(f"{kendall(r, ref):.3f}" for r in refs[1:]) + "   <- the most a scorer can agree with one training")
        print(f"Kendall tau against the mean of the {len(refs)} reference trainings:")
        print(f"  standalone 1 epoch: {kendall(one, mean_ref):.3f}")
        for seed in a.seeds:
            print(f"  supernet seed {seed}: {kendall(supernets[seed], mean_ref):.3f}")
    print("Kendall tau against the parameter count (what each order owes to size):")
    print(f"  reference: {kendall(ref, params):.3f}" + (f", mean reference {kendall(mean_ref, params):.3f}" if len(refs) >= 2 else "")
          + f", 1 epoch {kendall(one, params):.3f}, "
          + ", ".join(f"supernet s{s} {kendall(v, params):.3f}" for s, v in supernets.items()))
    if len(a.seeds) >= 2:
        print(f"  between the supernet seeds {a.seeds[0]} and {a.seeds[1]}: {kendall(supernets[a.seeds[0]], supernets[a.seeds[1]]):.3f}")
    print(f"accuracy ranges: reference {min(ref):.1f}-{max(ref):.1f}%, 1 epoch {min(one):.1f}-{max(one):.1f}%, "
          + ", ".join(f"supernet s{s} {min(v):.1f}-{max(v):.1f}%" for s, v in supernets.items()))


if __name__ == "__main__":
    main()
