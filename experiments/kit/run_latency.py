#!/usr/bin/env python3
"""Times every model of a paretonas latency kit on this device, at batch 1, and writes the CSV
that `paretonas latency fit` reads. Needs nothing of paretonas: Python 3 with NumPy and either
ONNX Runtime (pip install onnxruntime) or PyTorch.

usage: python3 run_latency.py [--backend auto|onnxruntime|torch] [--threads 1] [--warmup 10]
                              [--repeats 50] [--rounds 5] [--target 0.03] [--max-seconds 2]
                              [--keep-descheduled] [--out latency.csv]

Each model gets --warmup untimed passes, then --repeats timed passes spread over --rounds rounds
that visit every model in turn (so that the device's drift, thermal or otherwise, hits all models
alike). A pass during which this thread lost its core (its wall time well above the CPU time it
got: another program ran) is not counted and runs again. Models whose median is not yet known
to within +-target (95% interval) get more rounds, up to --max-seconds of timing each; what is
still wider then is flagged noisy, and the script says which rows. The CSV has columns key,
latency_ms, latency_iqr_ms, latency_ci_low_ms, latency_ci_high_ms, passes, discarded, noisy;
latency.json beside it records the backend, its version, the thread count, the machine, the
settings and the load average. When the kit has per-op models (ops.csv), they are timed the same way
into ops_latency.csv (columns op, latency_ms, latency_iqr_ms). An int8 kit (kit.json: "precision":
"int8", `latency kit --precision int8`) runs as it is in ONNX Runtime (QDQ models: its int8 kernels);
with PyTorch the script first sets the quantized engine (kit.json's int8_engine where this PyTorch
has it, else qnnpack, x86, fbgemm or onednn) and records it in latency.json.
Then, on the machine with paretonas:
  paretonas latency fit --space SPACE [--set ...] [--input CxHxW] --data latency.csv \\
      --key-column key [--ops ops_latency.csv] --out device.model [--prior other_device.model ...]
"""
import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time


def load_csv(kit, name):
    path = os.path.join(kit, name)
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def kit_spec(kit):
    """kit.json: what the kit was exported for ({} for a kit from before it)."""
    path = os.path.join(kit, "kit.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def int8_engine(torch, wanted):
    """Sets PyTorch's quantized engine for an int8 kit before its models load (their weights are
    packed anew for it on load): the engine paretonas packed them for where this PyTorch has it,
    else the first it has of qnnpack (ARM), x86, fbgemm, onednn. Returns its name."""
    have = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    for e in [wanted, "qnnpack", "x86", "fbgemm", "onednn"]:
        if e and e in have:
            torch.backends.quantized.engine = e
            return e
    sys.exit(f"run_latency: this is an int8 kit, and this PyTorch has no quantized engine "
             f"(supported_engines: {torch.backends.quantized.supported_engines}); use --backend onnxruntime")


def steady_allocator():
    """glibc only: fixed malloc thresholds (mmap 32 MiB, trim 256 MiB), as paretonas's own timing
    sets them. By default glibc serves activation-sized blocks with mmap and page-faults them in
    on every pass until the process happens to free one; measured here on 200 mobilenet models,
    two runs of this script agreed within ±10% on 67.5% of them with glibc's default and on 99.5%
    with fixed thresholds. Returns whether it applied (False elsewhere, e.g. Android's bionic)."""
    import ctypes
    import ctypes.util
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 256 << 20))
    except (OSError, AttributeError):
        return False


def make_runs(kit, rows, backend, threads):
    """One callable per row: a batch-1 forward pass of its model on zeros of its input shape."""
    import numpy as np
    runs = []
    if backend == "onnxruntime":
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        for r in rows:
            if not r["onnx"]:
                sys.exit("run_latency: the kit has no ONNX files (its paretonas was built without ONNX); use --backend torch")
            s = ort.InferenceSession(os.path.join(kit, r["onnx"]), opts, providers=["CPUExecutionProvider"])
            x = np.zeros([1] + [int(v) for v in r["input"].split("x")], np.float32)
            name = s.get_inputs()[0].name
            runs.append(lambda s=s, x=x, name=name: s.run(None, {name: x}))
    else:
        import torch
        for r in rows:
            m = torch.jit.load(os.path.join(kit, r["torchscript"])).eval()
            x = torch.zeros([1] + [int(v) for v in r["input"].split("x")])
            def run(m=m, x=x):
                with torch.no_grad():
                    return m(x)
            runs.append(run)
    return runs


def descheduled(wall_ms, cpu_ms, a):
    """Whether this thread lost its core during a pass (wall time above the CPU time it got by
    more than 10% and 0.05 ms). Not with several threads: the others' work is not this thread's."""
    return not a.keep_descheduled and a.threads == 1 and wall_ms > cpu_ms * 1.10 + 0.05


def median_interval(sorted_ms):
    """The 95% distribution-free interval of the median (order statistics n/2 -+ 0.98 sqrt(n))."""
    n = len(sorted_ms)
    if n < 6:
        return (sorted_ms[0], sorted_ms[-1]) if n else (0.0, 0.0)
    k = max(0, int(0.5 * n - 0.98 * n ** 0.5))
    return sorted_ms[k], sorted_ms[n - 1 - k]


class Log:
    """One model's passes: kept ones, how many were discarded, seconds spent timing."""
    def __init__(self):
        self.kept, self.discarded, self.seconds, self.rounds = [], 0, 0.0, 0
        self.passes = []  # every timed pass as (wall ms, cpu ms), kept or not

    def estimate_passes(self):
        """The kept passes; when every pass was descheduled, the least affected quarter of them
        (smallest wall / cpu): never an empty estimate while a pass ran (flagged noisy)."""
        if self.kept or not self.passes:
            return sorted(self.kept), False
        by_excess = sorted(self.passes, key=lambda p: p[0] / p[1] if p[1] > 0 else p[0] + 1e9)
        return sorted(w for w, _ in by_excess[:max(1, len(by_excess) // 4)]), True

    def precise(self, a):
        if len(self.kept) < a.repeats:
            return False
        s = sorted(self.kept)
        lo, hi = median_interval(s)
        med = statistics.median(s)
        return med > 0 and (hi - lo) / 2 / med <= a.target

    def wants_more(self, a):
        return a.target > 0 and not self.precise(a) and self.seconds < a.max_seconds and \
            len(self.kept) + self.discarded < a.max_passes


def time_all(runs, a, what):
    """Per run, the kept timed passes: --warmup untimed passes first, then --repeats timed passes
    spread over --rounds rounds that visit every run in turn, alternating direction (a
    descheduled pass replaced, at most 3 tries a pass); then more rounds for the runs not yet
    within +-target, together, until each is or reaches its caps."""
    for run in runs:
        for _ in range(a.warmup):
            run()
    logs = [Log() for _ in runs]

    def visit(i, want, rewarm):
        log = logs[i]
        for _ in range(rewarm):
            runs[i]()
        log.rounds += 1
        kept = tries = 0
        while kept < want and tries < 3 * want and len(log.kept) + log.discarded < a.max_passes:
            tries += 1
            c0, t0 = time.thread_time(), time.perf_counter()
            runs[i]()
            t1, c1 = time.perf_counter(), time.thread_time()
            wall, cpu = (t1 - t0) * 1000.0, (c1 - c0) * 1000.0
            log.seconds += wall / 1000.0
            log.passes.append((wall, cpu))
            if descheduled(wall, cpu, a):
                log.discarded += 1
            else:
                log.kept.append(wall)
                kept += 1

    per_round = [a.repeats // a.rounds + (1 if k < a.repeats % a.rounds else 0) for k in range(a.rounds)]
    for k in range(a.rounds):
        order = range(len(runs)) if k % 2 == 0 else reversed(range(len(runs)))
        for i in order:
            visit(i, per_round[k], 0 if k == 0 else min(a.warmup, 2))
        print(f"{what}: round {k + 1}/{a.rounds} done", file=sys.stderr)
    k = a.rounds
    while True:
        open_ = [i for i, log in enumerate(logs) if log.wants_more(a)]
        if not open_:
            break
        for i in (open_ if k % 2 == 0 else reversed(open_)):
            visit(i, max(1, a.repeats // a.rounds), min(a.warmup, 2))
        print(f"{what}: round {k + 1}: {len(open_)} still wider than +-{100 * a.target:g}%", file=sys.stderr)
        k += 1
    return logs


def load_per_core():
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (OSError, AttributeError):
        return -1.0


def write_csv(out, key_name, keys, logs, a, what):
    """Writes the CSV and warns (stderr) about noisy rows and discarded passes."""
    tmp = out + ".tmp"
    noisy_rows, discarded, passes = [], 0, 0
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([key_name, "latency_ms", "latency_iqr_ms", "latency_ci_low_ms", "latency_ci_high_ms",
                    "passes", "discarded", "noisy"])
        for row, (k, log) in enumerate(zip(keys, logs), start=1):
            t, fallback = log.estimate_passes()
            t = t or [float("nan")]
            q = statistics.quantiles(t, n=4) if len(t) > 1 else [t[0], t[0], t[0]]
            lo, hi = median_interval(t)
            med = statistics.median(t)
            noisy = fallback or (a.target > 0 and (not log.kept or (hi - lo) / 2 / med > a.target))
            if noisy:
                noisy_rows.append((row, k, med, (hi - lo) / 2 / med if med > 0 else float("nan"), log))
            discarded += log.discarded
            passes += len(log.kept) + log.discarded
            w.writerow([k, f"{med:.6g}", f"{q[2] - q[0]:.4g}", f"{lo:.6g}", f"{hi:.6g}", len(log.kept),
                        log.discarded, int(noisy)])
    os.replace(tmp, out)
    load = load_per_core()
    if noisy_rows or discarded:
        print(f"run_latency: {'warning' if noisy_rows else 'note'}: {what}: {len(noisy_rows)} of {len(keys)} "
              f"latencies noisy (interval wider than +-{100 * a.target:g}%); {discarded} of {passes} timed "
              f"passes discarded as descheduled; load average {load:.2f} per core", file=sys.stderr)
        for row, k, med, rel, log in noisy_rows[:10]:
            print(f"  row {row}: {med:.4g} ms +-{100 * rel:.3g}% ({log.discarded} of "
                  f"{len(log.kept) + log.discarded} passes discarded) {k}", file=sys.stderr)
        if len(noisy_rows) > 10:
            print(f"  ... and {len(noisy_rows) - 10} more (column noisy = 1)", file=sys.stderr)
        if noisy_rows:
            print("  a busy device: close other programs and run again, or raise --max-seconds",
                  file=sys.stderr)
    return {"noisy": len(noisy_rows), "discarded": discarded, "passes": passes, "load_per_core": load}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="auto", choices=["auto", "onnxruntime", "torch"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--target", type=float, default=0.03,
                    help="more rounds until each median's 95%% interval is within +-target (0: none)")
    ap.add_argument("--max-seconds", type=float, default=2.0, help="per model: timing at the most")
    ap.add_argument("--max-passes", type=int, default=500, help="per model: timed passes at the most")
    ap.add_argument("--keep-descheduled", action="store_true",
                    help="count every pass, also those during which this thread lost its core")
    ap.add_argument("--out", default=None, help="CSV to write (default: latency.csv in the kit)")
    ap.add_argument("--ops-out", default=None, help="per-op CSV to write (default: ops_latency.csv in the kit)")
    ap.add_argument("--no-ops", action="store_true", help="do not time the per-op models of ops.csv")
    ap.add_argument("--limit", type=int, default=0, help="time only the first N models (a quick try)")
    a = ap.parse_args()
    kit = os.path.dirname(os.path.abspath(__file__))
    rows = load_csv(kit, "manifest.csv")
    if rows is None:
        sys.exit(f"run_latency: {kit}/manifest.csv is missing: run this script inside the kit folder")
    ops = None if a.no_ops else load_csv(kit, "ops.csv")
    if a.limit:
        rows = rows[:a.limit]
        ops = ops[:a.limit] if ops else ops
    if a.rounds < 1 or a.rounds > a.repeats:
        sys.exit("run_latency: --rounds must be between 1 and --repeats")
    steady = steady_allocator()
    backend = a.backend
    who = f"this Python ({sys.executable}, {platform.python_version()})"
    try:
        import numpy  # noqa: F401
    except ImportError:
        sys.exit(f"run_latency: NumPy is missing for {who}: install it (pip install numpy), or run "
                 f"the script with a Python that has it")
    if backend == "auto":
        try:
            import onnxruntime  # noqa: F401
            backend = "onnxruntime"
        except ImportError:
            try:
                import torch  # noqa: F401
                backend = "torch"
            except ImportError:
                sys.exit(f"run_latency: neither ONNX Runtime nor PyTorch can be imported by {who}: "
                         f"install onnxruntime (pip install onnxruntime) or PyTorch for this Python, or "
                         f"run the script with a Python that has one of them")
    try:
        if backend == "onnxruntime":
            import onnxruntime as ort
            version = ort.__version__
        else:
            import torch
            version = torch.__version__
    except ImportError:
        sys.exit(f"run_latency: --backend {backend}: it cannot be imported by {who}: install "
                 f"{'onnxruntime (pip install onnxruntime)' if backend == 'onnxruntime' else 'PyTorch'} "
                 f"for this Python, or choose the other backend")
    spec = kit_spec(kit)
    precision = spec.get("precision", "fp32")
    engine = None
    if backend == "torch":
        torch.set_num_threads(a.threads)
        if precision == "int8":
            engine = int8_engine(torch, spec.get("int8_engine"))
    out = a.out or os.path.join(kit, "latency.csv")
    times = time_all(make_runs(kit, rows, backend, a.threads), a, "architectures")
    noise = write_csv(out, "key", [r["key"] for r in rows], times, a, "architectures")
    ops_out = None
    if ops:
        # Each operation configuration alone: `latency fit --ops` sums them over an architecture's
        # operations (the per-op table), the feature that carries most of a chain's latency.
        ops_out = a.ops_out or os.path.join(kit, "ops_latency.csv")
        op_times = time_all(make_runs(kit, ops, backend, a.threads), a, "operations")
        write_csv(ops_out, "op", [r["op"] for r in ops], op_times, a, "operations")
    info = {"backend": backend, "version": version, "threads": a.threads, "warmup": a.warmup,
            "repeats": a.repeats, "rounds": a.rounds, "target": a.target, "max_seconds": a.max_seconds,
            "precision": precision, "int8_engine": engine,
            "discard_descheduled": not a.keep_descheduled, "noise": noise, "steady_allocator": steady, "models": len(rows), "operations": len(ops or []),
            "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {out}: {len(rows)} {precision} models, {backend} {version}"
          f"{' (' + engine + ' engine)' if engine else ''}, {a.threads} thread(s), "
          f"median of at least {a.repeats} in {a.rounds} rounds, more until +-{100 * a.target:g}%; "
          f"{noise['noisy']} noisy")
    if ops_out:
        print(f"wrote {ops_out}: {len(ops)} operation configurations; fit with "
              f"`paretonas latency fit ... --data {os.path.basename(out)} --key-column key "
              f"--ops {os.path.basename(ops_out)}`")


if __name__ == "__main__":
    main()
