#!/usr/bin/env bash
# Whole-engine effect of the training layout (training.layout: channels_last, the CPU default,
# vs nchw): wall time of one search generation (12 candidates trained, validated and
# latency-measured) for the demo's NB201 space and for the mobilenet preset, 2 workers x 1 thread,
# alternating the layouts, RUNS times each. Usage: bench/layout_bench.sh [RUNS] [BINARY]
set -euo pipefail
runs=${1:-3}
bin=${2:-build/experiments/paretonas}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for space in nb201 mobilenet; do
  sets=(--set evaluator.workers=2)
  [[ $space == mobilenet ]] && sets+=(--set space.name=mobilenet --set space.set={})
  for layout in channels_last nchw; do : >"$tmp/$space.$layout"; done
  for ((r = 1; r <= runs; r++)); do
    for layout in channels_last nchw; do
      rm -rf "$tmp/run"
      s=$(date +%s.%N)
      "$bin" search --config experiments/fashion_mnist_quick.yaml --run-dir "$tmp/run" -q --max-evals 12 \
        "${sets[@]}" --set training.layout=$layout >/dev/null
      e=$(date +%s.%N)
      t=$(echo "$e - $s" | bc -l)
      echo "$t" >>"$tmp/$space.$layout"
      echo "$space $layout run $r: $t s (mean val_accuracy $(awk -F'"val_accuracy":' 'NF > 1 { split($2, a, ","); s += a[1]; n++ } END { printf "%.2f", s / n }' "$tmp/run/trials.jsonl"))"
    done
  done
  cl=$(median <"$tmp/$space.channels_last")
  nc=$(median <"$tmp/$space.nchw")
  printf '%s: channels_last %.2f s, nchw %.2f s, ratio %.3f (median of %s)\n' "$space" "$cl" "$nc" "$(echo "$cl / $nc" | bc -l)" "$runs"
done
