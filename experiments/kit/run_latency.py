#!/usr/bin/env python3
"""Times every model of a paretonas latency kit on this device, at batch 1, and writes the CSV
that `paretonas latency fit` reads. Needs nothing of paretonas: Python 3 with NumPy and either
ONNX Runtime (pip install onnxruntime) or PyTorch.

usage: python3 run_latency.py [--backend auto|onnxruntime|torch] [--threads 1] [--warmup 10]
                              [--repeats 50] [--rounds 5] [--out latency.csv]

Each model gets --warmup untimed passes, then --repeats timed passes spread over --rounds rounds
that visit every model in turn (so that the device's drift, thermal or otherwise, hits all models
alike); the median and the interquartile range are kept. The CSV has columns key, latency_ms,
latency_iqr_ms; latency.json beside it records the backend, its version, the thread count, the
machine and the settings. When the kit has per-op models (ops.csv), they are timed the same way
into ops_latency.csv (columns op, latency_ms, latency_iqr_ms). Then, on the machine with paretonas:
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


def time_all(runs, a, what):
    """Per run, the timed passes: --warmup untimed passes first, then --repeats timed passes
    spread over --rounds rounds that visit every run in turn, alternating direction."""
    for run in runs:
        for _ in range(a.warmup):
            run()
    times = [[] for _ in runs]
    per_round = [a.repeats // a.rounds + (1 if k < a.repeats % a.rounds else 0) for k in range(a.rounds)]
    for k in range(a.rounds):
        order = range(len(runs)) if k % 2 == 0 else reversed(range(len(runs)))
        for i in order:
            for _ in range(per_round[k]):
                t0 = time.perf_counter()
                runs[i]()
                times[i].append((time.perf_counter() - t0) * 1000.0)
        print(f"{what}: round {k + 1}/{a.rounds} done", file=sys.stderr)
    return times


def write_csv(out, key_name, keys, times):
    tmp = out + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([key_name, "latency_ms", "latency_iqr_ms"])
        for k, t in zip(keys, times):
            q = statistics.quantiles(t, n=4)
            w.writerow([k, f"{statistics.median(t):.6g}", f"{q[2] - q[0]:.4g}"])
    os.replace(tmp, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="auto", choices=["auto", "onnxruntime", "torch"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
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
    if backend == "auto":
        try:
            import onnxruntime  # noqa: F401
            backend = "onnxruntime"
        except ImportError:
            backend = "torch"
    if backend == "onnxruntime":
        import onnxruntime as ort
        version = ort.__version__
    else:
        import torch
        version = torch.__version__
        torch.set_num_threads(a.threads)
    out = a.out or os.path.join(kit, "latency.csv")
    times = time_all(make_runs(kit, rows, backend, a.threads), a, "architectures")
    write_csv(out, "key", [r["key"] for r in rows], times)
    ops_out = None
    if ops:
        # Each operation configuration alone: `latency fit --ops` sums them over an architecture's
        # operations (the per-op table), the feature that carries most of a chain's latency.
        ops_out = a.ops_out or os.path.join(kit, "ops_latency.csv")
        op_times = time_all(make_runs(kit, ops, backend, a.threads), a, "operations")
        write_csv(ops_out, "op", [r["op"] for r in ops], op_times)
    info = {"backend": backend, "version": version, "threads": a.threads, "warmup": a.warmup,
            "repeats": a.repeats, "rounds": a.rounds, "steady_allocator": steady, "models": len(rows), "operations": len(ops or []),
            "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {out}: {len(rows)} models, {backend} {version}, {a.threads} thread(s), "
          f"median of {a.repeats} in {a.rounds} rounds")
    if ops_out:
        print(f"wrote {ops_out}: {len(ops)} operation configurations; fit with "
              f"`paretonas latency fit ... --data {os.path.basename(out)} --key-column key "
              f"--ops {os.path.basename(ops_out)}`")


if __name__ == "__main__":
    main()
