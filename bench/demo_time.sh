#!/usr/bin/env bash
# Times `make demo` from a fresh clone (packages already installed): build + search + export.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/paretonas-demo-XXXXXX)
git clone -q "$repo" "$dir/main"
start=$(date +%s.%N)
(cd "$dir/main" && make demo >"$dir/log" 2>&1) || { tail -30 "$dir/log"; exit 1; }
end=$(date +%s.%N)
echo "fresh-clone make demo: $(echo "$end - $start" | bc) s; $(grep 'demo: search took' "$dir/log"); $(grep -E '^Pareto front' "$dir/log")"
rm -rf "$dir"
