#!/usr/bin/python3
"""paretonas against Optuna + PyTorch on Fashion-MNIST at an equal wall-time budget (issue #45).

  fmnist.py run PARETONAS OUT [--seeds 1 2 3] [--seconds 300] [--arms ARM ...]
  fmnist.py analyse PARETONAS OUT [--svg FILE]

`run` writes OUT/data.npz (4,000 training and 2,000 validation images of Fashion-MNIST's training
set, a stratified split seeded 0), OUT/experiment.yaml (bench/vs_optuna/fmnist.yaml pointing at
it), then runs every arm for every seed, one after another, each for --seconds of wall time from
its process start:

  pn        paretonas search, the experiment as shipped (NSGA-II defaults), 2 workers
  pn_best   the same with search.surrogate: true (the setting the README recommends)
  pn_p50    the same with search.population: 50 (Optuna NSGAIISampler's default population)
  nsga2_j1  Optuna NSGAIISampler, n_jobs=1 (PyTorch with 2 intra-op threads)
  nsga2_j2  Optuna NSGAIISampler, n_jobs=2 (two trials at once, 1 thread each)
  tpe_j1, tpe_j2   Optuna TPESampler(multivariate=True), n_jobs 1 or 2

The Optuna objective is what an Optuna user writes: the 6 edge operations as categorical
parameters, the network built in PyTorch (fmnist_net.py, checked below to be paretonas' network),
trained with the same recipe on the same images (SGD, Nesterov momentum 0.9, weight decay 5e-4,
cosine schedule per step, lr 0.2, batch 32, one epoch), validated in eval mode, and timed at batch
1 in eval mode (1 thread, 5 warm-up passes, the median of 30). Disconnected cells are pruned at no
cost (paretonas rejects them too) and a cell proposed again returns its first result (paretonas
caches too): both favour Optuna, not paretonas. Every trial's finish time is recorded (for
paretonas by watching trials.jsonl).

`run` then checks the PyTorch builder against paretonas: parameter counts of 200 random cells
against `paretonas space show`, and outputs against paretonas' own TorchScript export (weights
copied in by name) for 8 trials of the first paretonas run (OUT/check.txt).

`analyse` re-times every architecture any arm trained together, with one method
(`paretonas latency measure`, interleaved rounds), and computes each arm's hypervolume of
(validation accuracy, latency) against wall time from the trials finished by then, with one
reference point for all arms and seeds (accuracy 50%, latency 1.05 x the slowest trained network).
It prints the tables (final HV, when paretonas reaches Optuna's best final HV, HV at equal trial
counts, the two trainers on the cells both trained) and writes OUT/hv.csv and, with --svg, the plot
(to PNG: scripts/render-report.sh FILE.svg FILE.png 760,440, headless chromium)."""
import argparse
import csv
import importlib.util
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

# Debian's NumPy, PyTorch and Optuna live in /usr/bin/python3: run there when `python3` is another one.
if not all(importlib.util.find_spec(m) for m in ("numpy", "torch", "optuna")):
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit("fmnist.py: needs NumPy, PyTorch and Optuna (Debian: python3-numpy python3-torch python3-optuna; "
             "scripts/install-deps.sh --with-bench)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from fmnist_net import Net, initialise  # noqa: E402
from nb201_cell import EDGES, OPS, arch_key, connected, parse_key  # noqa: E402
from int8_search import hv, q  # noqa: E402  (the benches' one 2-D hypervolume)

MEAN, STD = 0.2860, 0.3530  # the built-in Fashion-MNIST constants, given to paretonas in the .npz experiment
RECIPE = {"epochs": 1, "batch_size": 32, "lr": 0.2, "momentum": 0.9, "weight_decay": 5e-4}
ARMS = ["pn", "pn_best", "nsga2_j1", "nsga2_j2", "tpe_j2"]
ALL_ARMS = ARMS + ["tpe_j1", "pn_p50"]
# The --set options of each paretonas arm.
PN_SETS = {"pn": [], "pn_best": ["search.surrogate=true"], "pn_p50": ["search.population=50"]}
REF_ACC = 50.0


def bad_input(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------- data
def write_data(out, per_class=(400, 200)):
    """OUT/data.npz: a stratified sample of Fashion-MNIST's training images, per_class = (training,
    held-out) images a class (default: this benchmark's 4,000 / 2,000)."""
    path = os.path.join(out, "data.npz")
    if os.path.exists(path):
        return path
    import numpy as np
    spec = importlib.util.spec_from_file_location("idx", os.path.join(ROOT, "scripts", "export-idx-dataset.py"))
    idx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(idx)
    src = "/usr/share/datasets/fashion-mnist"
    shape, raw = idx.read_idx(idx.find(src, "train-images-idx3-ubyte"))
    x = np.frombuffer(raw, np.uint8).reshape(shape)
    _, raw = idx.read_idx(idx.find(src, "train-labels-idx1-ubyte"))
    y = np.frombuffer(raw, np.uint8).astype(np.int64)
    rng = np.random.default_rng(0)
    train, val = [], []
    n_train, n_val = per_class
    for c in range(10):  # stratified: n_train training and n_val validation images per class
        i = np.flatnonzero(y == c)
        rng.shuffle(i)
        val.extend(i[:n_val])
        train.extend(i[n_val:n_val + n_train])
    train, val = np.sort(train), np.sort(val)
    tmp = path + ".tmp.npz"
    np.savez(tmp, x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val])
    os.replace(tmp, path)
    return path


def write_experiment(out, data):
    text = open(os.path.join(HERE, "fmnist.yaml")).read()
    text = text.replace("../../experiments/spaces/fmnist_cells.yaml", os.path.join(ROOT, "experiments/spaces/fmnist_cells.yaml"))
    text = text.replace("path: data.npz", f"path: {data}\n  mean: [{MEAN}]\n  std: [{STD}]")
    path = os.path.join(out, "experiment.yaml")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return path


def load_tensors(data):
    import numpy as np
    import torch
    with np.load(data) as z:
        arrays = {k: z[k] for k in z.files}
    def prep(a):
        return (torch.from_numpy(a).float().unsqueeze(1) / 255.0 - MEAN) / STD
    return (prep(arrays["x_train"]), torch.from_numpy(arrays["y_train"]),
            prep(arrays["x_val"]), torch.from_numpy(arrays["y_val"]))


# -------------------------------------------------------------------------------- Optuna side
def train_and_validate(net, x, y, xv, yv, generator):
    import torch
    import torch.nn.functional as F
    r = RECIPE
    opt = torch.optim.SGD(net.parameters(), lr=r["lr"], momentum=r["momentum"], nesterov=True,
                          weight_decay=r["weight_decay"])
    per_epoch = math.ceil(len(x) / r["batch_size"])
    total = per_epoch * r["epochs"]
    net.train()
    step = 0
    for _ in range(r["epochs"]):
        perm = torch.randperm(len(x), generator=generator)
        for i in range(per_epoch):
            for g in opt.param_groups:
                g["lr"] = 0.5 * r["lr"] * (1 + math.cos(math.pi * step / total))
            idx = perm[i * r["batch_size"]:(i + 1) * r["batch_size"]]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    if not math.isfinite(loss.item()):
        raise RuntimeError(f"diverged: loss {loss.item()}")
    net.eval()
    with torch.no_grad():
        correct = sum((net(xv[i:i + 500]).argmax(1) == yv[i:i + 500]).sum().item() for i in range(0, len(xv), 500))
    return 100.0 * correct / len(xv)


def latency_ms(net, warmup=5, repeats=30):
    import torch
    net.eval()
    x = torch.randn(1, 1, 28, 28)
    with torch.no_grad():
        for _ in range(warmup):
            net(x)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def optuna_arm(a):
    import optuna
    import torch
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import warnings
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    torch.set_num_threads(2 if a.jobs == 1 else 1)  # an Optuna user's choice on 2 cores
    x, y, xv, yv = load_tensors(a.data)
    sampler = (optuna.samplers.NSGAIISampler(seed=a.seed) if a.sampler == "nsga2"
               else optuna.samplers.TPESampler(multivariate=True, seed=a.seed))
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    lock, cache = threading.Lock(), {}
    out = open(a.out, "w")
    counts = {"pruned": 0, "cached": 0}

    def objective(trial):
        ops = [trial.suggest_categorical(f"edge{s}{d}", OPS) for s, d in EDGES]
        key = arch_key(ops)
        if not connected(ops):
            with lock:
                counts["pruned"] += 1
            raise optuna.TrialPruned()
        with lock:
            if key in cache:
                counts["cached"] += 1
                return cache[key]
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + trial.number)
        net = Net(ops)
        initialise(net, g)
        t = time.time()
        acc = train_and_validate(net, x, y, xv, yv, g)
        train_s = time.time() - t
        lat = latency_ms(net)
        with lock:
            cache[key] = (acc, lat)
            out.write(json.dumps({"arch": key, "val_accuracy": acc, "latency_ms": lat, "train_seconds": train_s,
                                  "t": time.time() - a.t0, "trial": trial.number}) + "\n")
            out.flush()
        return acc, lat

    remaining = a.seconds - (time.time() - a.t0)
    study.optimize(objective, n_jobs=a.jobs, timeout=max(1.0, remaining), catch=(RuntimeError,))
    out.close()
    with open(a.out + ".summary.json", "w") as f:
        json.dump({"trials": len(study.trials), **counts, "seconds": time.time() - a.t0}, f)


# ------------------------------------------------------------------------------- paretonas side
def paretonas_arm(binary, experiment, run_dir, seed, seconds, sets, log_path, t0):
    cmd = [binary, "search", "-c", experiment, "-r", run_dir, "--set", f"seed={seed}"]
    for s in sets:
        cmd += ["--set", s]
    with open(log_path, "w") as logf:
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        seen, times = 0, []
        trials = os.path.join(run_dir, "trials.jsonl")
        while True:
            now = time.time() - t0
            if os.path.exists(trials):
                with open(trials) as f:
                    lines = f.readlines()
                for line in lines[seen:]:
                    if line.endswith("\n"):
                        times.append({"id": json.loads(line)["id"], "t": now})
                        seen += 1
            if now >= seconds or p.poll() is not None:
                break
            time.sleep(0.2)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
    with open(os.path.join(run_dir, "finish_times.json"), "w") as f:
        json.dump(times, f)


def run(a):
    if not os.access(a.binary, os.X_OK):
        bad_input(f"fmnist.py run: {a.binary}: not an executable paretonas binary (build it: make)")
    os.makedirs(a.out, exist_ok=True)
    data = write_data(a.out)
    experiment = write_experiment(a.out, data)
    arms = a.arms
    for n, seed in enumerate(a.seeds):
        order = arms[n % len(arms):] + arms[:n % len(arms)]  # rotate, so no arm always runs first
        for arm in order:
            name = os.path.join(a.out, f"{arm}_s{seed}")
            if os.path.exists(name + ".done"):
                log(f"{arm} seed {seed}: done before, kept")
                continue
            log(f"{arm} seed {seed}: {a.seconds} s")
            if os.path.exists(name):
                subprocess.run(["rm", "-rf", name], check=True)
            t0 = time.time()
            if arm.startswith("pn"):
                paretonas_arm(a.binary, experiment, name, seed, a.seconds, PN_SETS[arm], name + ".log", t0)
            else:
                os.makedirs(name)
                sampler, jobs = arm.split("_j")
                with open(name + ".log", "w") as logf:
                    cmd = [sys.executable, os.path.abspath(__file__), "_optuna", "--sampler", sampler, "--jobs", jobs,
                           "--seed", str(seed), "--seconds", str(a.seconds), "--data", data,
                           "--out", os.path.join(name, "trials.jsonl"), "--t0", repr(t0)]
                    subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT, timeout=a.seconds + 600)
            open(name + ".done", "w").close()
            log(f"{arm} seed {seed}: {len(load_arm(a.out, arm, seed, 1e9))} trials finished in {time.time() - t0:.0f} s")
    check(a.binary, a.out, experiment)


def check(binary, out, experiment):
    """The PyTorch builder is paretonas' network: parameter counts and outputs."""
    import torch
    lines = []
    rng = random.Random(0)
    keys = []
    while len(keys) < 200:
        ops = [rng.choice(OPS) for _ in EDGES]
        if connected(ops):
            keys.append(arch_key(ops))
    bad = 0
    for k in keys:
        shown = json.loads(subprocess.run([binary, "space", "show", "--config", experiment, "--arch", k, "--json"],
                                          capture_output=True, text=True, check=True).stdout)
        ours = sum(p.numel() for p in Net(parse_key(k)).parameters())
        bad += ours != shown["params_pruned"]
    lines.append(f"parameter counts: {200 - bad} of 200 random connected cells equal to paretonas' (space show)")
    runs = sorted(d for d in os.listdir(out) if d.startswith("pn_s") and os.path.isdir(os.path.join(out, d)))
    trials = {}
    if runs:  # the first 8 complete trials of the first paretonas run (the others cannot be exported)
        run_dir = os.path.join(out, runs[0])
        for t in map(json.loads, open(os.path.join(run_dir, "trials.jsonl"))):
            if t.get("status") == "complete" and len(trials) < 8:
                trials[str(t["id"])] = t
    if trials:
        ids = list(trials)
        ts = os.path.join(out, "check_ts")
        subprocess.run([binary, "export", run_dir, "--id", *ids, "--format", "torchscript", "-o", ts],
                       capture_output=True, check=True)
        from fmnist_net import load_paretonas_torchscript
        worst = 0.0
        for i in ids:
            net = Net(parse_key(trials[i]["arch"])).eval()
            xin, xout = load_paretonas_torchscript(net, os.path.join(ts, f"arch_{i}.torchscript.pt"))
            with torch.no_grad():
                worst = max(worst, (net(xin) - xout).abs().max().item())
        lines.append(f"outputs: {len(ids)} trials of {runs[0]}, paretonas' TorchScript weights copied in: "
                     f"max |difference| {worst:.3g}")
    else:
        lines.append("outputs: not checked (no paretonas run with a complete trial)")
    with open(os.path.join(out, "check.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# ------------------------------------------------------------------------------------ analysis
def trial_records(out, arm, seed):
    """The complete trials of one run, each with `t`, its finish time from the arm's start (paretonas:
    when the watcher saw it in trials.jsonl; inf for those written after its last look) and `seconds`, its training plus validation time; read once."""
    key = (out, arm, seed)
    if key not in _RECORDS:
        d = os.path.join(out, f"{arm}_s{seed}")
        rows = []
        if arm.startswith("pn"):
            tf = os.path.join(d, "finish_times.json")
            if os.path.exists(tf):
                times = {e["id"]: e["t"] for e in json.load(open(tf))}
                for line in open(os.path.join(d, "trials.jsonl")):
                    t = json.loads(line)
                    if t.get("status") == "complete":  # finished after the watcher's last look: t = inf
                        rows.append(dict(t, t=times.get(t["id"], math.inf), seconds=t["train_seconds"] + t["val_seconds"]))
        elif os.path.exists(os.path.join(d, "trials.jsonl")):
            rows = [dict(t, seconds=t["train_seconds"]) for t in map(json.loads, open(os.path.join(d, "trials.jsonl")))]
        _RECORDS[key] = rows
    return _RECORDS[key]


_RECORDS = {}


def load_arm(out, arm, seed, seconds):
    """[(t, arch, val_accuracy, own latency)] of the trials finished by `seconds`."""
    return sorted((t["t"], t["arch"], t["val_accuracy"], t["latency_ms"])
                  for t in trial_records(out, arm, seed) if t["t"] <= seconds)


def retime(binary, out, archs):
    path = os.path.join(out, "retimed.csv")
    have = {}
    if os.path.exists(path):
        have = {r["arch"]: float(r["latency_ms"]) for r in csv.DictReader(open(path))}
    todo = sorted(set(archs) - set(have))
    if todo:
        log(f"re-timing {len(todo)} architectures together (paretonas latency measure)")
        part = path + ".part.csv"
        args = [x for k in todo for x in ("--arch", k)]
        subprocess.run([binary, "latency", "measure", "--config", os.path.join(out, "experiment.yaml"),
                        "--warmup", "5", "--repeats", "30", *args, "--out", part], check=True,
                       stdout=subprocess.DEVNULL)
        have.update({r["arch"]: float(r["latency_ms"]) for r in csv.DictReader(open(part))})
        with open(path + ".tmp", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["arch", "latency_ms"])
            for k in sorted(have):
                w.writerow([k, have[k]])
        os.replace(path + ".tmp", path)
        os.remove(part)
    return have


def analyse(a):
    if not os.path.isdir(a.out):
        bad_input(f"fmnist.py analyse: {a.out}: no such folder (give the OUT of `fmnist.py run`)")
    dirs = [d for d in os.listdir(a.out) if os.path.isdir(os.path.join(a.out, d)) and "_s" in d and d.split("_s")[0] in ALL_ARMS]
    seeds = sorted({int(d.rsplit("_s", 1)[1]) for d in dirs})
    arms = [arm for arm in ALL_ARMS if any(d.startswith(arm + "_s") for d in dirs)]
    if not arms:
        bad_input(f"fmnist.py analyse: {a.out} holds no arm's run (ARM_sSEED folders of `fmnist.py run`)")
    runs = {(arm, s): load_arm(a.out, arm, s, a.seconds) for arm in arms for s in seeds}
    lat = retime(a.binary, a.out, {r[1] for rows in runs.values() for r in rows})
    ref_lat = 1.05 * max(lat.values())
    norm = (100 - REF_ACC) * ref_lat

    def hv_at(rows, t):
        return hv([(acc, lat[k]) for (tt, k, acc, _) in rows if tt <= t], REF_ACC, ref_lat) / norm

    grid = [a.seconds * i / 60 for i in range(1, 61)]
    curves = {key: [hv_at(rows, t) for t in grid] for key, rows in runs.items()}
    with open(os.path.join(a.out, "hv.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arm", "seed", "seconds", "hv", "trials"])
        for (arm, s), c in curves.items():
            for t, h in zip(grid, c):
                w.writerow([arm, s, f"{t:.1f}", f"{h:.5f}", sum(1 for r in runs[(arm, s)] if r[0] <= t)])
    print(f"# {a.out}: seeds {seeds}, {a.seconds:.0f} s per arm; HV of (val accuracy, re-timed latency), "
          f"reference ({REF_ACC:.0f}%, {ref_lat:.3f} ms), as a share of the box\n")
    print("| arm | " + " | ".join(f"seed {s}: final HV (trials)" for s in seeds) + " | median HV |")
    print("|---|" + "---|" * (len(seeds) + 1))
    for arm in arms:
        cells = [f"{curves[(arm, s)][-1]:.4f} ({len(runs[(arm, s)])})" for s in seeds]
        print(f"| {arm} | " + " | ".join(cells) + f" | {statistics.median(curves[(arm, s)][-1] for s in seeds):.4f} |")
    optuna_arms = [arm for arm in arms if not arm.startswith("pn")]
    for pn in [arm for arm in arms if arm.startswith("pn")]:
        if not optuna_arms:
            break
        fracs, higher = [], 0
        for s in seeds:
            best = max(curves[(o, s)][-1] for o in optuna_arms)
            reach = next((t for t, h in zip(grid, curves[(pn, s)]) if h >= best), None)
            fracs.append(reach / a.seconds if reach is not None else float("inf"))
            higher += curves[(pn, s)][-1] > best
        print(f"\n{pn}: reaches Optuna's best final HV at {', '.join(f'{f:.2f}' if f != float('inf') else 'never' for f in fracs)} "
              f"of the time (median {statistics.median(fracs):.2f}; target <= 0.5); ends higher on {higher} of {len(seeds)} seeds")
    # Proposal quality apart from speed: each arm's HV after its first n trials, n the fewest any arm finished.
    print("\n| arm | " + " | ".join(f"seed {s}: HV after the first {min(len(runs[(x, s)]) for x in arms)} trials" for s in seeds)
          + " | median |")
    print("|---|" + "---|" * (len(seeds) + 1))
    for arm in arms:
        vals = []
        for s in seeds:
            n = min(len(runs[(x, s)]) for x in arms)
            vals.append(hv([(acc, lat[k]) for (_, k, acc, _) in runs[(arm, s)][:n]], REF_ACC, ref_lat) / norm)
        print(f"| {arm} | " + " | ".join(f"{v:.4f}" for v in vals) + f" | {statistics.median(vals):.4f} |")
    print("\n| arm | trials by the end (median) | median train s per trial (own clock) | fastest net on front, ms | best accuracy "
          "| its own latency / the re-timed one (median) |")
    print("|---|---|---|---|---|---|")
    for arm in arms:
        n = statistics.median(len(runs[(arm, s)]) for s in seeds)
        tr = [t["train_seconds"] for s in seeds for t in trial_records(a.out, arm, s)]
        fast = statistics.median(min(lat[k] for (_, k, _, _) in runs[(arm, s)]) for s in seeds if runs[(arm, s)])
        best_acc = statistics.median(max(acc for (_, _, acc, _) in runs[(arm, s)]) for s in seeds if runs[(arm, s)])
        own = statistics.median(l / lat[k] for s in seeds for (_, k, _, l) in runs[(arm, s)])
        print(f"| {arm} | {n:.0f} | {statistics.median(tr) if tr else float('nan'):.2f} | {fast:.3f} | {best_acc:.2f} | {own:.3f} |")
    # The two trainers on the same cells: every cell a paretonas arm and an Optuna arm both trained (any seed);
    # paretonas' seconds are its train_seconds + val_seconds, the objective's its training and validation.
    def per_arch(arm_filter, field):
        d = {}
        for (arm, s) in runs:
            if arm_filter(arm):
                for t in trial_records(a.out, arm, s):
                    d.setdefault(t["arch"], []).append(t[field])
        return {k: statistics.median(v) for k, v in d.items()}
    pa, oa = per_arch(lambda x: x.startswith("pn"), "val_accuracy"), per_arch(lambda x: not x.startswith("pn"), "val_accuracy")
    common = sorted(set(pa) & set(oa))
    if common:
        diff = [pa[k] - oa[k] for k in common]
        print(f"\nthe same cells trained by both ({len(common)}): validation accuracy paretonas - PyTorch: median "
              f"{statistics.median(diff):+.2f} points (quartiles {q(diff, .25):+.2f}, {q(diff, .75):+.2f})")
        pp = per_arch(lambda x: x.startswith("pn"), "seconds")
        for arm in optuna_arms:
            po = per_arch(lambda x: x == arm, "seconds")
            both = set(po) & set(pp)
            if both:
                print(f"  train+validate seconds, paretonas worker / {arm} trial, same cells ({len(both)}): median "
                      f"{statistics.median(pp[k] / po[k] for k in both):.2f}")
    if a.svg:
        write_svg(a.svg, grid, curves, arms, seeds, a.seconds)
        print(f"\nplot: {a.svg}")


COLORS = {"pn": "#1f77b4", "pn_best": "#17becf", "pn_p50": "#2ca02c", "nsga2_j1": "#ff7f0e", "nsga2_j2": "#d62728",
          "tpe_j1": "#bcbd22", "tpe_j2": "#9467bd"}
LABELS = {"pn": "paretonas (default NSGA-II, 2 workers)", "pn_best": "paretonas + surrogates (2 workers)",
          "pn_p50": "paretonas, population 50 (2 workers)",
          "nsga2_j1": "Optuna NSGA-II, n_jobs=1", "nsga2_j2": "Optuna NSGA-II, n_jobs=2",
          "tpe_j1": "Optuna TPE (multivariate), n_jobs=1", "tpe_j2": "Optuna TPE (multivariate), n_jobs=2"}


def write_svg(path, grid, curves, arms, seeds, seconds):
    w, h, l, r, t, b = 760, 440, 70, 250, 40, 50
    lo = min(min(c[5:]) for c in curves.values())
    hi = max(max(c) for c in curves.values())
    lo, hi = lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)
    X = lambda s: l + (w - l - r) * s / seconds  # noqa: E731
    Y = lambda v: t + (h - t - b) * (1 - (v - lo) / (hi - lo))  # noqa: E731
    o = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='12'>",
         f"<rect width='{w}' height='{h}' fill='white'/>",
         f"<text x='{l}' y='22' font-size='14'>Fashion-MNIST, fmnist_cells: hypervolume against wall time ({len(seeds)} seeds; median bold)</text>"]
    for i in range(6):
        v = lo + (hi - lo) * i / 5
        o.append(f"<line x1='{l}' x2='{w - r}' y1='{Y(v):.1f}' y2='{Y(v):.1f}' stroke='#ddd'/>"
                 f"<text x='{l - 6}' y='{Y(v) + 4:.1f}' text-anchor='end'>{v:.3f}</text>")
        s = seconds * i / 5
        o.append(f"<text x='{X(s):.1f}' y='{h - b + 18}' text-anchor='middle'>{s / 60:.0f}</text>")
    o.append(f"<text x='{(l + w - r) / 2}' y='{h - 12}' text-anchor='middle'>minutes of wall time (2 cores)</text>")
    o.append(f"<text x='16' y='{(t + h - b) / 2}' transform='rotate(-90 16 {(t + h - b) / 2})' text-anchor='middle'>hypervolume (share of box)</text>")
    o.append(f"<rect x='{l}' y='{t}' width='{w - l - r}' height='{h - t - b}' fill='none' stroke='#444'/>")
    for n, arm in enumerate(arms):
        for s in seeds:
            pts = " ".join(f"{X(g):.1f},{Y(v):.1f}" for g, v in zip(grid, curves[(arm, s)]) if v >= lo)
            o.append(f"<polyline points='{pts}' fill='none' stroke='{COLORS[arm]}' stroke-opacity='0.35' stroke-width='1'/>")
        med = [statistics.median(curves[(arm, s)][i] for s in seeds) for i in range(len(grid))]
        pts = " ".join(f"{X(g):.1f},{Y(v):.1f}" for g, v in zip(grid, med) if v >= lo)
        o.append(f"<polyline points='{pts}' fill='none' stroke='{COLORS[arm]}' stroke-width='2.5'/>")
        y = t + 14 + 20 * n
        o.append(f"<line x1='{w - r + 12}' x2='{w - r + 34}' y1='{y - 4}' y2='{y - 4}' stroke='{COLORS[arm]}' stroke-width='2.5'/>"
                 f"<text x='{w - r + 40}' y='{y}' font-size='11'>{LABELS[arm]}</text>")
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("binary")
    r.add_argument("out")
    r.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    r.add_argument("--seconds", type=float, default=300)
    r.add_argument("--arms", nargs="+", default=ARMS, choices=ALL_ARMS)
    an = sub.add_parser("analyse")
    an.add_argument("binary")
    an.add_argument("out")
    an.add_argument("--seconds", type=float, default=300)
    an.add_argument("--svg")
    o = sub.add_parser("_optuna")
    for k, t in (("--sampler", str), ("--jobs", int), ("--seed", int), ("--seconds", float), ("--data", str),
                 ("--out", str), ("--t0", float)):
        o.add_argument(k, type=t, required=True)
    a = p.parse_args()
    a.binary = os.path.abspath(a.binary) if hasattr(a, "binary") else None
    if a.cmd == "run":
        run(a)
    elif a.cmd == "analyse":
        analyse(a)
    else:
        optuna_arm(a)


if __name__ == "__main__":
    main()
