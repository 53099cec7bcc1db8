#!/usr/bin/env bash
# What new users hit (issue "readouts that mislead, runs that cannot move, exits that say ok"),
# end to end: a search whose every trial fails stops and says why (exit 1, status "failed"); a
# run directory resumes, reports and exports from anywhere and after it is moved; fidelity
# errors point at their own line or at the --set that made them, and odd settings are warned
# about; status mid-generation shows the generation's results so far.
# Usage: new_user_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-new-user-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/cli_checks.sh"
. "$src/tests/table_fixture.sh"
cfg=$src/tests/data/tiny_synthetic.yaml

# 1. Every trial fails: the search stops after search.max_failures_in_a_row (5), says why with the
# last failure, exits 1, and status shows "failed".
table_experiment "$bin" "$work" exp 3 8 2 0 40 || exit 1
printf 'arch,acc,lat\nnot-an-architecture,50,1\n' >"$work/empty.csv"
check "a search whose every trial fails exits non-zero" 1 "$bin" search --config "$work/exp.yaml" \
  --run-dir "$work/fail" --set evaluator.table.path="$work/empty.csv"
contains "it says why, with the last reason" "evaluations of this process all failed (search.max_failures_in_a_row: 5), the last #"
contains "the reason itself" "is not in $work/empty.csv"
check "not the whole budget" 0 test "$(grep -c '"status":"failed"' "$work/fail/trials.jsonl")" -lt 40
check "status of the failed search" 0 "$bin" status "$work/fail"
contains "status says failed" "state:       failed: stopped: the first"
check "a report of a run with no complete trial" 0 "$bin" report "$work/fail" --out "$work/fail.html"
check "it shows the failure reasons instead of empty plots" 0 grep -q "No complete trial" "$work/fail.html"
check "and no hypervolume plot" 1 grep -q "<h2>Hypervolume</h2>" "$work/fail.html"
check "0 turns it off" 0 "$bin" validate "$work/exp.yaml" --set search.max_failures_in_a_row=0
contains "and it is recorded" "max_failures_in_a_row: 0"

# 2. A run directory stands on its own: a space file beside the experiment, the search started
# elsewhere; resume, status, report and export from another directory, and after a move.
mkdir -p "$work/exp_dir/spaces" "$work/elsewhere"
cp "$src/experiments/spaces/tiny_hybrid.yaml" "$work/exp_dir/spaces/"
sed -e 's#^  name: nb201#  name: spaces/tiny_hybrid.yaml#' -e '/set: {channels: 4, cells_per_stage: 1}/d' \
  -e 's/max_evals: 12/max_evals: 6/' "$cfg" >"$work/exp_dir/exp.yaml"
check "a search with a space file beside its experiment" 0 bash -c "cd '$work/exp_dir' && '$bin' search --config exp.yaml --run-dir ../run -q"
check "the run keeps its own copy of the space" 0 cmp "$work/run/space.yaml" "$src/experiments/spaces/tiny_hybrid.yaml"
check "and names it" 0 grep -q "name: space.yaml" "$work/run/config.yaml"
check "resume from another directory" 0 bash -c "cd '$work/elsewhere' && '$bin' resume '$work/run' --max-evals 12 -q"
check "status from another directory" 0 bash -c "cd / && '$bin' status '$work/run'"
mv "$work/run" "$work/moved"
check "status after a move" 0 "$bin" status "$work/moved"
check "report after a move" 0 bash -c "cd '$work/elsewhere' && '$bin' report '$work/moved' --out '$work/r.html'"
check "export after a move" 0 bash -c "cd / && '$bin' export '$work/moved' --front --format json --out '$work/x'"
check "resume after a move" 0 bash -c "cd / && '$bin' resume '$work/moved' --max-evals 18 -q"

# 3. Fidelity errors point at their own line, or at the --set that made them; odd settings warn.
check "min above max, from the command line" 2 "$bin" validate "$cfg" --set fidelity.min=3 --set fidelity.max=1
contains "it blames the --set" "--set fidelity.min=3 (command line): field 'fidelity.min': 3 is above fidelity.max (1)"
sed -e 's/^budget:/fidelity:\n  min: 0.25\n  max: 1\n  eta: 1\nbudget:/' "$cfg" >"$work/eta1.yaml"
line=$(grep -n "eta: 1" "$work/eta1.yaml" | cut -d: -f1)
check "eta 1 in a file" 2 "$bin" validate "$work/eta1.yaml"
contains "it names eta's own line, and 1, not 1.000000" "eta1.yaml:$line: field 'fidelity.eta': 1 is not allowed"
check "eta 1.5 is allowed, with a warning" 0 "$bin" validate "$cfg" --set fidelity.min=0.1 --set fidelity.max=1 --set fidelity.eta=1.5
contains "the warning" "warning:"
contains "it counts the rungs" "6 rungs"
check "min equal to max is allowed, with a warning" 0 "$bin" validate "$cfg" --set fidelity.min=1 --set fidelity.max=1
contains "it says successive halving is off" "one rung, so no successive halving"
check "a first rung shorter than one training batch" 2 "$bin" validate "$cfg" --set fidelity.min=0.0001 --set fidelity.max=1
contains "it names the field and says why" "field 'fidelity.min': 0.0001 gives a first rung of 0.000152416 epochs, which is less than one training step"
printf 'name: x\nsearch: {population: [4\n' >"$work/bad.yaml"
check "a malformed YAML file shows the line and where" 2 "$bin" validate "$work/bad.yaml"
contains "the line" "search: {population: [4"
contains "the caret" "^"

# 4. Status mid-generation: the generation's results so far, not "no feasible architecture yet".
table_experiment "$bin" "$work" slow 5 16 1 150 64 || exit 1
"$bin" search --config "$work/slow.yaml" --run-dir "$work/slowrun" -q >/dev/null 2>&1 &
pid=$!
# Until 4 results of generation 1 are journaled: generation 0's 16 (the population), then 4 more.
for ((t = 0; t < 200; t++)); do
  [[ -s $work/slowrun/checkpoint.bin && $("$bin" status "$work/slowrun" --journal 2>/dev/null | grep -c '"rung":-1') -ge 20 ]] && break
  sleep 0.05
done
check "status mid-generation" 0 "$bin" status "$work/slowrun"
contains "the generation's results so far are on the front" "trial(s) of generation 1 complete so far"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# 5. Scripts under a python3 that lacks Debian's modules (a pyenv shim on PATH) say what is
# missing and which interpreter ran, instead of a raw ModuleNotFoundError.
if ! python3 -c "import numpy" 2>/dev/null; then
  check "check-deployment without numpy" 1 python3 "$src/scripts/check-deployment.py" x.json y.npz
  contains "it names the module and the interpreter" "NumPy is missing for this Python ($(python3 -c 'import sys; print(sys.executable)')"
else
  echo "note: python3 on PATH has numpy; the missing-module message is not exercised here"
fi
if ! python3 -c "import onnxruntime" 2>/dev/null && ! python3 -c "import torch" 2>/dev/null && python3 -c "import numpy" 2>/dev/null; then
  "$bin" latency kit --space nb201 --set channels=4 --set cells_per_stage=1 --input 1x16x16 -n 5 --out "$work/kit" >/dev/null 2>&1
  check "the kit runner without a backend" 1 python3 "$work/kit/run_latency.py"
  contains "it says what to install and for which Python" "neither ONNX Runtime nor PyTorch can be imported by this Python"
fi

echo "new-user: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
