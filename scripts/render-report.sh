#!/usr/bin/env bash
# Renders a run's HTML report to a PNG with headless Chromium (Debian package `chromium`),
# to look at it as a person would. Usage: scripts/render-report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
# A page of `paretonas serve` too: scripts/render-report.sh http://127.0.0.1:8080/ OUT.png WIDTH,HEIGHT
set -euo pipefail
png=$(readlink -f "$(dirname "$2")")/$(basename "$2")
if [[ $1 == http://* ]]; then
  [[ $# -ge 3 ]] || { echo "render-report: a URL needs its size: URL OUT.png WIDTH,HEIGHT" >&2; exit 2; }
  url=$1
  html=/dev/null
else
  html=$(readlink -f "$1")
  url="file://$html"
fi
# Default: tall enough for the whole page, the front drawings included: the plots and the table,
# then the drawings two to a row, each row as tall as its taller drawing.
[[ -f $html || $html == /dev/null ]] || { echo "render-report: $1: no such file" >&2; exit 2; }
rows=$({ grep -o "<tr><td>" "$html" || true; } | wc -l)
drawings=$({ grep -o "<br><svg xmlns='http://www.w3.org/2000/svg' width='[0-9.]*' height='[0-9.]*'" "$html" || true; } \
  | sed "s/.*height='\([0-9.]*\)'/\1/" | awk '{ h = int($1) + 70; if (NR % 2) m = h; else { t += (h > m ? h : m); m = 0 } }
                                              END { print t + m }')
size=${3:-1100,$((1300 + 60 * rows + ${drawings:-0}))}
if ! command -v chromium >/dev/null; then
  echo "render-report: chromium is not installed (apt-get install chromium)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$png" "$url" \
  >/dev/null 2>&1
echo "$png"
