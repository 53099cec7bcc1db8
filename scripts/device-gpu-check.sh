#!/usr/bin/env bash
# The GPU throughput checks of CUDA graphs and mixed precision, as one call on a CUDA machine
# prepared with ../shared/device (see its README): build against the machine's CUDA LibTorch;
# bench/cuda_streams_bench (eager vs graphs, fp32 vs bf16, 1-16 workers) and the same networks
# trained one after another by PyTorch from Python; then experiments/fashion_mnist_gpu.yaml run
# toward its 320 evaluations, with the whole test suite beside it (so the search's wall time is,
# if anything, too long). Logs go to $OUT (default /tmp/out).
# Usage, from the project root: source .device/on-device.sh; bash scripts/device-gpu-check.sh [SEARCH_SECONDS=330] [STEPS=150]
# GRAPHS=on|off and PRECISION=fp32|bf16|fp16 set the search's training (default on, fp32).
set -uo pipefail
out=${OUT:-/tmp/out}
search_s=${1:-330}
steps=${2:-150}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1
source "$(dirname "$0")/device-setup.sh"
device_configure "$out/configure.log" || exit 1
step "build"
timeout 300 cmake --build /tmp/build --target all cuda_streams_bench -j 16 >/tmp/build.log 2>&1 \
  || { grep -B2 -A12 "error" /tmp/build.log | head -120; exit 1; }
tail -1 /tmp/build.log
step "streams benchmark: 16 candidates x $steps steps"
timeout 200 /tmp/build/bench/cuda_streams_bench cuda 16 "$steps" /tmp/fashion-mnist \
  graphs-fp32,eager-fp32,graphs-bf16,eager-bf16 1,2,4,8,16 /tmp/archs.txt
step "PyTorch from Python, the same 16 networks one after another"
timeout 60 python3 bench/train_step_pytorch.py --sequential /tmp/archs.txt "$steps" cuda fp32
timeout 60 python3 bench/train_step_pytorch.py --sequential /tmp/archs.txt "$steps" cuda bf16
step "GPU search: experiments/fashion_mnist_gpu.yaml (320 evaluations), at most $search_s s; ctest beside it"
bin=/tmp/build/experiments/paretonas
rm -rf /tmp/gpurun
(cd /tmp/build && timeout $((search_s - 10)) ctest -j 6 --timeout 200 >"$out/ctest.log" 2>&1) &
ctest_pid=$!
t0=$(date +%s.%N)
timeout "$search_s" "$bin" search --config experiments/fashion_mnist_gpu.yaml --run-dir /tmp/gpurun \
  --set training.cuda_graphs=${GRAPHS:-on} --set training.precision=${PRECISION:-fp32} >"$out/gpu_search.log" 2>&1; echo "search exit $?"
t1=$(date +%s.%N)
wall=$(python3 -c "print($t1 - $t0)")
tail -4 "$out/gpu_search.log"
grep -m3 "CUDA graphs not used" "$out/gpu_search.log"
python3 - /tmp/gpurun/trials.jsonl "$wall" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
done = [r for r in rows if r.get("status") == "complete"]
wall = float(sys.argv[2])
lat = sum(r.get("latency_seconds", 0) for r in done)
g = sum(r.get("graph_steps", 0) for r in done)
e = sum(r.get("eager_steps", 0) for r in done)
secs = sorted(r["seconds"] for r in done)
print(f"search: {len(rows)} trials, {len(done)} complete in {wall:.0f} s; latency measurement held training "
      f"{lat:.1f} s = {100 * lat / wall:.1f}% of the wall time; graph steps {g:.0f}, eager {e:.0f}; "
      f"candidate seconds median {secs[len(secs) // 2]:.1f} (min {secs[0]:.1f}, max {secs[-1]:.1f}); "
      f"best val_accuracy {max(r['val_accuracy'] for r in done):.2f}")
PY
"$bin" status /tmp/gpurun | tail -14 | tee "$out/status.txt"
cp /tmp/gpurun/trials.jsonl "$out/gpu_trials.jsonl"
wait $ctest_pid
step "tests (ran beside the search)"
grep -E "tests passed|tests failed|\*\*\*|Failed|SKIPPED|Skipped|Not Run" "$out/ctest.log" | head -30
grep -h -A2 "CudaWorkers\|CudaGraphs\|graphs vs eager" /tmp/build/Testing/Temporary/LastTest.log | head -16
step "done"
