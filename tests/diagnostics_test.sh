#!/usr/bin/env bash
# Diagnostics that tell the truth (issue #54): a file given where a run directory belongs, a
# budget below what is done, constraints no value can meet, errors of command-line overrides named
# as such, --set on a list element, --compare without latency or without a front, infeasible
# trials in trials.jsonl and the report. Its own ctest entry, beside the long CLI script.
# Usage: diagnostics_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-diag-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/cli_checks.sh"
cfg=$src/tests/data/tiny_synthetic.yaml
run=$work/run
check "a finished run" 0 "$bin" search --config "$cfg" --run-dir "$run" -q
check "its status" 0 "$bin" status "$run"
contains "generations are numbered as done" "generation(s) done (generation"

for verb in status resume report export serve; do
  extra=()
  [[ $verb == report ]] && extra=(--out "$work/x.html")
  [[ $verb == export ]] && extra=(--front --out "$work/x")
  check "$verb on a file says it is a file" 2 timeout 20 "$bin" $verb "$run/trials.jsonl" "${extra[@]}"
  contains "and names the run directory" "is a file, not a run directory"
done
contains "it names the directory the file belongs to" "give its directory, $run"
budget_before=$(grep "max_evals:" "$run/config.yaml")
check "a budget below what is done is refused" 2 "$bin" resume "$run" --max-evals 3
contains "it says what is done" "evaluations already; a budget can only grow"
check "the refusal leaves the config as it was" 0 test "$(grep "max_evals:" "$run/config.yaml")" = "$budget_before"
check "a constraint no latency can meet is refused" 2 "$bin" validate "$cfg" --set 'constraints=["latency_ms <= -2"]'
contains "it names it and why" "'latency_ms <= -2' can never be met: latency_ms is a time, above 0"
contains "on the command line" "(command line)"
check "--max-evals 0 is blamed on the command line" 2 "$bin" search --config "$cfg" --run-dir "$work/x0" --max-evals 0
contains "it names the option" "--max-evals 0 (or --set budget.max_evals=0) (command line)"
check "one element of a list is set with --set" 0 "$bin" validate "$cfg" --set "objectives[1].metric=params"
contains "and it is set" "{metric: params, goal: min}"
check "a run without measured latency" 0 "$bin" search --config "$cfg" --run-dir "$work/nolat" -q --max-evals 6 \
  --set evaluator.latency.measure=false --set "objectives=[{metric: val_accuracy, goal: max}, {metric: params, goal: min}]"
check "--compare on it is refused" 2 "$bin" latency measure --front-of "$work/nolat" --compare --repeats 3 --out "$work/x.csv"
contains "it says there is nothing to compare" "nothing to compare with"
check "a run with an empty front" 0 "$bin" search --config "$cfg" --run-dir "$work/nofront" -q --max-evals 6 \
  --set 'constraints=["val_accuracy >= 99.9"]'
check "trials.jsonl says they are infeasible" 0 grep -q '"feasible":false,"violated":\["val_accuracy >= 99.9"\]' "$work/nofront/trials.jsonl"
check "re-timing its front is refused" 2 "$bin" latency measure --front-of "$work/nofront" --compare --out "$work/x.csv"
contains "it says why" "the run has no front yet"
check "no CSV is left" 1 test -e "$work/x.csv"
check "its report draws the infeasible trials as such" 0 "$bin" report "$work/nofront" --out "$work/nofront.html"
check "as crosses" 0 grep -q "class='infeasible'" "$work/nofront.html"

echo "diagnostics: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
