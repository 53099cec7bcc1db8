# What the end-to-end CLI scripts share; source it after setting $work (a scratch directory)
# and passed=0 failed=0.

check() {  # check NAME EXPECTED_RC COMMAND... ; output in $work/out
  local name=$1 want=$2 t0=$EPOCHREALTIME
  shift 2
  "$@" >"$work/out" 2>&1
  local rc=$?
  # PARETONAS_CHECK_TIMES=FILE: each check's seconds and name, to find the slow ones.
  [[ -n ${PARETONAS_CHECK_TIMES:-} ]] && awk -v a="$t0" -v b="$EPOCHREALTIME" -v n="$name" 'BEGIN { printf "%.2f %s\n", b - a, n }' >>"$PARETONAS_CHECK_TIMES"
  if [[ $rc -eq $want ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: exit $rc, expected $want"
    sed 's/^/    /' "$work/out" | tail -20
  fi
}

contains() {  # contains NAME TEXT : $work/out must contain TEXT
  if grep -qF -- "$2" "$work/out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1: output lacks '$2'"
    sed 's/^/    /' "$work/out" | tail -20
  fi
}

# FILE (trials.jsonl) without the wall-clock times of its trials ("started", "finished"): what
# two runs of one search must agree on byte for byte.
clockless() {
  sed -E 's/,"started":"[^"]*","finished":"[^"]*"//' "$1"
}

# Waits until process $1 holds run directory $2 (its pid in the lock file), so that signals
# land in the search rather than in the program's start-up (slow with CUDA LibTorch).
holds_run() {
  for ((t = 0; t < 600; t++)); do
    [[ "$(cat "$2/lock" 2>/dev/null)" == "$1" ]] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
