#!/usr/bin/env bash
# Renders a run's HTML report to a PNG with headless Chromium (Debian package `chromium`),
# to look at it as a person would. Usage: scripts/render-report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
set -euo pipefail
html=$(readlink -f "$1")
png=$(readlink -f "$(dirname "$2")")/$(basename "$2")
size=${3:-1100,1900}
if ! command -v chromium >/dev/null; then
  echo "render-report: chromium is not installed (apt-get install chromium)" >&2
  exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$png" "file://$html" \
  >/dev/null 2>&1
echo "$png"
