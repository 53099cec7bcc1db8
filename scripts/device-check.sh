#!/usr/bin/env bash
# The CUDA checks, as one script for a CUDA machine prepared with ../shared/device (see its
# README): configure and build against the machine's CUDA LibTorch, run the whole test suite
# (the CUDA test included), the streams throughput benchmark, a short GPU search on
# Fashion-MNIST with its export and report, and onnxruntime over the ONNX files in .devcheck/
# (exported on a CPU build with their TorchScript twins). Logs go to $OUT (default /tmp/out).
# Usage, from the project root: source .device/on-device.sh; bash scripts/device-check.sh
set -uo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
source "$(dirname "$0")/device-setup.sh"
device_configure "$out/configure.log" || exit 1
step "build"
timeout 300 cmake --build /tmp/build --target all cuda_streams_bench -j 16 >"$out/build.log" 2>&1 \
  || { grep -B2 -A8 "error" "$out/build.log" | head -80; exit 1; }
tail -1 "$out/build.log"
step "tests"
(cd /tmp/build && timeout 240 ctest -j 8 --output-on-failure >"$out/ctest.log" 2>&1)
grep -E "tests passed|tests failed|\*\*\*|Failed|SKIPPED|Skipped" "$out/ctest.log" | head -30
grep -h -A3 "CudaWorkers" /tmp/build/Testing/Temporary/LastTest.log | head -8
step "streams benchmark"
timeout 150 /tmp/build/bench/cuda_streams_bench cuda 16 300 /tmp/fashion-mnist | tee "$out/streams.txt"
step "GPU search (48 of fashion_mnist_gpu.yaml's 320 evaluations)"
bin=/tmp/build/experiments/paretonas
rm -rf /tmp/gpurun
timeout 200 "$bin" search --config experiments/fashion_mnist_gpu.yaml --run-dir /tmp/gpurun --max-evals 48 \
  >"$out/gpu_search.log" 2>&1; echo "exit $?"; tail -8 "$out/gpu_search.log"
"$bin" status /tmp/gpurun | tail -12
"$bin" export /tmp/gpurun --front --format json --out /tmp/gpurun/export >/dev/null && ls /tmp/gpurun/export | head
"$bin" report /tmp/gpurun --out "$out/gpu_report.html" && cp /tmp/gpurun/trials.jsonl "$out/gpu_trials.jsonl"
step "onnxruntime over the CPU build's exports"
python3 -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__)'
for f in $(find .devcheck -name '*.onnx' | sort); do
  python3 scripts/check-onnx.py "$f" "${f%.onnx}.torchscript.pt" 2>&1 | tail -1 | sed "s|^|$f: |"
done | tee "$out/onnx.txt"
step "done"
