#!/usr/bin/env bash
# The slowest ctest entries of the last run in BUILD (default build/), slowest first, and the
# sum of all entries' seconds: `make test` prints them at its end, so that the next slow test
# is seen when it comes. Usage: scripts/slowest-tests.sh [BUILD] [N]
set -euo pipefail
build=${1:-build}
n=${2:-10}
log=$build/Testing/Temporary/LastTest.log
[[ -f $log ]] || { echo "slowest-tests: no $log (run ctest first)" >&2; exit 1; }
# LastTest.log closes each entry with its name ("N/M Test: NAME") and '"NAME" end time' after a
# line 'Test time =   S sec'.
awk '/^[0-9]+\/[0-9]+ Test: / { name = $3 } /^Test time = / { printf "%8.2f s  %s\n", $4, name }' "$log" |
  sort -rn | awk -v n="$n" 'NR <= n'
awk '/^Test time = / { total += $4; k++ } END { printf "%8.2f s  the sum of all %d entries\n", total, k }' "$log"
