#!/usr/bin/python3
"""Reads bench/int8_weight_bits.sh's output: per seed, the summary of each run (native, AVX2) and
how far the int8 accuracy of the same network moves between the two ISAs with 7-bit and with
8-bit weights. Usage: bench/int8_weight_bits.py OUT_DIR SEED [SEED ...]"""
import statistics
import sys


def load(path):
    rows = {}
    summary = []
    for line in open(path):
        if line.startswith("csv: arch"):
            continue
        if line.startswith("csv: "):
            r = line[5:].strip().split(",")
            rows[r[0]] = [float(v) for v in r[1:]]
        else:
            summary.append(line.rstrip())
    return rows, summary


out = sys.argv[1]
for seed in sys.argv[2:]:
    native, ns = load(f"{out}/native_s{seed}.txt")
    avx2, as_ = load(f"{out}/avx2_s{seed}.txt")
    print(f"== seed {seed}")
    for line in ns + as_:
        print("  " + line)
    same = [k for k in native if k in avx2 and native[k][0] == avx2[k][0]]
    print(f"  fp32 accuracy equal in both runs (the same weights): {len(same)} of {len(native)}")
    for col, bits in ((1, 7), (2, 8)):
        d = [abs(native[k][col] - avx2[k][col]) for k in same]
        if d:
            print(f"  int8 accuracy, {bits}-bit weights, native vs AVX2 kernels: equal on {sum(x == 0 for x in d)} of "
                  f"{len(d)} networks; mean |difference| {statistics.mean(d):.3f}, largest {max(d):.2f} points")
