#!/usr/bin/env bash
# `paretonas supernet train|eval` end to end on the tiny synthetic task (issue #55): a cell space
# (strict fairness) and a hybrid space (sandwich rule), the files it writes, kill -9 and
# resume to the same weights, and the refusals.
# Usage: supernet_cli_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-supernet-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
source "$src/tests/cli_checks.sh"
cfg=$src/tests/data/tiny_synthetic.yaml

check "a supernet of the cell space trains" 0 "$bin" supernet train --config "$cfg" --out "$work/cells" --epochs 2
contains "it says how it trains" "strict fairness"
contains "it reports both ends" "validation: largest"
for f in supernet.pt supernet.json experiment.yaml supernet.yaml; do
  check "it writes $f" 0 test -s "$work/cells/$f"
done
check "its summary is JSON with the accuracies" 0 grep -q '"largest_accuracy":[0-9]' "$work/cells/supernet.json"
check "a trained supernet is not overwritten" 2 "$bin" supernet train --config "$cfg" --out "$work/cells" --epochs 2
contains "it says so" "holds a trained supernet already"
check "sub-networks are scored without training" 0 "$bin" supernet eval "$work/cells"
check "two lines, largest and smallest" 0 test "$(grep -c '%  |' "$work/out")" -eq 2
arch=$("$bin" space sample --config "$cfg" -n 1 --seed 4)
check "any architecture of the space" 0 "$bin" supernet eval "$work/cells" --arch "$arch"
contains "it names it" "$arch"
check "a key of another space is refused" 2 "$bin" supernet eval "$work/cells" --arch "w=1.0;s0=k3e1"
check "eval of a directory without a supernet" 2 "$bin" supernet eval "$work/none"
contains "it says how to make one" "paretonas supernet train"
check "an unknown rule" 2 "$bin" supernet train --config "$cfg" --out "$work/x" --rule spos
contains "it lists the rules" "allowed: auto, sandwich, uniform, fair"

# The hybrid space (cells, then an elastic chain): the sandwich rule.
hyb=$work/hybrid.yaml
sed -e "s|name: nb201|name: $src/experiments/spaces/tiny_hybrid.yaml|" -e 's/set: {channels: 4, cells_per_stage: 1}/set: {width: 4}/' \
  -e 's/"params <= 20000"/"params <= 200000"/' "$cfg" >"$hyb"
check "a supernet of the hybrid space trains" 0 "$bin" supernet train --config "$hyb" --out "$work/hyb" --epochs 2 --workers 2
contains "with the sandwich rule" "sandwich rule"

# kill -9 during training, then the same command again: the same weights as without the kill.
check "an uninterrupted reference" 0 "$bin" supernet train --config "$hyb" --out "$work/ref" --epochs 6 --set dataset.synthetic_train=1200
"$bin" supernet eval "$work/ref" >"$work/ref.eval" 2>&1
"$bin" supernet train --config "$hyb" --out "$work/killed" --epochs 6 --set dataset.synthetic_train=1200 >"$work/killed.log" 2>&1 &
pid=$!
for ((t = 0; t < 600; t++)); do [[ -s "$work/killed/checkpoint.pt" ]] && break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "it was killed before the end" 1 test -e "$work/killed/supernet.pt"
check "another recipe in its directory is refused" 2 "$bin" supernet train --config "$hyb" --out "$work/killed" --epochs 7 --set dataset.synthetic_train=1200
contains "it says why" "supernet.yaml differs"
check "the same command resumes" 0 "$bin" supernet train --config "$hyb" --out "$work/killed" --epochs 6 --set dataset.synthetic_train=1200
contains "from its checkpoint" "resumed from step"
"$bin" supernet eval "$work/killed" >"$work/killed.eval" 2>&1
check "to the same sub-network accuracies as without the kill" 0 cmp "$work/ref.eval" "$work/killed.eval"
check "and the same weights, byte for byte" 0 cmp "$work/ref/supernet.pt" "$work/killed/supernet.pt"

# A search that scores every candidate with the supernet's weights (no training), then export.
sn_cfg=$work/search_supernet.yaml
sed -e 's/^  kind: train/  kind: supernet\n  supernet: {path: cells, calibration_images: 100}/' "$cfg" >"$sn_cfg"
sed -i "s|path: cells|path: $work/cells|" "$sn_cfg"
check "kind supernet validates" 0 "$bin" validate "$sn_cfg"
contains "and keeps its section" "calibration_images: 100"
check "a search with it" 0 "$bin" search --config "$sn_cfg" --run-dir "$work/snrun" -q
check "its trials trained nothing" 0 grep -q '"train_seconds":0' "$work/snrun/trials.jsonl"
check "and say where their weights came from" 0 grep -q '"supernet":1' "$work/snrun/trials.jsonl"
id=$(awk -F, 'NR==2{print $1}' "$work/snrun/front.csv")
check "export takes a member out of the supernet" 0 "$bin" export "$work/snrun" --id "$id" --format torchscript --out "$work/snexp"
contains "it says so" "out of the supernet"
contains "and the file reproduces the accuracy the search reported" "(reproduced)"
check "with its inherited weights, not untrained ones" 1 grep -q "untrained weights" "$work/out"
check "a supernet directory without supernet.pt is refused" 2 "$bin" validate "$sn_cfg" --set evaluator.supernet.path=$work/none
contains "naming the field" "evaluator.supernet.path"
check "with a fidelity section, refused" 2 "$bin" validate "$sn_cfg" --set fidelity.rungs=[1,2]
contains "saying why" "trains nothing per candidate"

echo "supernet CLI: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
