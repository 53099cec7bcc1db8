#!/usr/bin/env bash
# Fashion-MNIST searched as the built-in dataset, as a .npz and as a PNG image folder: are the
# trials the same, and what does reading each form cost?
# Usage: bench/own_data_bench.sh [PARETONAS] [EVALS]   (default build/experiments/paretonas, 12)
# Writes the data to $TMPDIR (about 330 MB) and prints, per form: the trials' architectures,
# validation accuracies and training losses compared with the built-in run, and the median wall
# time of 3 `validate` runs (load + resolve; the image folder once uncached, then cached).
set -euo pipefail
bin=${1:-build/experiments/paretonas}
evals=${2:-12}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/paretonas-own-data-XXXXXX")
trap 'rm -rf "$work"' EXIT
cfg=$src/experiments/fashion_mnist_quick.yaml
/usr/bin/python3 "$src/scripts/export-idx-dataset.py" "$work" --npz --folder >/dev/null
norm=(--set "dataset.mean=[0.2860]" --set "dataset.std=[0.3530]")
declare -A sets=(
  [builtin]=""
  [npz]="--set dataset.name=numpy --set dataset.path=$work/data.npz"
  [folder]="--set dataset.name=image_folder --set dataset.path=$work/images --set dataset.cache_dir=$work/cache"
)
median3() { sort -n | sed -n 2p; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
signature() {  # id arch val_accuracy train_loss, one trial a line
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["id"], t["arch"], t.get("val_accuracy"), t.get("train_loss"))' "$1"
}
for form in builtin npz folder; do
  extra=()
  [[ $form != builtin ]] && extra=(${sets[$form]} "${norm[@]}")
  if [[ $form == folder ]]; then
    echo "folder: first validate (decodes 70,000 PNGs): $(seconds "$bin" validate "$cfg" "${extra[@]}") s"
  fi
  t=$(for i in 1 2 3; do seconds "$bin" validate "$cfg" "${extra[@]}"; done | median3)
  echo "$form: validate (load and resolve) median of 3: $t s"
  "$bin" search -c "$cfg" -r "$work/run-$form" --max-evals "$evals" -q "${extra[@]}" >/dev/null
  signature "$work/run-$form/trials.jsonl" >"$work/$form.sig"
done
for form in npz folder; do
  if cmp -s "$work/builtin.sig" "$work/$form.sig"; then
    echo "$form: the $evals trials are identical to the built-in run (architectures, val_accuracy, train_loss)"
  else
    same_arch=$(paste <(cut -d' ' -f2 "$work/builtin.sig") <(cut -d' ' -f2 "$work/$form.sig") | awk -F'\t' '$1 == $2' | wc -l)
    echo "$form: trials differ from the built-in run; same architecture in $same_arch of $evals; accuracy (built-in vs $form):"
    paste <(cut -d' ' -f3 "$work/builtin.sig") <(cut -d' ' -f3 "$work/$form.sig") | awk '{ d = $2 - $1; s += d; a += (d < 0 ? -d : d); print "  " $1 "  " $2 } END { printf "  mean difference %+.2f points, mean |difference| %.2f\n", s / NR, a / NR }'
  fi
done
