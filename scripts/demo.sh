#!/usr/bin/env bash
# `make demo`: a quick real search on Fashion-MNIST, then the front and where the results are.
set -euo pipefail
bin=${1:-build/experiments/paretonas}
run_dir=runs/demo-$(date +%Y%m%d-%H%M%S)
echo "demo: searching experiments/fashion_mnist_quick.yaml into $run_dir (a few minutes)"
start=$(date +%s)
"$bin" search --config experiments/fashion_mnist_quick.yaml --run-dir "$run_dir"
echo "demo: search took $(( $(date +%s) - start )) s"
echo "demo: exporting the front as JSON and DOT into $run_dir/export"
"$bin" export "$run_dir" --front --format json --out "$run_dir/export" >/dev/null
"$bin" export "$run_dir" --front --format dot --out "$run_dir/export" >/dev/null
"$bin" report "$run_dir" --out "$run_dir/report.html" >/dev/null
echo "demo: report: $run_dir/report.html (open it in a browser)"
echo "demo: front:  $run_dir/front.csv; exports: $run_dir/export"
