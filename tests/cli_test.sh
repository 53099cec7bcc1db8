#!/usr/bin/env bash
# End-to-end tests of the paretonas CLI on a tiny synthetic experiment.
# Usage: cli_test.sh PARETONAS_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
work=$(mktemp -d /tmp/paretonas-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

source "$src/tests/cli_checks.sh"

cfg=$src/tests/data/tiny_synthetic.yaml
run=$work/run

check "help" 0 "$bin" --help
for verb in search resume status export report serve latency space validate; do contains "help lists $verb" "  $verb "; done
check "version" 0 "$bin" --version
contains "version names MPI support" "MPI support"
check "no verb is a usage error" 2 "$bin"
check "unknown verb is a usage error" 2 "$bin" frobnicate
check "search without --config" 2 "$bin" search --run-dir "$work/x"
check "search --help" 0 "$bin" search --help
contains "search --help explains --set" "--set"
check "latency without a verb" 2 "$bin" latency
check "latency fit --help" 0 "$bin" latency fit --help
contains "fit --help names --key-column" "--key-column"

check "validate" 0 "$bin" validate "$cfg"
contains "validate prints the resolved config" "threads_per_worker: 1"
check "validate bad --set" 2 "$bin" validate "$cfg" --set search.populaton=3
contains "validate names the closest key" "did you mean 'population'"

check "search" 0 "$bin" search --config "$cfg" --run-dir "$run"
contains "search prints the front" "Pareto front"
contains "search prints the run directory" "run directory: $run"
for f in config.yaml checkpoint.bin journal.bin trials.jsonl front.csv log.txt; do
  if [[ -s $run/$f ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $f missing"; fi
done
n=$(wc -l <"$run/trials.jsonl")
if [[ $n -eq 12 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $n trials, expected 12"; fi
check "trials have the fields" 0 grep -q '"id":0,.*"arch":"|.*"status":"complete".*"val_accuracy":' "$run/trials.jsonl"
check "front.csv has a header and rows" 0 bash -c "head -1 '$run/front.csv' | grep -q '^id,arch,hash,generation' && [ \$(wc -l <'$run/front.csv') -ge 2 ]"
check "search into a used run directory" 2 "$bin" search --config "$cfg" --run-dir "$run"
contains "it says how to resume" "paretonas resume"

check "status" 0 "$bin" status "$run"
contains "status shows the budget" "12 of a budget of 12"
contains "status says it finished and why" "state:       finished: reached 12 evaluations"
contains "status shows the front" "Pareto front"

check "export json" 0 "$bin" export "$run" --front --format json --out "$work/exp"
check "exported json names its arch and graph" 0 bash -c "grep -l '\"graph\"' '$work'/exp/arch_*.json | head -1 | xargs grep -q '\"arch\"'"
check "export dot" 0 "$bin" export "$run" --id 0 --format dot --out "$work/exp"
check "dot is a digraph" 0 grep -q "digraph" "$work/exp/arch_0.dot"
check "export of a missing id" 2 "$bin" export "$run" --id 999 --format json --out "$work/exp"
contains "it names the id" "999"
check "export torchscript" 0 "$bin" export "$run" --front --format torchscript --out "$work/ts"
contains "it says the weights are untrained" "untrained weights"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  check "python loads the torchscript files and they match" 0 /usr/bin/python3 "$src/scripts/check-torchscript.py" "$work"/ts/*.torchscript.pt
else
  echo "note: /usr/bin/python3 has no torch (python3-torch); the Python TorchScript check is skipped"
fi
# A build without libonnx-dev (the CUDA machine's) says so in --version and refuses ONNX (exit 2).
if "$bin" --version | grep -q "ONNX export: yes"; then onnx_rc=0; else
  onnx_rc=2; echo "note: this build has no ONNX export (libonnx-dev absent); ONNX checks expect a refusal"
fi
have_onnx_py() { [[ $onnx_rc -eq 0 ]] && /usr/bin/python3 -c "import onnx, torch" 2>/dev/null; }
check "export onnx" $onnx_rc "$bin" export "$run" --front --format onnx --out "$work/ts"
if have_onnx_py; then
  for f in "$work"/ts/*.onnx; do
    check "onnx checker and outputs of $(basename "$f")" 0 /usr/bin/python3 "$src/scripts/check-onnx.py" "$f" "${f%.onnx}.torchscript.pt"
  done
else
  echo "note: /usr/bin/python3 lacks onnx or torch (python3-onnx, python3-torch); the Python ONNX checks are skipped"
fi
check "export with a bad format" 2 "$bin" export "$run" --front --format pickle --out "$work/exp"
check "export with --train-epochs" 0 "$bin" export "$run" --id 0 --format json --out "$work/final" --train-epochs 1
check "retrained json reports test accuracy" 0 grep -q '"test_accuracy"' "$work/final/arch_0.json"
check "export --augment on overrides the run's dataset.augment" 0 "$bin" export "$run" --id 0 --format json --out "$work/aug" --train-epochs 1 --augment on
contains "the retraining line says augmentation is on" "augmentation on"
check "the json records the augmentation" 0 grep -q '"augment": true' "$work/aug/arch_0.json"
check "export --augment with a bad value" 2 "$bin" export "$run" --id 0 --format json --out "$work/aug" --train-epochs 1 --augment maybe
# --seed: the front member with the most parameters (#0 of this run may be a cut cell, which
# has nothing to train)
sid=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "params") c = i; next } $c > m { m = $c; id = $1 } END { print id }' "$run/front.csv")
check "export --seed retrains with another seed" 0 "$bin" export "$run" --id "$sid" --format json --out "$work/s7" --train-epochs 1 --seed 7
check "the json records the retraining seed" 0 grep -q '"seed": 7, "test_accuracy"' "$work/s7/arch_$sid.json"
check "the same --seed again" 0 "$bin" export "$run" --id "$sid" --format json --out "$work/s7b" --train-epochs 1 --seed 7
check "gives the same test accuracy" 0 bash -c "diff <(grep -h test_accuracy '$work'/s7/arch_$sid.json | sed 's/, \"train_seconds.*//') <(grep -h test_accuracy '$work'/s7b/arch_$sid.json | sed 's/, \"train_seconds.*//')"
check "and the same weights" 0 cmp -s "$work/s7/arch_$sid.weights.pt" "$work/s7b/arch_$sid.weights.pt"
check "without --seed" 0 "$bin" export "$run" --id "$sid" --format json --out "$work/s0" --train-epochs 1
check "the trial's own seed is used" 0 test "$(grep -o '"seed": [0-9]*' "$work/s0/arch_$sid.json" | sort -u | wc -l)" -eq 1
check "which trains other weights than seed 7" 1 cmp -s "$work/s7/arch_$sid.weights.pt" "$work/s0/arch_$sid.weights.pt"
check "a negative --seed" 2 "$bin" export "$run" --id 0 --format json --out "$work/s7" --train-epochs 1 --seed -3
check "export --train-epochs of the front, 1 at a time" 0 "$bin" export "$run" --front --format json --out "$work/j1" --train-epochs 1
check "the same with --jobs 3" 0 "$bin" export "$run" --front --format json --out "$work/j3" --train-epochs 1 --jobs 3
contains "retraining shows progress with an ETA" "architectures  eta "
contains "the progress line reaches every architecture" "retraining $(grep -c . "$run/front.csv" | awk '{print $1 - 1}').00/"
check "--jobs gives the same test accuracies" 0 bash -c "diff <(grep -h test_accuracy '$work'/j1/*.json | sed 's/, \"train_seconds.*//') <(grep -h test_accuracy '$work'/j3/*.json | sed 's/, \"train_seconds.*//')"
check "trained torchscript export" 0 "$bin" export "$run" --id 0 --format torchscript --out "$work/final" --train-epochs 1
check "trained onnx export" $onnx_rc "$bin" export "$run" --id 0 --format onnx --out "$work/final" --train-epochs 1
if have_onnx_py; then
  check "python loads the trained torchscript file" 0 /usr/bin/python3 "$src/scripts/check-torchscript.py" "$work/final/arch_0.torchscript.pt"
  check "the trained onnx file computes the engine's outputs" 0 /usr/bin/python3 "$src/scripts/check-onnx.py" "$work/final/arch_0.onnx" "$work/final/arch_0.torchscript.pt"
fi

# The other spaces: depthwise convolutions, ReLU6, max pooling, residual chains.
for sp in mobilenet "$src/experiments/spaces/tiny_hybrid.yaml" "$src/experiments/spaces/baseline_2conv.yaml" \
    "$src/experiments/spaces/fmnist_cells.yaml"; do
  name=$(basename "$sp" .yaml)
  check "search on $name" 0 "$bin" search --config "$cfg" --run-dir "$work/$name" -q --max-evals 3 --set "space={name: $sp}" --set search.population=3 --set "constraints=[]"
  check "torchscript export on $name" 0 "$bin" export "$work/$name" --front --format torchscript --out "$work/$name/x"
  check "onnx export on $name" $onnx_rc "$bin" export "$work/$name" --front --format onnx --out "$work/$name/x"
  if have_onnx_py; then
    for f in "$work/$name"/x/*.onnx; do
      check "onnx outputs of $name $(basename "$f")" 0 /usr/bin/python3 "$src/scripts/check-onnx.py" "$f" "${f%.onnx}.torchscript.pt"
    done
  fi
done

check "report" 0 "$bin" report "$run" --out "$work/report.html"
check "report is one HTML file with the plots" 0 bash -c "grep -q '<svg' '$work/report.html' && grep -q 'Pareto front' '$work/report.html' && grep -q 'Hypervolume' '$work/report.html' && ! grep -q '<script' '$work/report.html'"
check "the front's points carry their ids" 0 grep -q "fill='#1a9641'>#" "$work/report.html"
check "the hypervolume chart says what its scale is" 0 grep -q "In the box of the first front" "$work/report.html"
check "the report labels accuracy in percent and latency in ms" 0 bash -c "grep -q 'validation accuracy (%)' '$work/report.html' && grep -q 'latency (ms, batch 1)' '$work/report.html'"
check "the report leaves out columns no front member has" 0 bash -c "! grep -q 'predicted latency' '$work/report.html'"
check "report of a missing run" 2 "$bin" report "$work/nothing" --out "$work/r.html"

# serve: the live page of this run (every endpoint is tested over HTTP in serve_test).
check "serve --help" 0 "$bin" serve --help
contains "serve --help says the page has no login" "no login"
if "$bin" --version | grep -q "serve: yes"; then
check "serve of a missing run" 2 "$bin" serve "$work/nothing"
check "serve of a directory that holds no run" 2 "$bin" serve "$work"
if "$bin" serve "$run" --port 99999 >/dev/null 2>&1; then failed=$((failed + 1)); echo "FAIL: serve --port 99999 accepted"; else passed=$((passed + 1)); fi
"$bin" serve "$run" --port 0 >"$work/serve.out" 2>&1 &
serve_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.out")
  [[ -n $port ]] && break
  sleep 0.1
done
if [[ -n $port ]] && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  cat <&3 >"$work/served.html"
  exec 3<&-
  check "serve answers with the run's page" 0 grep -q "HTTP/1.1 200" "$work/served.html"
  # One renderer: the live page draws the points the report draws.
  n_report=$(grep -o "<circle data-trial=" "$work/report.html" | wc -l)
  n_served=$(grep -o "<circle data-trial=" "$work/served.html" | wc -l)
  check "the page and the report draw the same $n_report points" 0 test "$n_report" -gt 0 -a "$n_report" -eq "$n_served"
else
  failed=$((failed + 1)); echo "FAIL: serve did not start: $(cat "$work/serve.out")"
fi
kill -INT "$serve_pid"
wait "$serve_pid"
serve_rc=$?
check "serve stops cleanly on Ctrl-C" 0 test "$serve_rc" -eq 0
check "serve says it stopped" 0 grep -q "paretonas serve: stopped" "$work/serve.out"
else
  echo "SKIP: serve (this paretonas was built without libcpp-httplib-dev)"
fi
check "resume a finished search" 0 "$bin" resume "$run"
check "resume with a larger budget" 0 "$bin" resume "$run" --max-evals 18
n=$(wc -l <"$run/trials.jsonl")
if [[ $n -eq 18 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $n trials after resume, expected 18"; fi
sed -i 's/lr: 0.1/lr: 0.2/' "$run/config.yaml"
check "resume after a config change" 2 "$bin" resume "$run"
contains "it names the changed key" "training.lr: 0.1 -> 0.2"
sed -i 's/lr: 0.2/lr: 0.1/' "$run/config.yaml"
if command -v flock >/dev/null; then
  flock "$run/lock" sleep 3 &
  sleep 0.5
  check "a second process on the run directory" 2 "$bin" resume "$run"
  contains "it names the other process" "another paretonas process"
  wait
fi
check "a stale lock file does not block" 0 "$bin" resume "$run"
check "status of a missing run" 2 "$bin" status "$work/nothing"

# Errors a new user hits: ours, naming what is wrong and the way out.
check "a misspelled verb" 2 "$bin" serach
contains "it suggests the closest verb" "did you mean 'search'?"
check "a misspelled sub-verb" 2 "$bin" latency fitt
contains "it suggests the closest sub-verb" "did you mean 'fit'?"
check "a bad --set value" 2 "$bin" validate "$cfg" --set training.lr=fast
contains "it names the command-line override, not a line of the file" "--set training.lr=fast (command line): field 'training.lr'"
printf 'space: {name: nb20}\nbudget: {max_evals: 3}\n' >"$work/badspace.yaml"
check "a misspelled space name" 2 "$bin" validate "$work/badspace.yaml"
contains "it names file, line and the closest preset" "badspace.yaml:1: field 'space.name': 'nb20' is not a preset"
contains "and suggests" "did you mean 'nb201'?"
check "space show --config" 0 "$bin" space show --config "$cfg" --arch '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'
contains "it uses the experiment's space and input" "space:            nb201"
check "an arch string without its last |" 2 "$bin" space show --arch '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2'
contains "it names the right pattern and what is missing" "must look like |op~0|op~1|op~2| (the closing '|' is missing)"
check "a start that fails before the config" 2 "$bin" search --config "$cfg" --run-dir "$work/failed-start" \
  --set dataset.name=numpy --set dataset.path="$work/none.npz"
check "leaves no run directory behind" 0 test ! -e "$work/failed-start"
mkdir -p "$work/empty-run"
check "resume where nothing ran" 2 "$bin" resume "$work/empty-run"
contains "it says nothing ran and how to start" "nothing ran here to resume"

check "space enumerate" 0 "$bin" space enumerate --space nb201
n=$(wc -l <"$work/out")
if [[ $n -eq 15625 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: enumerate printed $n lines"; fi
check "space sample" 0 "$bin" space sample --space mobilenet -n 3 --seed 2
check "space show --json" 0 "$bin" space show --space nb201 --arch '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|' --json
for k in params macs params_pruned macs_pruned activation_bytes; do contains "show has $k" "\"$k\":"; done
check "space show --set" 0 "$bin" space show --space nb201 --set channels=8 --set cells_per_stage=1 --arch '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'
check "space show of a bad arch" 2 "$bin" space show --space nb201 --arch '|conv~0|'
check "space validate the example" 0 "$bin" space validate "$src/experiments/spaces/tiny_hybrid.yaml"
printf 'name: c\nstem: {op: conv_bn, channels: 4}\ncell:\n  nodes: 3\n  ops: [none, skip_connect]\n  edges: [[0, 1], [1, 2], [2, 1]]\nstages: [{cells: 1, channels: 4}]\nhead: {op: classifier}\n' >"$work/cycle.yaml"
printf 'name: k\n? {complex: key}\n: 1\n' >"$work/complexkey.yaml"
check "a complex YAML key in a space (fuzz-found)" 2 "$bin" space validate "$work/complexkey.yaml"
contains "it says keys must be names" "a key must be a plain name"
check "a complex YAML key in an experiment" 2 "$bin" validate "$work/complexkey.yaml"
contains "it names the file and line" "complexkey.yaml:2:"
check "space validate a cycle" 2 "$bin" space validate "$work/cycle.yaml"
contains "it names the line and field" "cycle.yaml:6: field 'cell.edges'"

# The latency predictor: fit from a CSV taken "elsewhere" (an additive synthetic table over a
# small space), eval, predict; bad CSVs name the row; calibrate and measure on this machine.
lsp=(--space nb201 --set channels=4 --set cells_per_stage=1 --input 1x16x16)
"$bin" space enumerate "${lsp[@]}" >"$work/lkeys"
awk 'BEGIN { print "key,device_ms" } { n = gsub(/nor_conv_3x3/, "&"); m = gsub(/nor_conv_1x1/, "&"); p = gsub(/avg_pool/, "&");
     printf "%s,%.4f\n", $0, 1 + 0.5 * n + 0.2 * m + 0.1 * p }' "$work/lkeys" >"$work/lat.csv"
check "latency fit" 0 "$bin" latency fit "${lsp[@]}" --data "$work/lat.csv" --key-column key --latency-column device_ms --sample 60 --rest-out "$work/rest.csv" --out "$work/m.model"
contains "fit reports the model" "60 architectures"
check "latency eval --json" 0 "$bin" latency eval --model "$work/m.model" --data "$work/rest.csv" --json
for k in n median_ape within_5 within_10 spearman kendall coverage mape; do contains "eval json has $k" "\"$k\":"; done
cp "$work/out" "$work/eval.json"
check "eval is accurate on an additive table" 0 grep -q '"within_10": 1,' "$work/eval.json"
check "eval wrote the plot next to the model" 0 grep -q "<svg" "$work/m.model.eval.svg"
check "its log axes have three labelled ticks at least" 0 test "$(grep -o "text-anchor='end'>" "$work/m.model.eval.svg" | wc -l)" -ge 3
check "latency eval (text)" 0 "$bin" latency eval --model "$work/m.model" --data "$work/rest.csv"
contains "eval prints spearman" "spearman"
check "latency predict" 0 "$bin" latency predict --model "$work/m.model" --arch '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'
contains "predict gives ms and spread" " ms ± "
contains "predict says what the spread is" "one standard deviation, calibrated"
check "predict a bad arch" 2 "$bin" latency predict --model "$work/m.model" --arch '|conv~0|'
check "validate refuses a predictor search would refuse" 2 "$bin" validate "$cfg" --set evaluator.latency.predictor="$work/m.model"
contains "it says why" "was fit for input 1x16x16, this experiment's is 1x8x8"
check "eval a missing model" 2 "$bin" latency eval --model "$work/none.model" --data "$work/rest.csv"
cp "$work/lat.csv" "$work/bad.csv"
check "fit with a missing column" 2 "$bin" latency fit "${lsp[@]}" --data "$work/bad.csv" --key-column key --latency-column ms --out "$work/b.model"
contains "it names the column and the ones there" "device_ms"
sed '5s/.*/|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.0/' "$work/lat.csv" >"$work/bad.csv"
check "fit with an unknown architecture" 2 "$bin" latency fit "${lsp[@]}" --data "$work/bad.csv" --key-column key --latency-column device_ms --out "$work/b.model"
contains "it names the file and row" "bad.csv:5:"
sed '7s/,[0-9.]*$/,-2/' "$work/lat.csv" >"$work/bad.csv"
check "fit with a negative latency" 2 "$bin" latency fit "${lsp[@]}" --data "$work/bad.csv" --key-column key --latency-column device_ms --out "$work/b.model"
contains "it names the row and value" "bad.csv:7: column 'device_ms': '-2'"
sed '9s/,[0-9.]*$/,fast/' "$work/lat.csv" >"$work/bad.csv"
check "fit with a non-numeric latency" 2 "$bin" latency fit "${lsp[@]}" --data "$work/bad.csv" --key-column key --latency-column device_ms --out "$work/b.model"
contains "it names the row and value" "bad.csv:9: column 'device_ms': 'fast'"
head -1 "$work/lat.csv" >"$work/bad.csv"
check "fit with an empty CSV" 2 "$bin" latency fit "${lsp[@]}" --data "$work/bad.csv" --key-column key --latency-column device_ms --out "$work/b.model"
contains "it says there are no rows" "no data rows"
check "latency calibrate" 0 "$bin" latency calibrate "${lsp[@]}" --samples 12 --repeats 3 --warmup 1 --out "$work/c.model"
contains "calibrate measured a per-op table" "per-op table of"
contains "calibrate reports the model's quality" "quality (5-fold cross-validation on these measurements): 68% of held-out architectures are predicted within"
check "calibrate wrote its measurements" 0 test -s "$work/c.model.csv" -a -s "$work/c.model.ops.csv"
check "fit again from calibrate's files (--ops)" 0 "$bin" latency fit "${lsp[@]}" --data "$work/c.model.csv" --ops "$work/c.model.ops.csv" --out "$work/c2.model"
contains "the refit uses the per-op table" "per-op table of"
sed '3s/,[0-9.e-]*,/,slow,/' "$work/c.model.ops.csv" >"$work/bad_ops.csv"
check "a bad per-op table" 2 "$bin" latency fit "${lsp[@]}" --data "$work/c.model.csv" --ops "$work/bad_ops.csv" --out "$work/b.model"
contains "it names the file, row and column" "bad_ops.csv:3: column 'latency_ms'"
check "latency measure" 0 "$bin" latency measure "${lsp[@]}" --samples 6 --seed 9 --repeats 3 --warmup 1 --out "$work/fresh.csv"
check "latency measure, default rounds" 0 "$bin" latency measure "${lsp[@]}" --samples 2 --seed 9 --out "$work/rounds5.csv"
contains "5 interleaved rounds by default" "median of 30 in 5 interleaved rounds"
check "latency measure, 3 interleaved rounds" 0 "$bin" latency measure "${lsp[@]}" --samples 4 --seed 9 --repeats 6 --rounds 3 --warmup 1 --out "$work/rounds.csv"
contains "it says how it measured" "median of 6 in 3 interleaved rounds"
check "latency measure of int8 models" 0 "$bin" latency measure "${lsp[@]}" --samples 3 --seed 9 --repeats 6 --warmup 1 --precision int8 --out "$work/int8.csv"
contains "it says it timed the int8 models" "the int8 model ("
check "int8 timing on cuda is refused" 2 "$bin" latency measure "${lsp[@]}" --samples 2 --precision int8 --device cuda --out "$work/x.csv"
contains "it says why" "CPU's int8 kernels"
check "latency calibrate in int8" 0 "$bin" latency calibrate "${lsp[@]}" --samples 6 --repeats 3 --warmup 1 --precision int8 --out "$work/i8.model"
contains "it calibrates in int8" "in int8 on cpu"
check "more rounds than timed passes" 2 "$bin" latency measure "${lsp[@]}" --samples 4 --repeats 4 --rounds 5 --out "$work/bad_rounds.csv"
contains "it names both numbers" "rounds: 5 is not allowed: from 1 to the number of timed passes (repeats 4)"
check "no file is left by the refusal" 1 test -e "$work/bad_rounds.csv"
check "latency measure on mobilenet (keys with commas)" 0 "$bin" latency measure --space mobilenet --samples 5 --repeats 3 --warmup 0 --out "$work/mb.csv"
check "fit reads the quoted keys back" 0 "$bin" latency fit --space mobilenet --data "$work/mb.csv" --out "$work/mb.model"
check "latency measure --front-of a run" 0 "$bin" latency measure --front-of "$run" --repeats 3 --warmup 1 --out "$work/front_lat.csv"
check "one row per front member" 0 test "$(($(wc -l <"$work/front_lat.csv") - 1))" -eq "$(($(wc -l <"$run/front.csv") - 1))"
check "each row names its trial and carries its error" 0 grep -q "^trial_id,arch,latency_ms,latency_iqr_ms,latency_ci_low_ms,latency_ci_high_ms,passes,discarded,noisy,slowdown$" "$work/front_lat.csv"
check "re-time a finished front and compare" 0 "$bin" latency measure --front-of "$run" --compare --repeats 3 --warmup 1 --out "$work/front_cmp.csv"
contains "it gives the rank agreement" "rank agreement (Kendall tau"
contains "and says whether the front would change" "the front would"
contains "many rounds" "median of 60 in 12 interleaved rounds"
check "--compare needs --front-of" 2 "$bin" latency measure --space nb201 --compare --out "$work/x.csv"
check "every timed pass, for those who doubt the estimate" 0 "$bin" latency measure --space nb201 --set channels=4 --samples 2 --repeats 6 --rounds 3 --passes "$work/passes.csv" --out "$work/p.csv"
check "passes: wall and CPU time of each" 0 grep -q "^row,round,wall_ms,cpu_ms,kept$" "$work/passes.csv"
check "status shows how trustworthy the latencies are" 0 "$bin" status "$run"
contains "a latency line" "latencies noisy"
contains "with the discarded passes" "timed passes discarded as descheduled"
contains "generations are numbered as done" "generation(s) done (generation"
check "status --journal lists the journal" 0 "$bin" status "$run" --journal
contains "the latency stage's records" '"rung":-3,'

check "eval the calibrated model on fresh measurements" 0 "$bin" latency eval --model "$work/c.model" --data "$work/fresh.csv"

# The measurement kit for your own device: spread-out architectures exported with a runner that
# needs nothing of ours; its CSV fits a model, with other devices' models as a prior.
check "latency kit" 0 "$bin" latency kit "${lsp[@]}" -n 6 --out "$work/kit"
contains "it says what it wrote" "6 models (TorchScript"
kit_ops=$(($(wc -l <"$work/kit/ops.csv") - 1))
contains "and how many operation models" "$kit_ops operation models with ops.csv"
check "the manifest lists 6 models" 0 test "$(($(wc -l <"$work/kit/manifest.csv") - 1))" -eq 6
tail -n +2 "$work/kit/manifest.csv" | cut -d, -f2 >"$work/kit_keys"
roundtrip=0
while read -r key; do "$bin" space show "${lsp[@]}" --arch "$key" >/dev/null 2>&1 || roundtrip=1; done <"$work/kit_keys"
check "every manifest key parses back to an architecture of the space" 0 test $roundtrip -eq 0
check "the kit exports each operation configuration alone" 0 test "$kit_ops" -gt 3
check "the README tells the fit to use them" 0 grep -q -- "--ops ops_latency.csv" "$work/kit/README.txt"
check "the kit's op keys cover every key of the calibration's table" 0 bash -c "tail -n +2 '$work/kit/ops.csv' | cut -d, -f2 | sort >'$work/kit_op_keys'; tail -n +2 '$work/c.model.ops.csv' | cut -d, -f1 | sort | comm -23 - '$work/kit_op_keys' | wc -l | grep -qx 0"
if have_onnx_py; then
  for i in 000 002 $(printf '%03d' $((kit_ops - 1))); do
    check "the per-op ONNX model ops/$i computes the engine's output" 0 /usr/bin/python3 "$src/scripts/check-onnx.py" \
      "$work/kit/ops/$i.onnx" "$work/kit/ops/$i.torchscript.pt"
  done
fi
if /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  check "the kit's runner times its models (PyTorch)" 0 /usr/bin/python3 "$work/kit/run_latency.py" --backend torch \
    --repeats 3 --rounds 1 --warmup 1
  contains "it records what it used" "6 fp32 models, torch"
  contains "and times the operations too" "$kit_ops operation configurations"
  check "the runner wrote its settings" 0 grep -q '"threads": 1' "$work/kit/latency.json"
  check "fit from the kit's measurements, another device as the prior" 0 "$bin" latency fit "${lsp[@]}" \
    --data "$work/kit/latency.csv" --key-column key --prior "$work/m.model" --out "$work/kit.model"
  contains "it is a few-shot fit" "few-shot: 6 measurements of this device, with the 1 prior model(s)"
  lsp8=(--space nb201 --set channels=8 --set cells_per_stage=1 --input 1x16x16)
  check "kit measurements fitted for other channels are refused" 2 "$bin" latency fit "${lsp8[@]}" \
    --data "$work/kit/latency.csv" --key-column key --out "$work/kit8.model"
  contains "it names the difference" "space.set channels: 4 vs 8 (--set channels=4)"
  check "a prior of other channels is refused" 2 "$bin" latency fit "${lsp8[@]}" --data "$work/rounds.csv" \
    --prior "$work/m.model" --out "$work/p8.model"
  contains "it names the difference, not two equal names" "space.set channels: 4 vs 8"
  { cat "$work/kit/latency.csv"; tail -n 1 "$work/rounds.csv" | cut -d, -f1-8; } >"$work/kit/extra.csv"
  check "a row the kit never exported is refused" 2 "$bin" latency fit "${lsp[@]}" \
    --data "$work/kit/extra.csv" --key-column key --out "$work/extra.model"
  contains "it names the row" "row 7: architecture"
  contains "and says why" "is not one of the kit's models"
  check "fit with the runner's per-op table" 0 "$bin" latency fit "${lsp[@]}" \
    --data "$work/kit/latency.csv" --key-column key --ops "$work/kit/ops_latency.csv" --out "$work/kit_ops.model"
  contains "the model carries the table" "per-op table of $kit_ops entries"
  check "a per-op table of another space is refused" 2 "$bin" latency fit --space mobilenet --data "$work/mb.csv" \
    --ops "$work/kit/ops_latency.csv" --out "$work/mb_ops.model"
  contains "it says why" "was it measured for another space or input shape?"
  grep -v classifier "$work/kit/ops_latency.csv" >"$work/kit_ops_part.csv"  # every network has one
  check "a table that lacks operations still fits" 0 "$bin" latency fit "${lsp[@]}" \
    --data "$work/kit/latency.csv" --key-column key --ops "$work/kit_ops_part.csv" --out "$work/kit_ops_part.model"
  contains "with a warning" "operation configurations the measured architectures use"
fi
mkdir -p "$work/kit/logs"
for i in 000 001 002 003 004; do printf 'P50 Latency: 0.00%s2 s\n' "${i:2:1}" >"$work/kit/logs/$i.txt"; done
check "parse_ort_perf names a missing log" 1 /usr/bin/python3 "$work/kit/parse_ort_perf.py" "$work/kit/logs" --out "$work/kit/ort.csv"
contains "it says which" "1 logs missing"
printf 'Average inference time cost: 3.5 ms\n' >"$work/kit/logs/005.txt"
check "parse_ort_perf reads ONNX Runtime's benchmark logs" 0 /usr/bin/python3 "$work/kit/parse_ort_perf.py" "$work/kit/logs" --out "$work/kit/ort.csv"
contains "medians where the log has them" "6 models (5 median, 1 mean)"
check "its CSV fits a model" 0 "$bin" latency fit "${lsp[@]}" --data "$work/kit/ort.csv" --key-column key --out "$work/ort.model"
mkdir -p "$work/kit/op_logs"
for ((i = 0; i < kit_ops; i++)); do printf 'P50 Latency: 0.0001%d s\n' $((i % 10)) >"$work/kit/op_logs/$(printf '%03d' $i).txt"; done
check "parse_ort_perf --ops reads the per-op logs" 0 /usr/bin/python3 "$work/kit/parse_ort_perf.py" "$work/kit/op_logs" --ops
contains "one row per operation model" "$kit_ops models ($kit_ops median)"
check "into the per-op table fit --ops reads" 0 "$bin" latency fit "${lsp[@]}" --data "$work/kit/ort.csv" --key-column key \
  --ops "$work/kit/ops_latency.csv" --out "$work/ort_ops.model"
contains "with every entry" "per-op table of $kit_ops entries"

# Searching on predicted latency: the model must match the experiment's space and input; the
# front is measured for real at the end and both numbers are kept.
check "a predictor for another space is refused" 2 "$bin" search --config "$cfg" --run-dir "$work/pbad2" -q --set evaluator.latency.predictor="$work/mb.model"
contains "it names both spaces" "was fit for space 'mobilenet'"
check "a predictor for another input is refused" 2 "$bin" search --config "$cfg" --run-dir "$work/pbad" -q --set evaluator.latency.predictor="$work/c.model"
contains "it names the inputs" "was fit for input 1x16x16"
check "predicted_latency_ms without a predictor" 2 "$bin" validate "$cfg" --set "objectives=[{metric: val_accuracy, goal: max}, {metric: predicted_latency_ms, goal: min}]"
contains "it says what is missing" "needs evaluator.latency.predictor"
check "calibrate from the experiment file" 0 "$bin" latency calibrate --config "$cfg" --samples 10 --repeats 3 --warmup 1 --out "$work/t.model"
check "search on predicted latency" 0 "$bin" search --config "$cfg" --run-dir "$work/pred" -q --set evaluator.latency.predictor="$work/t.model" --set evaluator.latency.measure=false --set "objectives=[{metric: val_accuracy, goal: max}, {metric: predicted_latency_ms, goal: min}]"
contains "the front is measured for real" "front members for real"
check "front trials keep both numbers" 0 bash -c "grep -c '\"latency_ms\".*\"predicted_latency_ms\"' '$work/pred/trials.jsonl' | grep -qv '^0$'"

# --online on a table (a simulated device: deterministic measurements): the same trials for 1
# and 2 workers, and after a stop and resume.
"$bin" space enumerate --space nb201 >"$work/all_keys"
awk 'BEGIN { print "arch,acc,lat" } { n = gsub(/nor_conv_3x3/, "&"); m = gsub(/nor_conv_1x1/, "&");
     printf "%s,%.3f,%.4f\n", $0, (NR * 7919 % 1000) / 10.0, 1 + n * n * 0.3 + 0.2 * m + (NR % 13) / 100.0 }' "$work/all_keys" >"$work/dev.csv"
cat >"$work/online.yaml" <<YAML
name: online
seed: 3
space: nb201
objectives: [{metric: val_accuracy, goal: max}, {metric: predicted_latency_ms, goal: min}]
search: {strategy: nsga2, population: 8}
evaluator:
  kind: table
  workers: 1
  latency: {predictor: $work/dev.model, online: true}
  table: {path: $work/dev.csv, key_column: arch, accuracy_column: acc, latency_column: lat}
budget: {max_evals: 40}
YAML
check "fit a predictor for the online search" 0 "$bin" latency fit --config "$work/online.yaml" --data "$work/dev.csv" --latency-column lat --sample 20 --out "$work/dev.model"
check "online search, 1 worker" 0 "$bin" search --config "$work/online.yaml" --run-dir "$work/on1" -q
check "online search, 2 workers" 0 "$bin" search --config "$work/online.yaml" --run-dir "$work/on2" -q --set evaluator.workers=2
check "online: same trials for 1 and 2 workers" 0 cmp <(clockless "$work/on1/trials.jsonl") <(clockless "$work/on2/trials.jsonl")
check "online search stopped early" 0 "$bin" search --config "$work/online.yaml" --run-dir "$work/on3" -q --max-evals 24
check "online search resumed" 0 "$bin" resume "$work/on3" -q --max-evals 40
check "online: resume equals the uninterrupted run" 0 cmp <(clockless "$work/on1/trials.jsonl") <(clockless "$work/on3/trials.jsonl")
"$bin" search --config "$work/online.yaml" --run-dir "$work/off" -q --set evaluator.latency.online=false >/dev/null 2>&1
check "online refits change the predictions" 1 cmp -s <(clockless "$work/on1/trials.jsonl") <(clockless "$work/off/trials.jsonl")

# search.dedup other than canonical: functionally identical cells are separate trials, and each
# gets its own table row (not a cached result of an equivalent cell). dev.csv's latency counts
# every conv as written, so equivalent cells differ there.
cat >"$work/dedup.yaml" <<YAML
name: dedup
seed: 5
space: nb201
objectives: [{metric: val_accuracy, goal: max}, {metric: latency_ms, goal: min}]
search: {strategy: nsga2, population: 10, dedup: key}
evaluator:
  kind: table
  workers: 2
  table: {path: $work/dev.csv, key_column: arch, accuracy_column: acc, latency_column: lat}
budget: {max_evals: 200}
YAML
check "search with dedup by key" 0 "$bin" search --config "$work/dedup.yaml" --run-dir "$work/dd" -q
rows_differing() {  # TABLE TRIALS: how many trials' latency_ms is not their own row's lat
  awk -F, 'NR == FNR { if (FNR > 1) lat[$1] = $3; next }
    { match($0, /"arch":"[^"]*"/); a = substr($0, RSTART + 8, RLENGTH - 9);
      match($0, /"latency_ms":[^,}]*/); v = substr($0, RSTART + 13, RLENGTH - 13);
      d = v - lat[a]; if (d < 0) d = -d; if (!(a in lat) || d > 1e-6) bad++ }
    END { print bad + 0 }' "$1" "$2"
}
check "every trial has its own row's latency" 0 test "$(rows_differing "$work/dev.csv" "$work/dd/trials.jsonl")" = 0
check "the run evaluated cells of one function more than once" 0 bash -c \
  "test \$(grep -o '\"hash\":\"[0-9a-f]*\"' '$work/dd/trials.jsonl' | sort | uniq -d | wc -l) -gt 0"

# Your own data, end to end: a tiny IDX dataset written out as .npz and as a PNG image folder by
# scripts/export-idx-dataset.py, validated (normalisation computed and printed) and searched.
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  mkdir -p "$work/idx"
  /usr/bin/python3 - "$work/idx" <<'PY'
import gzip, struct, sys
d = sys.argv[1]
n, h, w = 120, 8, 8
x = bytes(((i % 4) * 60 + 3 * r + c) % 256 for i in range(n) for r in range(h) for c in range(w))
y = bytes(i % 4 for i in range(n))
for prefix, k in (("train", n), ("t10k", 40)):
    with gzip.open(f"{d}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, k, h, w) + x[:k * h * w])
    with gzip.open(f"{d}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, k) + y[:k])
PY
  check "export the tiny dataset as .npz and PNG folder" 0 /usr/bin/python3 "$src/scripts/export-idx-dataset.py" \
    "$work/own" --idx "$work/idx" --npz --folder
  cat >"$work/own.yaml" <<YAML
name: own
seed: 2
space: {name: nb201, set: {channels: 4, cells_per_stage: 1}}
dataset: {name: numpy, path: $work/own/data.npz, validation: 40}
training: {epochs: 1, batch_size: 16}
search: {population: 4}
evaluator: {workers: 2, latency: {repeats: 3, warmup: 1}}
budget: {max_evals: 4}
YAML
  check "validate own .npz" 0 "$bin" validate "$work/own.yaml"
  contains "the computed mean is recorded" "mean: ["
  contains "the class count is recorded" "classes: 4"
  check "search own .npz" 0 "$bin" search --config "$work/own.yaml" --run-dir "$work/own-npz" -q
  check "four finished trials on own data" 0 test "$(grep -c '"status":"complete"' "$work/own-npz/trials.jsonl")" = 4
  mv "$work/own/data.npz" "$work/own/data.moved"
  check "status of an own-data run needs not the data (the run records what it resolved)" 0 "$bin" status "$work/own-npz"
  mv "$work/own/data.moved" "$work/own/data.npz"
  sed -e "s#name: numpy, path: $work/own/data.npz#name: image_folder, path: $work/own/images, cache_dir: $work/cache#" \
    "$work/own.yaml" >"$work/own-folder.yaml"
  check "search own image folder" 0 "$bin" search --config "$work/own-folder.yaml" --run-dir "$work/own-folder" -q
  check "class names from the folders are recorded" 0 grep -q "class_names: \[dress, pullover, t-shirt, trouser\]" "$work/own-folder/config.yaml"
  check "the image folder was decoded into the cache" 0 bash -c "ls '$work'/cache/images-*.bin"
  # Exports carry their preprocessing: raw test images fed through each export's documented path
  # (JSON input block, TorchScript preprocess(), ONNX metadata_props; or the normalisation baked
  # into the model) give the test accuracy paretonas reported.
  for f in json torchscript onnx; do
    check "export own $f with retraining" 0 "$bin" export "$work/own-npz" --id 0 --format $f --train-epochs 1 --out "$work/dep"
  done
  contains "the ONNX export is trained" "arch_0.onnx"
  check "the JSON says how to feed the model" 0 grep -q '"input": {"shape": \["batch", 1, 8, 8\], "layout": "NCHW", "dtype": "float32", "pixel_max": 255' "$work/dep/arch_0.json"
  for f in torchscript onnx; do
    check "export own $f with the normalisation baked in" 0 "$bin" export "$work/own-npz" --id 0 --format $f \
      --train-epochs 1 --bake-normalization --out "$work/dep/baked"
  done
  if /usr/bin/python3 -c "import torch, onnx" 2>/dev/null; then
    check "raw test images through the documented path reproduce the test accuracy" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep/arch_0.json" "$work/own/data.npz" \
      --torchscript "$work/dep/arch_0.torchscript.pt" --onnx "$work/dep/arch_0.onnx"
    contains "TorchScript through preprocess()" "preprocess(pixels)"
    check "raw pixels into the baked models reproduce the test accuracy" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep/arch_0.json" "$work/own/data.npz" \
      --torchscript "$work/dep/baked/arch_0.torchscript.pt" --onnx "$work/dep/baked/arch_0.onnx"
    contains "baked models take pixels" "pixels, normalisation baked in"
    if [[ -d "$src/scripts/onnxruntime-node/node_modules/onnxruntime-node" ]]; then
      check "check-onnx runs the baked model in ONNX Runtime" 0 /usr/bin/python3 "$src/scripts/check-onnx.py" \
        "$work/dep/baked/arch_0.onnx" "$work/dep/baked/arch_0.torchscript.pt"
      contains "it is ONNX Runtime, not the fallback" "(onnxruntime-node) vs the engine's logits"
    else
      echo "note: scripts/onnxruntime-node has no onnxruntime-node (npm); ONNX ran in the NumPy fallback"
    fi
  fi
  # One retraining, several formats; the PNG folder read back by check-deployment, with the folder's
  # class numbering (name order) checked against the export's.
  check "export several formats from one retraining" 0 "$bin" export "$work/own-folder" --id 0 \
    --format json,torchscript,onnx --train-epochs 1 --out "$work/dep3"
  contains "it says so once" "retraining 1 architecture(s)"
  check "all three files" 0 test -s "$work/dep3/arch_0.json" -a -s "$work/dep3/arch_0.torchscript.pt" -a -s "$work/dep3/arch_0.onnx"
  check "bake with a JSON export is refused" 2 "$bin" export "$work/own-npz" --id 0 --format json --bake-normalization --out "$work/x"
  contains "it says why" "only TorchScript and ONNX models take it"
  check "an unknown format in a list is refused" 2 "$bin" export "$work/own-npz" --id 0 --format json,tflite --out "$work/x"
  if /usr/bin/python3 -c "import torch, onnx" 2>/dev/null; then
    check "the PNG folder through the documented path reproduces the test accuracy" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep3/arch_0.json" "$work/own/images" \
      --torchscript "$work/dep3/arch_0.torchscript.pt" --onnx "$work/dep3/arch_0.onnx"
    /usr/bin/python3 -c "import numpy as np; z = dict(np.load('$work/own/data.npz')); \
z['class_names'] = np.array(['t-shirt', 'trouser', 'pullover', 'dress']); np.savez('$work/own/named.npz', **z)"
    check "data whose classes are numbered otherwise is mapped by name" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep3/arch_0.json" "$work/own/named.npz" --torchscript "$work/dep3/arch_0.torchscript.pt"
    contains "it says so" "labels mapped by name"
    contains "and reproduces the accuracy" " ok"
    /usr/bin/python3 -c "import numpy as np; z = dict(np.load('$work/own/data.npz')); \
z['class_names'] = np.array(['a', 'b', 'c', 'd']); np.savez('$work/own/other.npz', **z)"
    check "data of other classes is refused" 1 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep3/arch_0.json" "$work/own/other.npz" --torchscript "$work/dep3/arch_0.torchscript.pt"
    contains "it says why" "not the same classes"
  fi
  # int8 (issue #43): a search measuring the int8 model, and its export deployed in PyTorch.
  check "search own .npz for the int8 model" 0 "$bin" search --config "$work/own.yaml" --run-dir "$work/own-int8" -q \
    --set deploy.precision=int8 --set deploy.calibration_images=32 \
    --set "objectives=[{metric: int8_val_accuracy, goal: max}, {metric: int8_latency_ms, goal: min}]"
  check "every trial has its int8 metrics" 0 test "$(grep -c '"int8_latency_ms"' "$work/own-int8/trials.jsonl")" = 4
  check "the resolved config keeps the deploy section" 0 grep -q "precision: int8" "$work/own-int8/config.yaml"
  # The files a user ships as metrics (less the check data), and more calibration images than
  # the training set holds: clamped, said, and recorded with the run.
  check "search on the size of the int8 ONNX file" 0 "$bin" search --config "$work/own.yaml" --run-dir "$work/own-size" -q \
    --set deploy.precision=int8 --set deploy.calibration_images=100000 \
    --set "objectives=[{metric: int8_val_accuracy, goal: max}, {metric: int8_torchscript_bytes, goal: min}]" \
    --set 'constraints=["torchscript_bytes <= 10000000"]'
  contains "it warns about the calibration images" "deploy.calibration_images: 100000, but the training set has"
  check "which the run records" 0 grep -q '"warning": "deploy.calibration_images: 100000' "$work/own-size/int8.json"
  check "every trial has the sizes it needs" 0 test "$(grep -c '"int8_torchscript_bytes"' "$work/own-size/trials.jsonl")" = 4
  check "and the fp32 TorchScript file's" 0 test "$(grep -c '"torchscript_bytes"' "$work/own-size/trials.jsonl")" = 4
  check "but no size nobody asked for" 1 grep -q '"int8_onnx_bytes"' "$work/own-size/trials.jsonl"
  # An int8 run continues only with the int8 arithmetic it started with (RUN/int8.json).
  cp -r "$work/own-int8" "$work/own-int8-moved"
  sed -i 's/"engine": "[a-z0-9]*"/"engine": "qnnpack-elsewhere"/' "$work/own-int8-moved/int8.json"
  check "resume on a host with another int8 arithmetic is refused" 2 "$bin" resume "$work/own-int8-moved" -q
  contains "it names what differs" "engine: qnnpack-elsewhere -> "
  contains "and how to go on anyway" "--accept-int8-arithmetic"
  check "unless told" 0 "$bin" resume "$work/own-int8-moved" -q --accept-int8-arithmetic
  check "which the run records" 0 grep -q "resumed_with_another_arithmetic" "$work/own-int8-moved/int8.json"
  rm "$work/own-int8-moved/int8.json"
  check "a run from before 7-bit weights is refused too" 2 "$bin" resume "$work/own-int8-moved" -q
  contains "it says why" "quantized weights to 8 bits"
  rm -rf "$work/own-int8-moved"
  check "status of the int8 run" 0 "$bin" status "$work/own-int8"
  contains "it counts the int8 latencies too" "int8 latencies noisy"
  check "re-time the int8 front" 0 "$bin" latency measure --front-of "$work/own-int8" --compare --repeats 6 \
    --out "$work/own-int8/retimed.csv"
  contains "as the run measured it: the int8 model" "the int8 model ("
  contains "against the run's int8 latencies" "rank agreement"
  check "an int8 report" 0 "$bin" report "$work/own-int8" --out "$work/own-int8/report.html"
  check "its axes are the int8 objectives" 0 grep -q "int8 latency (ms, batch 1)" "$work/own-int8/report.html"
  check "int8 objectives without a deploy section are refused" 2 "$bin" validate "$work/own.yaml" \
    --set "objectives=[{metric: int8_val_accuracy, goal: max}, {metric: params, goal: min}]"
  contains "it says what to add" "deploy: {precision: int8}"
  check "export the int8 model with retraining" 0 "$bin" export "$work/own-int8" --id 0 --format json,torchscript \
    --train-epochs 1 --out "$work/dep8"
  contains "it reports the int8 test accuracy" ", as int8 "
  check "the JSON says int8" 0 grep -q '"precision": "int8"' "$work/dep8/arch_0.json"
  check "export the int8 model as ONNX (QDQ) from the same retraining" $onnx_rc "$bin" export "$work/own-int8" --id 0 \
    --format onnx --train-epochs 1 --out "$work/dep8"
  check "an fp32 export of the int8 run" 0 "$bin" export "$work/own-int8" --id 0 --format torchscript --precision fp32 --out "$work/dep8/fp32"
  # Quantization-aware fine-tuning: recorded per trial, and the export (retrained and fine-tuned
  # the same way) reproduces the int8 test accuracy it reports.
  check "search with quantization-aware fine-tuning" 0 "$bin" search --config "$work/own.yaml" --run-dir "$work/own-qat" -q \
    --set deploy.precision=int8 --set deploy.calibration_images=32 --set deploy.finetune_epochs=1 \
    --set "objectives=[{metric: int8_val_accuracy, goal: max}, {metric: int8_latency_ms, goal: min}]"
  check "every trial records its fine-tuning" 0 test "$(grep -c '"int8_finetune_seconds"' "$work/own-qat/trials.jsonl")" = 4
  check "the resolved config keeps it" 0 grep -q "finetune_epochs: 1" "$work/own-qat/config.yaml"
  check "export the fine-tuned int8 model with retraining" 0 "$bin" export "$work/own-qat" --id 0 --format json,torchscript \
    --train-epochs 1 --out "$work/depq"
  contains "it reports the int8 test accuracy" ", as int8 "
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    check "python loads the int8 torchscript and it computes the engine's logits" 0 /usr/bin/python3 \
      "$src/scripts/check-torchscript.py" "$work/dep8/arch_0.torchscript.pt"
    # The kernels of an x86 CPU without VNNI (AVX2) compute the same logits, bit for bit, on the
    # export's real check images (7-bit weights; 8-bit ones saturated there, issue #54).
    check "on a CPU without VNNI (ONEDNN_MAX_CPU_ISA=AVX2) too" 0 env ONEDNN_MAX_CPU_ISA=AVX2 /usr/bin/python3 \
      "$src/scripts/check-torchscript.py" "$work/dep8/arch_0.torchscript.pt"
    check "the export records its int8 arithmetic" 0 grep -q '"weights": "int8 per channel, symmetric, 7 bits' \
      "$work/dep8/arch_0.json"
    check "and the run too" 0 grep -q '"activations": "uint8 per tensor, 8 bits' "$work/own-int8/int8.json"
    check "raw test images through the int8 TorchScript reproduce its test accuracy" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep8/arch_0.json" "$work/own/data.npz" \
      --torchscript "$work/dep8/arch_0.torchscript.pt"
    contains "the int8 accuracy is the one reproduced" "ok"
    check "and so they do on the kernels of a CPU without VNNI" 0 env ONEDNN_MAX_CPU_ISA=AVX2 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/dep8/arch_0.json" "$work/own/data.npz" \
      --torchscript "$work/dep8/arch_0.torchscript.pt"
    check "raw test images through the fine-tuned int8 TorchScript reproduce its test accuracy" 0 /usr/bin/python3 \
      "$src/scripts/check-deployment.py" "$work/depq/arch_0.json" "$work/own/data.npz" \
      --torchscript "$work/depq/arch_0.torchscript.pt"
    if have_onnx_py && [[ -d "$src/scripts/onnxruntime-node/node_modules/onnxruntime-node" ]]; then
      check "the int8 ONNX model in ONNX Runtime computes the engine's int8 logits" 0 /usr/bin/python3 \
        "$src/scripts/check-onnx.py" "$work/dep8/arch_0.onnx" "$work/dep8/arch_0.torchscript.pt"
      check "raw test images through the int8 ONNX model in ONNX Runtime reproduce its test accuracy" 0 \
        /usr/bin/python3 "$src/scripts/check-deployment.py" "$work/dep8/arch_0.json" "$work/own/data.npz" \
        --onnx "$work/dep8/arch_0.onnx"
    fi
  fi
  # validate reads what export will read: the test labels too.
  /usr/bin/python3 -c "import numpy as np; z = dict(np.load('$work/own/data.npz')); y = z['y_test'].copy(); \
y[3] = 7; z['y_test'] = y; np.savez('$work/own/badtest.npz', **z)"
  check "validate refuses a test label out of range" 2 "$bin" validate "$work/own.yaml" --set dataset.path="$work/own/badtest.npz" --set dataset.classes=4
  contains "it names y_test, not x_test" "y_test: label 7 at index 3 is out of range [0, 3]"
  check "validate refuses it with the classes the training labels give" 2 "$bin" validate "$work/own.yaml" --set dataset.path="$work/own/badtest.npz"
  contains "the same message" "y_test: label 7 at index 3 is out of range [0, 3] (dataset.classes = 4)"
  /usr/bin/python3 -c "import numpy as np; z = dict(np.load('$work/own/data.npz')); y = z['y_test'].astype(np.int64); \
y[2] = -1; z['y_test'] = y; np.savez('$work/own/negtest.npz', **z)"
  check "validate refuses a negative test label" 2 "$bin" validate "$work/own.yaml" --set dataset.path="$work/own/negtest.npz"
  contains "it says labels are class indices" "label -1 at index 2 is negative"
  check "a missing own dataset is a clear error" 2 "$bin" validate "$work/own.yaml" --set dataset.path="$work/none.npz"
  contains "it names the file" "$work/none.npz: no such file"
else
  echo "note: /usr/bin/python3 has no numpy (python3-numpy); the own-data CLI checks are skipped"
fi

# Multi-fidelity on the tiny synthetic task: validate resolves the rungs, the search trains
# 6 -> 3 -> 1 per generation with continued states, and status, trials and report say so.
check "validate a fidelity section" 0 "$bin" validate "$cfg" --set fidelity.min=0.25 --set fidelity.max=1 --set fidelity.eta=2 --set search.batch=6
contains "validate prints the resolved rungs" "rungs: [0.25, 0.5, 1]"
check "a bad fidelity section" 2 "$bin" validate "$cfg" --set "fidelity.rungs=[1, 0.5]"
contains "it names the field" "fidelity.rungs: must increase"
check "multi-fidelity search" 0 "$bin" search --config "$cfg" --run-dir "$work/mf" --set fidelity.min=0.25 --set fidelity.max=1 --set fidelity.eta=2 --set search.batch=6
contains "the log shows the promotions" "generation 0 rung 0 (0.25 epochs): 6 trained, 0 failed, 3 promoted to rung 1"
contains "the summary counts the stopped trials" "stopped below the top rung"
check "status of a multi-fidelity run" 0 "$bin" status "$work/mf"
contains "status counts the trials per rung" "12 trained to rung 0 (0.25 epochs), 6 trained to rung 1 (0.5 epochs), 2 trained to rung 2 (1 epochs)"
contains "status shows the states' disk use" "0 training state file(s)"
check "learning curves in trials.jsonl" 0 grep -q '"rung":2,"curve":\[{"rung":0,"resource":0.25' "$work/mf/trials.jsonl"
check "report of a multi-fidelity run" 0 "$bin" report "$work/mf" --out "$work/mf/report.html"
check "the report draws the learning curves" 0 grep -q "<h2>Learning curves</h2>" "$work/mf/report.html"
check "a stopped trial cannot be exported" 2 "$bin" export "$work/mf" --id "$(grep -m1 '"status":"stopped"' "$work/mf/trials.jsonl" | sed 's/{"id":\([0-9]*\),.*/\1/')" --format json --out "$work/mf_export"
contains "export says why" "successive halving stopped it at rung"

# Zero-cost proxies and the pre-screen on the tiny synthetic task: 12 proposals a generation are
# scored by synflow and snip without training, the best 6 (by the proxies and params) train.
check "a misspelt proxy" 2 "$bin" validate "$cfg" --set "evaluator.proxies=[synflw]"
contains "it suggests the name" "did you mean 'synflow'"
check "keep must be below the proposals" 2 "$bin" validate "$cfg" --set "evaluator.proxies=[synflow]" --set search.prescreen.keep=6
contains "it says what to raise" "raise search.batch"
check "validate a pre-screen" 0 "$bin" validate "$cfg" --set "evaluator.proxies=[synflow, snip]" --set search.prescreen.keep=6 --set search.batch=12
contains "validate prints the ranking" "- {metric: snip, goal: max}"
check "pre-screened search" 0 "$bin" search --config "$cfg" --run-dir "$work/pre" --set "evaluator.proxies=[synflow, snip]" --set search.prescreen.keep=6 --set search.batch=12 --set "search.prescreen.by=[{metric: synflow, goal: max}, {metric: params, goal: min}]"
contains "the log shows the pre-screen" "generation 0 pre-screen: 12 proposals, 0 failed, 6 passed to training, 6 screened out (by synflow max params min)"
contains "the summary counts the screened proposals" "12 evaluations (0 failed; 12 more proposals screened out by the pre-screen"
check "trained trials carry their proxies" 0 grep -q '"status":"complete".*"synflow":' "$work/pre/trials.jsonl"
check "screened trials are in trials.jsonl" 0 grep -q '"status":"screened"' "$work/pre/trials.jsonl"
check "status of a pre-screened run" 0 "$bin" status "$work/pre"
contains "status counts the screened proposals" "12 proposal(s) screened out without training (keep 6 a generation)"
check "a screened trial cannot be exported" 2 "$bin" export "$work/pre" --id "$(grep -m1 '"status":"screened"' "$work/pre/trials.jsonl" | sed 's/{"id":\([0-9]*\),.*/\1/')" --format json --out "$work/pre_export"
contains "export says why" "screened out, never trained"

# Weight inheritance: children start from their parents' weights (objectives without measured
# latency, so that two runs choose the same children); a run stopped after one generation and
# resumed ends with the same trials as one run.
inherit=(--set search.inherit_weights=true --set "objectives=[{metric: val_accuracy, goal: max}, {metric: params, goal: min}]" --set "constraints=[]")
check "search with inheritance" 0 "$bin" search --config "$cfg" --run-dir "$work/inh" "${inherit[@]}"
check "children inherited weights" 0 grep -q '"inherited_share":0\.[0-9]*[1-9]' "$work/inh/trials.jsonl"
check "fully trained weights are kept" 0 test -f "$work/inh/weights/0.pt"
check "inheritance, first generation" 0 "$bin" search --config "$cfg" --run-dir "$work/inh2" "${inherit[@]}" --max-evals 6
check "inheritance, resumed" 0 "$bin" resume "$work/inh2" --max-evals 12
signature() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["id"], t["arch"], t.get("inherited_params"), t.get("val_accuracy"), t.get("parents"))' "$1"; }
check "resumed inheritance equals one run" 0 diff <(signature "$work/inh/trials.jsonl") <(signature "$work/inh2/trials.jsonl")
check "inheritance needs the train evaluator" 2 "$bin" validate "$cfg" --set search.inherit_weights=true --set evaluator.kind=table --set evaluator.table.path=t.csv
contains "it says so" "search.inherit_weights': needs evaluator.kind: train"

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
