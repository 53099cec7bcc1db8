#!/usr/bin/env bash
# Does `serve` disturb the search it watches? The quick Fashion-MNIST search, alternately alone
# and with `serve` watching it and a client following every result as the page's script does
# (long poll /api/wait, then fetch the new content), ROUNDS times each; prints each run's latency
# line from `status` (noisy latencies, descheduled passes discarded).
# Usage: bench/serve_beside_search.sh [PARETONAS] [ROUNDS]   (needs curl)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$here/build/experiments/paretonas}
rounds=${2:-2}
work=$(mktemp -d /tmp/serve-beside-XXXXXX)
for ((r = 1; r <= rounds; r++)); do
  for arm in serve alone; do
    d=$work/${arm}_$r
    "$B" search --config "$here/experiments/fashion_mnist_quick.yaml" --run-dir "$d" >"$d.log" 2>&1 &
    spid=$!
    if [[ $arm == serve ]]; then
      sleep 1
      "$B" serve "$d" --port 8090 >/dev/null 2>&1 &
      vpid=$!
      sleep 2
      (v=0
       while kill -0 $spid 2>/dev/null; do
         v=$(curl -s "http://127.0.0.1:8090/api/wait?version=$v&timeout=20" | sed 's/.*"version":\([0-9]*\).*/\1/')
         [[ -z $v ]] && v=0
         curl -s -o /dev/null http://127.0.0.1:8090/fragment/run/0
       done) &
      ppid=$!
    fi
    wait $spid
    [[ $arm == serve ]] && kill $vpid $ppid 2>/dev/null
    echo "$arm $r: $("$B" status "$d" | grep 'latency:')"
  done
done
