#!/usr/bin/env bash
# Kills a real CLI search with SIGKILL at >= 10 random moments (checkpoint and journal writes
# included), resuming each time; the final trials and front must equal an uninterrupted run's.
# Then checks that SIGTERM stops gracefully with a resume hint.
# With MODE mf the search is multi-fidelity (successive halving over three rungs), so kills land
# in the middle of rungs and between a rung and its promotions; with mf-async it is asynchronous
# successive halving on one worker (with more, its promotions depend on arrival order); with
# mf-pool promotions may continue trials of earlier generations (fidelity.promotion_pool: all),
# so kills also land between such a promotion and its result.
# Usage: crash_resume_test.sh PARETONAS_BINARY SOURCE_DIR [KILLS] [MODE]
set -uo pipefail
bin=$1
kills=${3:-12}
work=$(mktemp -d /tmp/paretonas-crash-XXXXXX)
trap 'rm -rf "$work"' EXIT

source "$(dirname "$0")/cli_checks.sh"  # holds_run

# A synthetic table over the whole NB201 space, so the test needs nothing outside the repo.
source "$(dirname "$0")/table_fixture.sh"
mode=${4:-}
table_experiment "$bin" "$work" exp 5 16 "$([[ $mode == mf-async ]] && echo 1 || echo 2)" 25 400 "$mode" || exit 1

"$bin" search --config "$work/exp.yaml" --run-dir "$work/ref" -q >"$work/ref.log" 2>&1 || { cat "$work/ref.log"; exit 1; }

run=$work/crash
done_flag=0
for ((i = 1; i <= kills; i++)); do
  if [[ -f $run/checkpoint.bin ]]; then
    "$bin" resume "$run" -q >>"$work/crash.log" 2>&1 &
  else
    rm -rf "$run"
    "$bin" search --config "$work/exp.yaml" --run-dir "$run" -q >>"$work/crash.log" 2>&1 &
  fi
  pid=$!
  holds_run "$pid" "$run"
  sleep "0.$((RANDOM % 5))$((RANDOM % 10))1"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    echo "kill $i: SIGKILL after $(grep -c . "$run/trials.jsonl" 2>/dev/null || echo 0) told trials"
  else
    wait "$pid"
    echo "kill $i: the search had already finished"
    done_flag=1
    break
  fi
done
if [[ $done_flag -eq 0 ]]; then
  "$bin" resume "$run" -q >>"$work/crash.log" 2>&1 || { echo "final resume failed"; tail -20 "$work/crash.log"; exit 1; }
fi

fail=0
if ! cmp -s <(clockless "$work/ref/trials.jsonl") <(clockless "$run/trials.jsonl"); then
  echo "FAIL: trials.jsonl differs from the uninterrupted run"
  diff <(clockless "$work/ref/trials.jsonl" | head -c 3000) <(clockless "$run/trials.jsonl" | head -c 3000) | head -10
  fail=1
fi
if ! cmp -s "$work/ref/front.csv" "$run/front.csv"; then
  echo "FAIL: front.csv differs"
  fail=1
fi
echo "crash-resume: $(wc -l <"$run/trials.jsonl") trials, front of $(($(wc -l <"$run/front.csv") - 1)), identical: $([[ $fail -eq 0 ]] && echo yes || echo no)"

# Graceful stop: SIGTERM finishes the evaluations in flight, saves, and says how to resume.
rm -rf "$work/term"
"$bin" search --config "$work/exp.yaml" --run-dir "$work/term" -q >"$work/term.log" 2>&1 &
pid=$!
holds_run "$pid" "$work/term"
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
if [[ $rc -ne 130 ]] || ! grep -q "paretonas resume" "$work/term.log"; then
  echo "FAIL: SIGTERM: exit $rc"; cat "$work/term.log"; fail=1
fi
told=$(grep -c . "$work/term/trials.jsonl")
"$bin" status "$work/term" >"$work/term.status" 2>&1
grep -q "evaluations: $told of a budget of 400" "$work/term.status" \
  || { echo "FAIL: status after SIGTERM does not count $told evaluations"; head -4 "$work/term.status"; fail=1; }
grep -q "state:       stopped by a signal after $told evaluations; continue with \`paretonas resume $work/term\`" "$work/term.status" \
  || { echo "FAIL: status after SIGTERM does not say it was stopped and how to resume"; head -4 "$work/term.status"; fail=1; }
"$bin" resume "$work/term" -q >/dev/null 2>&1 || { echo "FAIL: resume after SIGTERM"; fail=1; }
cmp -s <(clockless "$work/ref/trials.jsonl") <(clockless "$work/term/trials.jsonl") || { echo "FAIL: trials after SIGTERM+resume differ"; fail=1; }

# status is readable while a search runs.
rm -rf "$work/live"
"$bin" search --config "$work/exp.yaml" --run-dir "$work/live" -q >/dev/null 2>&1 &
pid=$!
holds_run "$pid" "$work/live"
sleep 1.5
if ! "$bin" status "$work/live" >"$work/status.log" 2>&1 || ! grep -q "Pareto front" "$work/status.log"; then
  echo "FAIL: status during a running search"; cat "$work/status.log"; fail=1
fi
wait "$pid"

# A damaged checkpoint: resume falls back to the previous snapshot and the journal, and ends
# identical; a bit flip in the journal keeps its valid prefix.
cp -r "$work/term" "$work/damaged"
rm -f "$work/damaged/trials.jsonl"
"$bin" resume "$work/damaged" --max-evals 400 -q >/dev/null 2>&1
size=$(stat -c %s "$work/damaged/checkpoint.bin")
truncate -s $((size / 2)) "$work/damaged/checkpoint.bin"
if ! "$bin" resume "$work/damaged" -q >"$work/damaged.log" 2>&1; then
  echo "FAIL: resume with a truncated checkpoint"; cat "$work/damaged.log"; fail=1
fi
grep -q "damaged checkpoint at offset" "$work/damaged.log" || { echo "FAIL: no offset named"; cat "$work/damaged.log"; fail=1; }
cmp -s <(clockless "$work/ref/trials.jsonl") <(clockless "$work/damaged/trials.jsonl") || { echo "FAIL: trials after checkpoint damage differ"; fail=1; }
jsize=$(stat -c %s "$work/damaged/journal.bin")
printf '\xff' | dd of="$work/damaged/journal.bin" bs=1 seek=$((jsize - 20)) conv=notrunc 2>/dev/null
"$bin" status "$work/damaged" >"$work/jstatus.log" 2>&1
grep -q "damaged journal at offset" "$work/jstatus.log" || { echo "FAIL: journal damage not reported"; cat "$work/jstatus.log"; fail=1; }

# Disk full (simulated with a file-size limit: writes past it fail with EFBIG): the search stops
# with a clear message, the previous checkpoint stays loadable, and resume finishes the run.
rm -rf "$work/full"
(
  trap '' XFSZ
  ulimit -f 64  # KiB; the journal and checkpoint outgrow it within a few generations
  exec "$bin" search --config "$work/exp.yaml" --run-dir "$work/full" -q
) >"$work/full.log" 2>&1
rc=$?
if [[ $rc -ne 1 ]] || ! grep -qE "intact|write failed" "$work/full.log"; then
  echo "FAIL: disk full: exit $rc"; tail -5 "$work/full.log"; fail=1
fi
"$bin" status "$work/full" >/dev/null 2>&1 || { echo "FAIL: the checkpoint after a full disk is not loadable"; fail=1; }
"$bin" resume "$work/full" -q >/dev/null 2>&1 || { echo "FAIL: resume after a full disk"; fail=1; }
cmp -s <(clockless "$work/ref/trials.jsonl") <(clockless "$work/full/trials.jsonl") || { echo "FAIL: trials after a full disk differ"; fail=1; }
echo "disk full: $(grep -m1 'error' "$work/full.log")"

# A real full file system: the run directory on a 64 KiB tmpfs (needs root and mount rights;
# skipped with this note otherwise). Then the tmpfs grows and resume finishes the run.
mkdir -p "$work/tmpfs"
if mount -t tmpfs -o size=64k tmpfs "$work/tmpfs" 2>/dev/null; then
  trap 'umount "$work/tmpfs" 2>/dev/null; rm -rf "$work"' EXIT
  "$bin" search --config "$work/exp.yaml" --run-dir "$work/tmpfs/run" -q >"$work/tmpfs.log" 2>&1
  rc=$?
  if [[ $rc -ne 1 ]] || ! grep -q "intact" "$work/tmpfs.log"; then
    echo "FAIL: full tmpfs: exit $rc"; tail -5 "$work/tmpfs.log"; fail=1
  fi
  mount -o remount,size=8m "$work/tmpfs"
  "$bin" resume "$work/tmpfs/run" -q >/dev/null 2>&1 || { echo "FAIL: resume after a full tmpfs"; fail=1; }
  cmp -s <(clockless "$work/ref/trials.jsonl") <(clockless "$work/tmpfs/run/trials.jsonl") || { echo "FAIL: trials after a full tmpfs differ"; fail=1; }
  echo "full tmpfs: $(grep -m1 'error' "$work/tmpfs.log")"
  umount "$work/tmpfs"
else
  echo "note: cannot mount a tmpfs here (needs root and mount rights); the real full-disk check is skipped (the file-size-limit one above ran)"
fi

[[ $fail -eq 0 ]] && echo "5 passed, 0 failed" || echo "failed"
exit $fail
