#!/usr/bin/env bash
# evaluator.kind: command end to end: a stand-in training script (tests/data/fake_trainer.py)
# that succeeds, fails, hangs past the timeout, writes a malformed result or none; kill -9 in the
# middle of a search and resume; the template experiments/byo/train.py trains real candidates.
# Usage: command_evaluator_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-command-XXXXXX)
trap 'pkill -9 -f "$work" 2>/dev/null; rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() {  # expect NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then ok; else bad "$1: $2 lacks '$3'"; sed 's/^/    /' "$2" | tail -8; fi
}
if ! /usr/bin/python3 -c "import json" 2>/dev/null; then
  echo "skip: /usr/bin/python3 is missing (the command evaluator's tests run Python scripts)"
  exit 77
fi
fake=$src/tests/data/fake_trainer.py
# A trial's line of trials.jsonl: id status failure val_accuracy (what must survive a resume).
signature() {
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["id"], t["arch"], t["status"], t.get("val_accuracy"), t.get("failure", "")[:60])' "$1"
}
# Objectives val_accuracy and params: measured latency is noise that would steer two runs apart.
experiment() {  # experiment FILE COMMAND MAX_EVALS [TIMEOUT]
  sed -e 's/^  kind: train/  kind: command/' -e "s#^  workers: 2#  workers: 2\n  command: $2\n  command_timeout: ${4:-0}#" \
      -e 's/^  max_evals: .*/  max_evals: '"$3"'/' -e 's/^constraints:.*//' \
      -e 's/metric: latency_ms/metric: params/' "$src/tests/data/tiny_synthetic.yaml" >"$1"
}

# 1. Success and every failure, each a trial with its reason and the stderr tail.
experiment "$work/pick.yaml" "/usr/bin/python3 $fake pick" 8 2
if "$bin" search -c "$work/pick.yaml" -r "$work/pick" -q >"$work/pick.log" 2>&1; then ok; else bad "search with the picky script"; tail -20 "$work/pick.log"; fi
signature "$work/pick/trials.jsonl" >"$work/pick.sig"
[[ $(grep -c " complete " "$work/pick.sig") -eq 4 ]] && ok || { bad "4 trials complete"; cat "$work/pick.sig"; }
grep '"id":1,' "$work/pick/trials.jsonl" >"$work/t1"; expect "exit status" "$work/t1" "the command exited with status 3"
expect "stderr tail" "$work/t1" "ValueError: the user's loop broke"
grep '"id":2,' "$work/pick/trials.jsonl" >"$work/t2"; expect "timeout" "$work/t2" "ran past evaluator.command_timeout (2 s) and was killed"
grep '"id":3,' "$work/pick/trials.jsonl" >"$work/t3"; expect "malformed" "$work/t3" "is malformed: metrics.val_accuracy: 'high' is not a number"
grep '"id":4,' "$work/pick/trials.jsonl" >"$work/t4"; expect "no result" "$work/t4" "exited with status 0 but wrote no result file"
grep '"id":0,' "$work/pick/trials.jsonl" >"$work/t0"
for m in '"latency_ms":' '"params":' '"command_seconds":' '"epochs_run":1' '"val_error":'; do expect "metric $m" "$work/t0" "$m"; done
expect "stdout kept" "$work/pick/trials/0/stdout.txt" "fake trainer: trial 0 on cpu (ok)"
for f in request.json model.torchscript.pt graph.json; do
  [[ -s $work/pick/trials/0/$f ]] && ok || bad "trial folder lacks $f"
done
expect "the request names the recipe" "$work/pick/trials/0/request.json" '"batch_size": 32'
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  if /usr/bin/python3 "$src/scripts/check-torchscript.py" "$work/pick/trials/0/model.torchscript.pt" >"$work/ts.log" 2>&1; then ok
  else bad "the candidate does not train in Python"; cat "$work/ts.log"; fi
fi

# 2. kill -9 in the middle of a search, then resume: the same trials as an uninterrupted run.
experiment "$work/slow.yaml" "/usr/bin/python3 $fake slow" 10
"$bin" search -c "$work/slow.yaml" -r "$work/ref" -q >"$work/ref.log" 2>&1 || { bad "reference run"; tail "$work/ref.log"; }
"$bin" search -c "$work/slow.yaml" -r "$work/crash" -q >"$work/crash.log" 2>&1 &
pid=$!
for ((t = 0; t < 400; t++)); do
  [[ $(grep -c . "$work/crash/trials.jsonl" 2>/dev/null || echo 0) -ge 3 ]] && break
  sleep 0.05
done
"$bin" status "$work/crash" >"$work/st-running" 2>&1
expect "status of a running search" "$work/st-running" "state:       running (pid $pid)"
kill -9 "$pid"; wait "$pid" 2>/dev/null
"$bin" status "$work/crash" >"$work/st-killed" 2>&1
expect "status after kill -9" "$work/st-killed" "not running, and it recorded no end"
expect "status says how to continue" "$work/st-killed" "continue with \`paretonas resume $work/crash\`"
told=$(grep -c . "$work/crash/trials.jsonl" 2>/dev/null || echo 0)
[[ $told -ge 3 && $told -lt 10 ]] && ok || bad "killed after $told of 10 trials (expected mid-run)"
if "$bin" resume "$work/crash" -q >>"$work/crash.log" 2>&1; then ok; else bad "resume"; tail "$work/crash.log"; fi
expect "resume says where it starts" "$work/crash.log" "(numbered from 0): "
"$bin" status "$work/crash" >"$work/st-done" 2>&1
expect "status after the resumed search ended" "$work/st-done" "state:       finished: reached 10 evaluations"
if cmp -s <(signature "$work/ref/trials.jsonl") <(signature "$work/crash/trials.jsonl"); then ok
else bad "resumed trials differ from the uninterrupted run"; diff <(signature "$work/ref/trials.jsonl") <(signature "$work/crash/trials.jsonl") | head; fi

# 2b. A training command that starts processes of its own dies with the search, even on kill -9:
# its supervisor (PDEATHSIG) kills the command's whole process group.
marker="sleep 31.$$"
experiment "$work/spawn.yaml" "/bin/bash -c '$marker \& wait' spawner" 4
"$bin" search -c "$work/spawn.yaml" -r "$work/spawn" -q >"$work/spawn.log" 2>&1 &
pid=$!
for ((t = 0; t < 200; t++)); do pgrep -f "$marker" >/dev/null && break; sleep 0.05; done
pgrep -f "$marker" >/dev/null && ok || bad "the spawning command did not start"
kill -9 "$pid"; wait "$pid" 2>/dev/null
for ((t = 0; t < 40; t++)); do pgrep -f "$marker" >/dev/null || break; sleep 0.05; done
if pgrep -f "$marker" >/dev/null; then bad "training commands outlived kill -9 of the search: $(pgrep -af "$marker" | head -3)"; pkill -9 -f "$marker"
else ok; fi

# 3. Bad configs.
"$bin" validate "$work/pick.yaml" --set evaluator.command=' ' >"$work/v1" 2>&1; [[ $? -eq 2 ]] && ok || bad "empty command accepted"
expect "empty command" "$work/v1" "evaluator.command"
"$bin" validate "$src/tests/data/tiny_synthetic.yaml" --set evaluator.command=x >"$work/v2" 2>&1; [[ $? -eq 2 ]] && ok || bad "command with kind train accepted"
expect "command with kind train" "$work/v2" "only for evaluator.kind: command"

# 4. The template script trains real candidates on a .npz.
if /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  /usr/bin/python3 -c '
import numpy as np, sys
rng = np.random.default_rng(0)
y = np.arange(160) % 4
x = (rng.integers(0, 60, (160, 8, 8)) + 45 * y[:, None, None]).astype(np.uint8)
np.savez(sys.argv[1], x_train=x, y_train=y)' "$work/tiny.npz"
  cat >"$work/byo.yaml" <<YAML
name: byo
seed: 4
space: {name: nb201, set: {channels: 4, cells_per_stage: 1}}
dataset: {name: numpy, path: $work/tiny.npz, validation: 40}
training: {epochs: 2, batch_size: 16, lr: 0.1}
search: {population: 4}
evaluator:
  kind: command
  command: /usr/bin/python3 $src/experiments/byo/train.py
  workers: 2
  latency: {repeats: 3, warmup: 1}
budget: {max_evals: 3}
YAML
  if "$bin" search -c "$work/byo.yaml" -r "$work/byo" -q >"$work/byo.log" 2>&1; then ok; else bad "template search"; tail -20 "$work/byo.log"; fi
  n=$(grep -c '"status":"complete"' "$work/byo/trials.jsonl" 2>/dev/null || echo 0)
  [[ $n -eq 3 ]] && ok || { bad "the template completed $n of 3 trials"; cat "$work"/byo/trials/*/stderr.txt | tail -20; }
  expect "the template reports a learning curve" "$(ls "$work"/byo/trials/0/result-*.json | head -1)" '"curve": [{"epoch": 1'
else
  echo "note: /usr/bin/python3 lacks torch or numpy (python3-torch); the template check is skipped"
fi

echo "command evaluator: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
