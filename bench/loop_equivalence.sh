#!/usr/bin/env bash
# Runs one fixed set of searches with two builds of paretonas and compares their run files, to
# show that a change of the search loop's code (not of its behaviour) leaves every search as it was.
#
# Usage: bench/loop_equivalence.sh OLD_BINARY NEW_BINARY [WORK_DIR]
#
# The searches: on the synthetic NB201 table of tests/table_fixture.sh (exact results, no clock
# in them): full fidelity, synchronous rungs, rungs with a promotion pool, the pre-screen (by
# params), each with 1 and 2 workers, and asynchronous rungs with 1 worker (with 2 its order
# follows arrival, which the clock decides). There journal.bin, checkpoint.bin, trials.jsonl and
# front.csv must be byte-identical, except that since trials record when they ran (issue #56:
# a result's finished_unix in journal.bin and checkpoint.bin, "started"/"finished" in
# trials.jsonl) two runs differ there: compare trials.jsonl without those fields, as the masked
# comparison below does. On the tiny synthetic training task of tests/data (real
# LibTorch training): weight inheritance and the pre-screen by zero-cost proxies, 1 and 2 workers;
# a trained result carries wall-clock seconds and a measured latency, so there trials.jsonl and
# front.csv are compared with every field named *seconds* or latency* removed, and the weight
# files byte for byte.
# Exit 0 when every comparison holds; it prints one line per run.
set -uo pipefail
old=$1
new=$2
src=$(cd "$(dirname "$0")/.." && pwd)
work=${3:-$(mktemp -d /tmp/paretonas-equiv-XXXXXX)}
mkdir -p "$work"
. "$src/tests/table_fixture.sh"
. "$src/tests/cli_checks.sh"  # clockless
failed=0

# Writes DIR/NAME.yaml for a table search, then runs it with BIN into DIR/SIDE/NAME.
run_table() {  # run_table SIDE BIN NAME WORKERS MODE [extra --set ...]
  local side=$1 bin=$2 name=$3 workers=$4 mode=$5
  shift 5
  table_experiment "$bin" "$work" "$name" 7 8 "$workers" 0 64 "$mode" || return 1
  "$bin" search --config "$work/$name.yaml" --run-dir "$work/$side/$name" "$@" >"$work/$side/$name.out" 2>&1
}
run_train() {  # run_train SIDE BIN NAME WORKERS [extra --set ...]
  local side=$1 bin=$2 name=$3 workers=$4
  shift 4
  "$bin" search --config "$src/tests/data/tiny_synthetic.yaml" --run-dir "$work/$side/$name" \
    --set evaluator.workers="$workers" "$@" >"$work/$side/$name.out" 2>&1
}
records() {  # a journal's records (u32 length, u32 CRC, payload), sorted: arrival order aside
  python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
print(b[:12].hex())  # magic and format
pos, recs = 12, []
while pos + 8 <= len(b):
    n = struct.unpack_from("<I", b, pos)[0]
    recs.append(b[pos:pos + 8 + n].hex())
    pos += 8 + n
print("\n".join(sorted(recs)))
PY
}
masked() {  # the run files of a trained search without clock readings
  python3 - "$1" <<'PY'
import csv, json, sys
d = sys.argv[1]
timed = lambda k: "seconds" in k or k.startswith("latency") or k in ("started", "finished")
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if not timed(k)}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
for line in open(d + "/trials.jsonl"):
    print(json.dumps(strip(json.loads(line)), sort_keys=True))
for row in csv.DictReader(open(d + "/front.csv")):
    print(json.dumps(strip(row), sort_keys=True))
PY
}

for side in old new; do
  bin=$old
  [[ $side == new ]] && bin=$new
  mkdir -p "$work/$side"
  for w in 1 2; do
    run_table $side "$bin" full_w$w $w "" || echo "$side full_w$w: exit $?"
    run_table $side "$bin" sync_w$w $w mf || echo "$side sync_w$w: exit $?"
    run_table $side "$bin" pool_w$w $w mf-pool || echo "$side pool_w$w: exit $?"
    run_table $side "$bin" prescreen_w$w $w "" --set search.batch=16 --set search.prescreen.keep=8 \
      --set "search.prescreen.by=[{metric: params, goal: min}]" || echo "$side prescreen_w$w: exit $?"
    run_train $side "$bin" inherit_w$w $w --set search.inherit_weights=true \
      --set "objectives=[{metric: val_accuracy, goal: max}, {metric: params, goal: min}]" \
      --set "constraints=[]" || echo "$side inherit_w$w: exit $?"
    run_train $side "$bin" proxies_w$w $w --set "evaluator.proxies=[synflow, snip]" \
      --set search.prescreen.keep=6 --set search.batch=12 \
      --set "objectives=[{metric: val_accuracy, goal: max}, {metric: params, goal: min}]" || echo "$side proxies_w$w: exit $?"
  done
  run_table $side "$bin" async_w1 1 mf-async || echo "$side async_w1: exit $?"
done

for dir in "$work"/old/*/; do
  name=$(basename "$dir")
  if [[ $name == inherit_* || $name == proxies_* ]]; then
    if diff <(masked "$work/old/$name") <(masked "$work/new/$name") >/dev/null; then
      weights=ok n=0
      for f in "$work/old/$name"/weights/*.pt; do
        [[ -e $f ]] || continue
        n=$((n + 1))
        cmp -s "$f" "$work/new/$name/weights/$(basename "$f")" || weights="differ: $(basename "$f")"
      done
      [[ $weights == ok ]] && weights="identical ($n)"
      echo "$name: trials.jsonl and front.csv identical without clock fields ($(wc -l <"$work/old/$name/trials.jsonl") trials); weight files $weights"
      [[ $weights == identical* ]] || failed=1
    else
      echo "$name: DIFFERENT"; failed=1
    fi
    continue
  fi
  same=() clocked=()
  for f in journal.bin checkpoint.bin trials.jsonl front.csv; do
    if cmp -s "$work/old/$name/$f" "$work/new/$name/$f"; then
      same+=("$f")
    elif [[ $f == journal.bin ]] && diff <(records "$work/old/$name/$f") <(records "$work/new/$name/$f") >/dev/null; then
      same+=("journal.bin(records-in-another-order)")  # 2 workers: records are appended as they arrive
    elif [[ $f == journal.bin || $f == checkpoint.bin ]]; then
      clocked+=("$f")  # each result's finished_unix: two runs differ here; trials.jsonl holds the rest
    elif [[ $f == trials.jsonl ]] && cmp -s <(clockless "$work/old/$name/$f") <(clockless "$work/new/$name/$f"); then
      same+=("trials.jsonl(without-started/finished)")
    else
      echo "$name: $f DIFFERS"; failed=1
    fi
  done
  echo "$name: byte-identical: ${same[*]}${clocked:+; with clock readings, not compared: ${clocked[*]}} ($(wc -l <"$work/old/$name/trials.jsonl") trials, $(($(wc -l <"$work/old/$name/front.csv") - 1)) on the front)"
done
[[ $failed -eq 0 ]] && echo "equivalent" || echo "NOT equivalent (runs in $work)"
exit $failed
