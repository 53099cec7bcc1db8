#!/usr/bin/env bash
# Exact resume, latency included: a search that trains and measures real latencies (tiny
# synthetic task) is killed with SIGKILL at random moments and resumed each time. A measured
# latency differs from one measurement to the next, so this checks what makes a resumed search
# equal an uninterrupted one: every candidate's latency was measured once, journaled before its
# training (the latency stage), and the trial keeps exactly that journaled number; resume never
# measures a journaled candidate again.
# With PRECISION int8 the candidates are also deployed as int8 (deploy.precision) and their
# int8_latency_ms is checked the same way (taken in the same latency stage).
# Usage: crash_latency_test.sh PARETONAS_BINARY SOURCE_DIR [KILLS] [PRECISION]
set -uo pipefail
bin=$1
src=$2
kills=${3:-6}
precision=${4:-fp32}
work=$(mktemp -d /tmp/paretonas-crash-latency-XXXXXX)
trap 'rm -rf "$work"' EXIT

source "$src/tests/cli_checks.sh"  # holds_run

cfg=$src/tests/data/tiny_synthetic.yaml
sets=(--set dataset.synthetic_train=1600 --set search.population=6 --set budget.max_evals=24
      --set "constraints=[]")
[[ $precision == int8 ]] && sets+=(--set deploy.precision=int8 --set deploy.calibration_images=64)
run=$work/run
finished=0
for ((i = 1; i <= kills; i++)); do
  if [[ -f $run/checkpoint.bin ]]; then
    "$bin" resume "$run" -q >>"$work/log" 2>&1 &
  else
    rm -rf "$run"
    "$bin" search --config "$cfg" --run-dir "$run" "${sets[@]}" -q >>"$work/log" 2>&1 &
  fi
  pid=$!
  holds_run "$pid" "$run"
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
  else
    wait "$pid"
    finished=1
    break
  fi
done
if [[ $finished -eq 0 ]]; then
  "$bin" resume "$run" -q >>"$work/log" 2>&1 || { echo "FAIL: final resume"; tail -20 "$work/log"; exit 1; }
fi

"$bin" status "$run" --journal >"$work/journal.jsonl" || { echo "FAIL: status --journal"; exit 1; }
python3 - "$work/journal.jsonl" "$run/trials.jsonl" "$precision" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
trials = [json.loads(l) for l in open(sys.argv[2])]
keys = ["latency_ms"] + (["int8_latency_ms"] if sys.argv[3] == "int8" else [])
fail = 0
first = {}      # trial -> its latency stage records
last = {}       # (trial, key) -> the last latency it was given (stage or measured again)
for r in records:
    if r["rung"] == -3:
        first.setdefault(r["trial"], []).append(r)
    for key in keys:
        if (r["rung"] == -3 or r["rung"] <= -10) and r["ok"] and key in r["metrics"]:
            last[(r["trial"], key)] = r["metrics"][key]
        if r["rung"] == -1 and key in r["metrics"]:
            print("FAIL: trial %d: its training measured %s again" % (r["trial"], key)); fail = 1
for t, rs in first.items():
    if len(rs) != 1:
        print("FAIL: trial %d: latency measured %d times by the stage (resume measured it again)" % (t, len(rs))); fail = 1
complete = [t for t in trials if t["status"] == "complete"]
for t in complete:
    for key in keys:
        if (t["id"], key) not in last:
            print("FAIL: trial %d has no journaled %s" % (t["id"], key)); fail = 1
        elif t[key] != last[(t["id"], key)]:
            print("FAIL: trial %d: %s %r, journaled %r" % (t["id"], key, t[key], last[(t["id"], key)])); fail = 1
print("crash-resume with measured latency (%s): %d trials, %d latencies journaled once each, every trial "
      "keeps its journaled latency: %s" % (", ".join(keys), len(complete), len(first), "yes" if not fail else "no"))
sys.exit(fail)
PY
