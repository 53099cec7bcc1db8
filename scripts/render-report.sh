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
# Default: tall enough for the whole page at a 1,100 px window (1,052 px inside the margins),
# erring on the tall side (a blank strip below is better than a cut page): the plots; each
# paragraph or list item by its wrapped lines; the table's rows by their wrapped architecture
# strings; then the front's drawings as the page lays them out, a wrapping row of boxes 16 px
# apart, each as wide as its drawing or its title line, a row as tall as its tallest box.
[[ -f $html || $html == /dev/null ]] || { echo "render-report: $1: no such file" >&2; exit 2; }
estimate() {
  python3 - "$1" <<'PY'
import re
import sys
page = open(sys.argv[1], encoding="utf-8", errors="replace").read() if sys.argv[1] != "/dev/null" else ""
text = lambda s: re.sub(r"<[^>]*>", "", s)
h = 300  # title, state, headings
for m in re.finditer(r"<svg xmlns='http://www.w3.org/2000/svg' width='([0-9.]+)' height='([0-9.]+)' class='plot'", page):
    h += float(m.group(2)) + 60
for m in re.finditer(r"<(p|li)[ >](.*?)</\1>", page, re.S):
    h += 22 * (1 + len(text(m.group(2))) // 120)
for m in re.finditer(r"<tr>(.*?)</tr>", page, re.S):
    arch = re.search(r"<td class='arch'>(.*?)</td>", m.group(1), re.S)
    h += max(34, 16 * (1 + len(text(arch.group(1))) // 60) + 10) if arch else 60
used = tallest = 0
for m in re.finditer(r"<div><b>(.*?)<br><svg xmlns='http://www.w3.org/2000/svg' width='([0-9.]+)' height='([0-9.]+)'", page, re.S):
    w = max(float(m.group(2)), 8 * len(text(m.group(1)))) + 14
    box = float(m.group(3)) + 40 + 22 * (1 + int(8 * len(text(m.group(1))) // 1052))
    if used and used + 16 + w > 1052:
        h += tallest + 16
        used = tallest = 0
    used += (16 if used else 0) + w
    tallest = max(tallest, box)
print(int(h + tallest + 200))
PY
}
size=${3:-1100,$(estimate "$html")}
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
