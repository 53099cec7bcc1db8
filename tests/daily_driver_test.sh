#!/usr/bin/env bash
# What an Optuna user reaches for every day (issue #56), end to end on a synthetic table (no
# training): a wall-clock budget that `resume` extends, trials.jsonl with times and choices,
# front.csv numbers as written, and `pick`.
# Usage: daily_driver_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-daily-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/cli_checks.sh"
source "$src/tests/table_fixture.sh"
py=/usr/bin/python3
table_experiment "$bin" "$work" t 3 8 1 100 100 || { echo "FAIL: the table fixture"; exit 1; }
run=$work/run

# --- A time budget: 8 evaluations of 0.1 s a generation (about 0.8 s each); 2 s of budget.
check "a search with only a time budget" 0 "$bin" search --config "$work/t.yaml" --run-dir "$run" \
  --max-evals 0 --seconds 2 --quiet
contains "it says why it stopped" "reached the time budget of 2.0 s"
# The last generation began before the budget ran out (measured from the first trial's start,
# which is after the loop's: an underestimate, so this cannot fail by rounding), and the budget
# was spent when the search stopped.
gens() { "$py" -c "import json,sys; print(len({json.loads(l)['generation'] for l in open(sys.argv[1])}))" "$run/trials.jsonl"; }
# within SECONDS_LEFT FROM_GENERATION [AT_LEAST]: this process's search (its generations from
# FROM_GENERATION on) began its last generation less than SECONDS_LEFT after its first, and ended
# at least AT_LEAST after it.
within() {
  "$py" - "$run/trials.jsonl" "$@" <<'PY'
import datetime, json, sys
left, first, least = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0
t = [json.loads(l) for l in open(sys.argv[1])]
t = [x for x in t if x["generation"] >= first]
at = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
start = min(at(x["started"]) for x in t)
last = max(x["generation"] for x in t)
began = min(at(x["started"]) for x in t if x["generation"] == last)
ended = max(at(x["finished"]) for x in t)
print(f"generations {first}-{last}: the last began {began - start:.2f} s in, the search ended {ended - start:.2f} s in")
sys.exit(0 if began - start < left and ended - start >= least else 1)
PY
}
first=$(gens)
check "it stopped within one generation after the budget" 0 within 2 0 1
check "more than one generation ran" 0 test "$first" -ge 2
check "status shows the time budget" 0 "$bin" status "$run"
contains "with what was spent" "of a budget of"
check "resume --seconds below the time spent is refused" 2 "$bin" resume "$run" --seconds 1
contains "it says a budget only grows" "can only grow"
check "resume without a larger budget ends at once" 0 "$bin" resume "$run" --quiet
contains "for the budget is spent" "reached the time budget"
check "no generation ran" 0 test "$(gens)" -eq "$first"
check "resume --seconds extends it" 0 "$bin" resume "$run" --seconds 4 --quiet
contains "counting the time already spent" "of the time budget of 4.0 s spent"
contains "to the new budget" "reached the time budget of 4.0 s"
check "more generations ran" 0 test "$(gens)" -gt "$first"
# The first process spent 2 s or more: less than 2 s were left.
check "and stopped within one generation after the new budget" 0 within 2 "$first"
check "a negative budget is refused" 2 "$bin" search --config "$work/t.yaml" --run-dir "$work/neg" --seconds -1
contains "with the value and what is allowed" "--seconds: '-1' is negative (allowed: 0 or more)"
check "a negative budget.seconds is blamed on --set" 2 "$bin" search --config "$work/t.yaml" --run-dir "$work/neg" \
  --set budget.seconds=-3
contains "naming the command line" "--set budget.seconds=-3"

# --- trials.jsonl: UTC times, choices by decision name; front.csv in shortest numbers.
fields() {
  "$py" - "$run/trials.jsonl" <<'PY'
import json, re, sys
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for line in open(sys.argv[1]):
    t = json.loads(line)
    assert iso.match(t["started"]) and iso.match(t["finished"]) and t["started"] <= t["finished"], t
    c = t["choices"]
    assert len(c) == 6 and all(k.startswith("cell.") for k in c), c
    # the choices spell the arch string: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
    assert all(op in t["arch"] for op in c.values()), (c, t["arch"])
print("ok")
PY
}
check "every trial has its start, end and choices" 0 fields
check "front.csv has no 17-digit artefacts" 1 grep -E '[0-9]\.[0-9]{14,}' "$run/front.csv"

# --- pick: the most accurate trial under a latency, checked against trials.jsonl by Python.
expect_pick() {  # expect_pick MAX_LATENCY : the id Python picks from trials.jsonl
  "$py" - "$run/trials.jsonl" "$1" <<'PY'
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
ok = [x for x in t if x["status"] == "complete" and x.get("feasible", True) and x["latency_ms"] <= float(sys.argv[2])]
best = max(ok, key=lambda x: (x["val_accuracy"], -x["id"]))
print(best["id"])
PY
}
lat=$("$py" -c "import json,sys,statistics; print(statistics.median(json.loads(l)['latency_ms'] for l in open(sys.argv[1])))" "$run/trials.jsonl")
want=$(expect_pick "$lat")
check "pick the most accurate under a latency" 0 "$bin" pick "$run" --where "latency_ms<=$lat" --max val_accuracy
contains "it names the trial Python picks" "trial $want "
contains "and says how it chose" "with latency_ms<=$lat"
check "pick --json prints its trials.jsonl line" 0 "$bin" pick "$run" --where "latency_ms <= $lat" --max val_accuracy --json
contains "the same trial" "{\"id\":$want,"
check "several conditions" 0 "$bin" pick "$run" --where "latency_ms<=$lat" --where 'params>0' --min val_error
contains "the same trial again" "trial $want "
check "an unknown metric is refused" 2 "$bin" pick "$run" --where 'latncy_ms<=2' --max val_accuracy
contains "naming it and listing the metrics" "no trial of $run has the metric 'latncy_ms'; its metrics:"
check "a condition without a comparison is refused" 2 "$bin" pick "$run" --where 'latency_ms' --max val_accuracy
contains "saying what is expected" "expected METRIC OP NUMBER"
check "no metric to optimise is refused" 2 "$bin" pick "$run" --where 'latency_ms<=2'
check "an empty selection fails" 1 "$bin" pick "$run" --where 'latency_ms<=0.001' --max val_accuracy
contains "saying which condition emptied it and the nearest value" "0 with latency_ms<=0.001 (the nearest latency_ms there:"
check "pick --export writes the chosen trial" 0 "$bin" pick "$run" --where "latency_ms<=$lat" --max val_accuracy \
  --export "$work/picked"
check "its JSON" 0 test -s "$work/picked/arch_$want.json"

# --- search.enqueue: known architectures first, in their order; more than a generation spill over.
"$bin" space sample --space nb201 -n 10 --seed 11 >"$work/keys"
printf '# ten cells to try first\n' >"$work/keys.txt"
cat "$work/keys" >>"$work/keys.txt"
sed "s|^search: {|search: {enqueue_file: keys.txt, |" "$work/t.yaml" >"$work/q.yaml"
check "a search with 10 enqueued cells and generations of 8" 0 "$bin" search --config "$work/q.yaml" \
  --run-dir "$work/q" --max-evals 24 --quiet
archs() { "$py" -c "import json,sys; [print(json.loads(l)['arch']) for l in open(sys.argv[1])]" "$work/q/trials.jsonl"; }
check "the first 10 trials are the enqueued cells, in order" 0 test "$(archs | head -10)" = "$(cat "$work/keys")"
gen_of() { "$py" -c "import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])['generation'])" "$work/q/trials.jsonl" "$1"; }
check "8 in generation 0" 0 test "$(gen_of 7)" = 0
check "2 spill into generation 1" 0 test "$(gen_of 8)$(gen_of 9)" = 11
check "the run's config holds them" 0 grep -qF "$(head -1 "$work/keys")" "$work/q/config.yaml"
check "a key of another space is refused" 2 "$bin" search --config "$work/t.yaml" --run-dir "$work/q2" \
  --set 'search.enqueue=["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", "w=1.0;s0=k3e1"]'
contains "naming the entry" "search.enqueue[1]: 'w=1.0;s0=k3e1' is not an architecture of nb201"
check "a missing file is refused" 2 "$bin" search --config <(sed "s|^search: {|search: {enqueue_file: nope.txt, |" "$work/t.yaml") \
  --run-dir "$work/q3"
contains "naming it" "search.enqueue_file"

# --- Fixing single decisions (Optuna's PartialFixedSampler): an experiment's space.fix, a space
# file's fix:; every trial keeps them while the rest is searched.
sed "s|^space: nb201|space: {name: nb201, fix: {\"cell.0->1\": nor_conv_3x3, \"cell.2->3\": skip_connect}}|" \
  "$work/t.yaml" >"$work/f.yaml"
check "a search with two decisions fixed" 0 "$bin" search --config "$work/f.yaml" --run-dir "$work/f" --max-evals 24 --quiet
fixed_kept() {
  "$py" - "$work/f/trials.jsonl" <<'PY'
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
ok = all(x["choices"]["cell.0->1"] == "nor_conv_3x3" and x["choices"]["cell.2->3"] == "skip_connect" for x in t)
free = len({x["choices"]["cell.1->2"] for x in t})
print(len(t), "trials; the other decisions took", free, "options on cell.1->2")
sys.exit(0 if ok and len(t) == 24 and free > 1 else 1)
PY
}
check "every trial keeps them, the others vary" 0 fixed_kept
check "the run's config says so" 0 grep -q '"cell.0->1": nor_conv_3x3' "$work/f/config.yaml"
check "resume accepts its own config" 0 "$bin" resume "$work/f" --max-evals 32 --quiet
check "an unknown decision is refused" 2 "$bin" validate "$work/t.yaml" --set 'space={name: nb201, fix: {"cell.0->4": none}}'
contains "listing the decisions" "no decision 'cell.0->4' in this space; its decisions: cell.0->1"
check "an unknown option is refused" 2 "$bin" validate "$work/t.yaml" --set 'space={name: nb201, fix: {"cell.0->1": conv_5x5}}'
contains "listing the options" "'conv_5x5' is not an option of cell.0->1; allowed: none, skip_connect"
sed -e '/^name:/a fix: {stage2.block0: k5e4}' "$src/experiments/spaces/tiny_hybrid.yaml" >"$work/hyb_fixed.yaml"
check "a space file's fix: section" 0 "$bin" space sample --space "$work/hyb_fixed.yaml" -n 20 --seed 3
check "samples keep it" 0 test "$(grep -c 's2=k5e4' "$work/out")" -eq 20

# --- Two runs compared: status A B puts their hypervolumes in one box; Python recomputes it.
check "status of two runs" 0 "$bin" status "$run" "$work/q"
contains "each run's status" "== $work/q"
contains "then one box" "compared in one box"
cp "$work/out" "$work/two.txt"
common_box() {
  "$py" - "$run/trials.jsonl" "$work/q/trials.jsonl" "$work/two.txt" <<'PY'
import json, re, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:3]]
pts = [[(-t["val_accuracy"], t["latency_ms"]) for t in r if t["status"] == "complete" and t.get("feasible", True)] for r in runs]
allp = [p for r in pts for p in r]
lo = [min(p[i] for p in allp) for i in (0, 1)]
hi = [max(p[i] for p in allp) for i in (0, 1)]
ref = [h + 0.1 * (h - l) for l, h in zip(lo, hi)]
def hv(ps):
    ps = sorted(((p[0] - lo[0]) / (ref[0] - lo[0]), (p[1] - lo[1]) / (ref[1] - lo[1])) for p in ps)
    area, best = 0.0, 1.0
    for x, y in ps:
        if y < best:
            area += (1 - x) * (best - y)
            best = y
    return area
out = open(sys.argv[3]).read().split("compared in one box")[1]
got = [float(x) for x in re.findall(r"hypervolume ([0-9.]+)", out)]
want = [hv(p) for p in pts]
print("printed", got, "python", [round(w, 4) for w in want])
sys.exit(0 if len(got) == 2 and all(abs(g - w) < 2e-3 for g, w in zip(got, want)) else 1)
PY
}
check "the common box's hypervolumes are Python's" 0 common_box
check "status --journal of two runs is refused" 2 "$bin" status "$run" "$work/q" --journal
check "report of two runs on one page" 0 "$bin" report "$run" "$work/q" --out "$work/two.html"
check "with the common box" 0 grep -q "hypervolume, common box" "$work/two.html"
check "and each run's body" 0 grep -q "id='run1'" "$work/two.html"
check "report of two runs needs --out" 2 "$bin" report "$run" "$work/q"
check "report takes serve's axes" 0 "$bin" report "$run" --out "$work/axes.html" --x params --y val_accuracy --xscale log
check "the plot is drawn on them" 0 grep -q "parameters, log" "$work/axes.html"
check "serve --max-wait out of range is refused" 2 "$bin" serve "$run" --max-wait 0
contains "naming the flag" "--max-wait"
check "an unknown axis is refused" 2 "$bin" report "$run" --out "$work/bad.html" --x parms
contains "listing the metrics" "not a metric of the trials of $run (allowed: "

echo "daily driver: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
