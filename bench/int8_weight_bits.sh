#!/usr/bin/env bash
# 7-bit against 8-bit int8 weights (issue #54), per seed on the same trained networks: natively,
# then under ONEDNN_MAX_CPU_ISA=AVX2 (the kernels of an x86 CPU without VNNI) from the same
# weights; then the comparison of the two (bench/int8_weight_bits.py).
# Usage: bench/int8_weight_bits.sh BUILD_DIR OUT_DIR [SEEDS] [N]   (make bench builds the program)
set -euo pipefail
build=$1
out=$2
seeds=${3:-3 4}
n=${4:-48}
mkdir -p "$out"
for s in $seeds; do
  "$build/bench/int8_weight_bits_bench" "$n" "$s" 2 "$out/w$s" >"$out/native_s$s.txt" 2>"$out/native_s$s.err"
  ONEDNN_MAX_CPU_ISA=AVX2 "$build/bench/int8_weight_bits_bench" "$n" "$s" 2 "$out/w$s" >"$out/avx2_s$s.txt" 2>"$out/avx2_s$s.err"
  echo "seed $s done $(date -u +%T)"
done
/usr/bin/python3 "$(dirname "$0")/int8_weight_bits.py" "$out" $seeds
