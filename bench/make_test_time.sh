#!/usr/bin/env bash
# Times `make test` from fresh clones (packages already installed) and an incremental rebuild
# after touching one .cpp. Usage: bench/make_test_time.sh [RUNS]
set -euo pipefail
runs=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
for ((i = 1; i <= runs; i++)); do
  dir=$(mktemp -d /tmp/paretonas-clone-XXXXXX)
  git clone -q "$repo" "$dir/main"
  # The tests look for ../shared beside the checkout, as in CI.
  [[ -d $repo/../shared ]] && ln -s "$repo/../shared" "$dir/shared"
  start=$(date +%s.%N)
  (cd "$dir/main" && make test >"$dir/log" 2>&1) || { tail -30 "$dir/log"; exit 1; }
  end=$(date +%s.%N)
  echo "clean make test run $i: $(echo "$end - $start" | bc) s ($(grep -E 'tests passed' "$dir/log"))"
  if [[ $i -eq $runs ]]; then
    for f in space/search_space.cpp evaluator/train_evaluator.cpp; do
      touch "$dir/main/$f"
      start=$(date +%s.%N)
      (cd "$dir/main" && cmake --build build -j 2 >/dev/null)
      end=$(date +%s.%N)
      echo "incremental rebuild after touching $f: $(echo "$end - $start" | bc) s"
    done
  fi
  rm -rf "$dir"
done
