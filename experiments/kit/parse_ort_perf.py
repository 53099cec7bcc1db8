#!/usr/bin/env python3
"""Turns the logs of ONNX Runtime's own benchmark tool (onnxruntime_perf_test, e.g. on an
Android phone over adb) into the CSV that `paretonas latency fit` reads.

usage: python3 parse_ort_perf.py LOG_DIR [--out latency.csv]
       python3 parse_ort_perf.py LOG_DIR --ops [--out ops_latency.csv]
LOG_DIR holds one log per model, named after the model's index in manifest.csv (000.txt, ...),
as written by e.g.
  for f in models/*.onnx; do i=$(basename "$f" .onnx)
    adb shell /data/local/tmp/onnxruntime_perf_test -e cpu -x 1 -r 100 -I /data/local/tmp/kit/$f \\
      > ort_logs/$i.txt
  done
With --ops, the logs are those of the per-op models (ops/*.onnx, indexed by ops.csv), and the
output is the per-op table that `paretonas latency fit --ops` reads (columns op, latency_ms).
From each log it takes the median ("P50 Latency: S s"), else the mean ("Average inference time
cost: M ms"), and says which it used.
"""
import argparse
import csv
import os
import re
import sys

P50 = re.compile(r"P50 Latency:\s*([0-9.eE+-]+)\s*s")
AVG = re.compile(r"Average inference time cost:\s*([0-9.eE+-]+)\s*ms")


def parse(text):
    """(milliseconds, 'median'|'mean') from one perf_test log, or None."""
    m = P50.search(text)
    if m:
        return float(m.group(1)) * 1000.0, "median"
    m = AVG.search(text)
    if m:
        return float(m.group(1)), "mean"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("logs")
    ap.add_argument("--out", default=None)
    ap.add_argument("--ops", action="store_true", help="the logs of the per-op models (ops.csv)")
    a = ap.parse_args()
    kit = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(kit, "ops.csv" if a.ops else "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    key = "op" if a.ops else "key"
    out = a.out or os.path.join(kit, "ops_latency.csv" if a.ops else "latency.csv")
    kinds, missing = {}, []
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([key, "latency_ms"])
        for r in rows:
            path = os.path.join(a.logs, f"{int(r['index']):03d}.txt")
            if not os.path.exists(path):
                missing.append(path)
                continue
            got = parse(open(path, errors="replace").read())
            if got is None:
                sys.exit(f"parse_ort_perf: {path}: no 'P50 Latency' or 'Average inference time cost' line")
            w.writerow([r[key], f"{got[0]:.6g}"])
            kinds[got[1]] = kinds.get(got[1], 0) + 1
    print(f"wrote {out}: {sum(kinds.values())} models ({', '.join(f'{v} {k}' for k, v in kinds.items())})"
          + (f"; {len(missing)} logs missing, e.g. {missing[0]}" if missing else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
