#!/usr/bin/env bash
# "This machine as the device": latency kit -> the kit's runner (PyTorch from Python, 1 thread)
# -> latency fit -> latency eval, on fresh architectures timed the same way (a random kit) and as
# the engine measures them (latency measure, LibTorch from C++).
# The kit's per-op models are timed too. From the same timings, two models are fit side by side:
# with the runner's per-op table (--ops ops_latency.csv) and without it.
# Usage: bench/latency_kit_e2e.sh PARETONAS N OUT_DIR SPACE_ARGS...   (run on an idle machine)
#   e.g. bench/latency_kit_e2e.sh build/experiments/paretonas 100 /tmp/e2e --config experiments/fashion_mnist.yaml
# PRECISION=int8 runs the same with the kit's int8 models (latency kit/measure --precision int8).
set -euo pipefail
bin=$1 n=$2 out=$3
shift 3
precision=(--precision "${PRECISION:-fp32}")
rm -rf "$out" && mkdir -p "$out"
"$bin" latency kit "$@" "${precision[@]}" -n "$n" --out "$out/kit" >"$out/kit.log"
"$bin" latency kit "$@" "${precision[@]}" -n 200 --select random --seed 7 --no-ops --out "$out/fresh" >"$out/fresh.log"
/usr/bin/python3 "$out/kit/run_latency.py" --backend torch --threads 1 2>/dev/null
/usr/bin/python3 "$out/fresh/run_latency.py" --backend torch --threads 1 2>/dev/null
/usr/bin/python3 -c 'import csv, sys; [print(r["key"]) for r in csv.DictReader(open(sys.argv[1]))]' \
  "$out/fresh/manifest.csv" >"$out/keys"  # keys may hold commas (quoted in the CSV)
args=()
while read -r k; do args+=(--arch "$k"); done <"$out/keys"
"$bin" latency measure "$@" "${precision[@]}" "${args[@]}" --out "$out/engine.csv" >/dev/null 2>&1
for variant in ops no_ops; do
  ops=()
  if [ "$variant" = ops ]; then
    [ -f "$out/kit/ops_latency.csv" ] || continue
    ops=(--ops "$out/kit/ops_latency.csv")
  fi
  model="$out/device_$variant.model"
  echo "==== fit ${variant/_/ }: $model"
  "$bin" latency fit "$@" --data "$out/kit/latency.csv" --key-column key "${ops[@]}" --out "$model" | grep -E "wrote|quality"
  echo "== against 200 random architectures timed by the same runner"
  "$bin" latency eval --model "$model" --data "$out/fresh/latency.csv" --key-column key --plot "$out/eval_runner_$variant.svg" | head -8
  echo "== against the same 200 measured by the engine (latency measure: LibTorch from C++)"
  "$bin" latency eval --model "$model" --data "$out/engine.csv" --plot "$out/eval_engine_$variant.svg" | head -8
done
