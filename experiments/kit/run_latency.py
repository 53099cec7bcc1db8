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
machine and the settings. Then, on the machine with paretonas:
  paretonas latency fit --space SPACE [--set ...] [--input CxHxW] --data latency.csv \\
      --key-column key --out device.model [--prior other_device.model ...]
"""
import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time


def load_manifest(kit):
    with open(os.path.join(kit, "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="auto", choices=["auto", "onnxruntime", "torch"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=None, help="CSV to write (default: latency.csv in the kit)")
    ap.add_argument("--limit", type=int, default=0, help="time only the first N models (a quick try)")
    a = ap.parse_args()
    kit = os.path.dirname(os.path.abspath(__file__))
    rows = load_manifest(kit)
    if a.limit:
        rows = rows[:a.limit]
    if a.rounds < 1 or a.rounds > a.repeats:
        sys.exit("run_latency: --rounds must be between 1 and --repeats")
    import numpy as np
    backend = a.backend
    if backend == "auto":
        try:
            import onnxruntime  # noqa: F401
            backend = "onnxruntime"
        except ImportError:
            backend = "torch"
    runs = []
    if backend == "onnxruntime":
        import onnxruntime as ort
        version = ort.__version__
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = a.threads
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
        version = torch.__version__
        torch.set_num_threads(a.threads)
        for r in rows:
            m = torch.jit.load(os.path.join(kit, r["torchscript"])).eval()
            x = torch.zeros([1] + [int(v) for v in r["input"].split("x")])
            def run(m=m, x=x):
                with torch.no_grad():
                    return m(x)
            runs.append(run)
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
        print(f"round {k + 1}/{a.rounds} done", file=sys.stderr)
    out = a.out or os.path.join(kit, "latency.csv")
    tmp = out + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "latency_ms", "latency_iqr_ms"])
        for r, t in zip(rows, times):
            q = statistics.quantiles(t, n=4)
            w.writerow([r["key"], f"{statistics.median(t):.6g}", f"{q[2] - q[0]:.4g}"])
    os.replace(tmp, out)
    info = {"backend": backend, "version": version, "threads": a.threads, "warmup": a.warmup,
            "repeats": a.repeats, "rounds": a.rounds, "models": len(rows),
            "machine": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {out}: {len(rows)} models, {backend} {version}, {a.threads} thread(s), "
          f"median of {a.repeats} in {a.rounds} rounds")


if __name__ == "__main__":
    main()
