#!/usr/bin/env bash
# The same search under Open MPI: 3 ranks (rank 0 searches, 2 worker ranks evaluate) must give
# the single-process run's trials and front, byte for byte; so must a resume under mpirun; a
# worker rank killed mid-run stops the job with a clear message and a resume without MPI ends
# identical to an uninterrupted run. Verbs that need no workers, and bad input, end every rank.
# Skipped (exit 77) only when mpirun is absent or the binary was built without MPI.
# Usage: mpi_test.sh PARETONAS_BINARY
set -uo pipefail
bin=$(readlink -f "$1")
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: mpirun not found (install openmpi-bin libopenmpi-dev: scripts/install-deps.sh)"
  exit 77
fi
if ! "$bin" --version | grep -q "MPI support: yes"; then
  echo "SKIP: $bin was built without MPI ($("$bin" --version)); rebuild with libopenmpi-dev installed"
  exit 77
fi
work=$(mktemp -d /tmp/paretonas-mpi-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# 3 ranks on a 2-core machine (oversubscribed; rank 0 mostly sleeps); as root Open MPI wants
# to be told. A timeout turns a hang into a failure.
mpi=(timeout 300 mpirun --oversubscribe -np 3)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)

source "$(dirname "$0")/table_fixture.sh"
clockless() { sed -E 's/,"started":"[^"]*","finished":"[^"]*"//' "$1"; }  # as cli_checks.sh
table_experiment "$bin" "$work" exp 11 12 1 15 120 || exit 1
table_experiment "$bin" "$work" long 11 12 1 15 400 || exit 1
same_run() {  # $1 $2: run directories; trials and front identical
  cmp -s <(clockless "$1/trials.jsonl") <(clockless "$2/trials.jsonl") && cmp -s "$1/front.csv" "$2/front.csv"
}

# 1. 3 ranks == 1 process.
"$bin" search --config "$work/exp.yaml" --run-dir "$work/ref" -q >"$work/ref.log" 2>&1 || { cat "$work/ref.log"; exit 1; }
"${mpi[@]}" "$bin" search --config "$work/exp.yaml" --run-dir "$work/m3" -q >"$work/m3.log" 2>&1
rc=$?
[[ $rc -eq 0 ]] && ok "mpirun -np 3 search exits 0" || { bad "mpirun -np 3 search exit $rc"; cat "$work/m3.log"; }
grep -q "MPI: 2 worker ranks" "$work/m3.log" && ok "rank 0 names its 2 worker ranks" || bad "no worker ranks named"
[[ $(grep -c "^  rank [12]: pid" "$work/m3.log") -eq 2 ]] && ok "both workers reported ready" || bad "worker lines missing"
same_run "$work/ref" "$work/m3" && ok "3 ranks give the single-process trials and front ($(wc -l <"$work/m3/trials.jsonl") trials)" \
  || { bad "3-rank run differs from the single-process run"; diff <(head -c 2000 "$work/ref/trials.jsonl") <(head -c 2000 "$work/m3/trials.jsonl") | head; }

# workers: auto divides a node's cores among the worker ranks on it (rank 0 only searches).
table_experiment "$bin" "$work" auto 11 12 auto 1 24 || exit 1
"${mpi[@]}" "$bin" search --config "$work/auto.yaml" --run-dir "$work/auto" -q >"$work/auto.log" 2>&1 || bad "auto workers run"
share=$(( $(getconf _NPROCESSORS_ONLN) / 2 )); (( share < 1 )) && share=1
[[ $(grep -cE "^  rank [12]: pid .*, $share workers?$" "$work/auto.log") -eq 2 ]] \
  && ok "workers: auto gives each of the 2 worker ranks half the cores ($share)" || { bad "auto workers"; grep "rank" "$work/auto.log"; }

# 2. Stopped by its budget under MPI, resumed under MPI with a larger one: same as one run.
# (50 ends inside generation 5 of 12: its other 10 stay pending for the resume.)
"${mpi[@]}" "$bin" search --config "$work/exp.yaml" --run-dir "$work/part" --max-evals 50 -q >"$work/part.log" 2>&1 || bad "partial MPI search failed"
"${mpi[@]}" "$bin" resume "$work/part" --max-evals 120 -q >>"$work/part.log" 2>&1 || bad "MPI resume failed"
same_run "$work/ref" "$work/part" && ok "search to 50 + resume to 120 under mpirun equals one run" || bad "MPI resume differs"

# 3. A worker rank killed mid-run: the job stops with a clear message; resume without MPI.
"$bin" search --config "$work/long.yaml" --run-dir "$work/ref_long" --set evaluator.workers=2 -q >/dev/null 2>&1 || bad "long reference failed"
"${mpi[@]}" "$bin" search --config "$work/long.yaml" --run-dir "$work/k" -q >"$work/k.log" 2>&1 &
job=$!
pid=""
for ((t = 0; t < 600; t++)); do
  pid=$(sed -n 's/^  rank 1: pid \([0-9]*\) .*/\1/p' "$work/k.log")
  [[ -n "$pid" ]] && break
  sleep 0.05
done
# Let it run into the search (>= 2 generations journaled), then kill the worker.
for ((t = 0; t < 600; t++)); do
  [[ $(grep -c "generation .* done" "$work/k.log") -ge 2 ]] && break
  sleep 0.05
done
if [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; then
  wait "$job"
  rc=$?
  [[ $rc -ne 0 ]] && ok "the job ends non-zero after a worker rank is lost (mpirun exit $rc)" || bad "job exit 0 after a lost rank"
  grep -q "the MPI job is stopping" "$work/k.log" && grep -q "paretonas resume $work/k" "$work/k.log" \
    && ok "rank 0 says the job is stopping and how to resume" || { bad "no clear stop message"; cat "$work/k.log"; }
  done_before=$(grep -c . "$work/k/trials.jsonl" 2>/dev/null || echo 0)
  "$bin" resume "$work/k" -q >"$work/k_resume.log" 2>&1 || { bad "resume without MPI failed"; tail "$work/k_resume.log"; }
  same_run "$work/ref_long" "$work/k" && ok "resume without MPI after the lost rank ($done_before trials told before) equals an uninterrupted run" \
    || bad "resume after a lost rank differs"
else
  bad "could not find or kill worker rank 1 (pid '$pid')"
  wait "$job"
fi

# 4. Verbs without workers and bad input end every rank (no hang).
"${mpi[@]}" "$bin" validate "$work/exp.yaml" >"$work/v.log" 2>&1 && ok "mpirun validate ends all ranks" || { bad "mpirun validate"; cat "$work/v.log"; }
"${mpi[@]}" "$bin" search --config "$work/exp.yaml" --run-dir "$work/m3" -q >"$work/again.log" 2>&1
rc=$?
[[ $rc -eq 2 ]] && grep -q "already holds a search" "$work/again.log" && ok "bad input under mpirun: exit 2 with the message" \
  || { bad "bad input under mpirun: exit $rc"; cat "$work/again.log"; }

# 5. A worker that cannot build its evaluator (here: a relative table path that exists only in
# rank 0's working directory) is named by rank 0, which exits 2 before searching.
mkdir -p "$work/a" "$work/b"
cp "$work/table.csv" "$work/a/"
sed "s|$work/table.csv|table.csv|" "$work/exp.yaml" >"$work/a/rel.yaml"
mpmd=(timeout 120 mpirun --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpmd+=(--allow-run-as-root)
"${mpmd[@]}" -np 1 -wdir "$work/a" "$bin" search --config rel.yaml --run-dir r -q : -np 2 -wdir "$work/b" "$bin" worker \
  >"$work/w.log" 2>&1
rc=$?
[[ $rc -eq 2 ]] && grep -q "rank 1 on .*: table.csv: cannot open" "$work/w.log" && grep -q "rank 2" "$work/w.log" \
  && ok "a worker that cannot start is named by rank 0 (exit 2)" || { bad "worker start failure: exit $rc"; cat "$work/w.log"; }
[[ ! -f "$work/a/r/checkpoint.bin" ]] && ok "no search started" || bad "a search started although workers failed"

# 6. evaluator.kind: command: the worker ranks run the training commands, with the same trials
# (a stand-in script whose metrics are a function of arch and seed) as one process.
src=$(cd "$(dirname "$0")/.." && pwd)
if [[ -x /usr/bin/python3 ]]; then
  sed -e 's/^  kind: train/  kind: command/' \
      -e "s#^  workers: 2#  workers: 1\n  command: /usr/bin/python3 $src/tests/data/fake_trainer.py ok#" \
      -e 's/^  max_evals: .*/  max_evals: 8/' -e 's/^constraints:.*//' -e 's/metric: latency_ms/metric: params/' \
      "$src/tests/data/tiny_synthetic.yaml" >"$work/cmd.yaml"
  "$bin" search --config "$work/cmd.yaml" --run-dir "$work/cmd1" -q >"$work/cmd1.log" 2>&1 || { bad "command search, 1 process"; tail "$work/cmd1.log"; }
  "${mpi[@]}" "$bin" search --config "$work/cmd.yaml" --run-dir "$work/cmd3" -q >"$work/cmd3.log" 2>&1 || { bad "command search under mpirun"; tail "$work/cmd3.log"; }
  sig() { sed -E 's/"(seconds|started|finished|latency_[a-z_]*|peak_activation_bytes|command_seconds|export_seconds)":[^,}]*,?//g' "$1"; }
  if [[ $(grep -c '"status":"complete"' "$work/cmd3/trials.jsonl" 2>/dev/null) -eq 8 ]] && \
     cmp -s <(sig "$work/cmd1/trials.jsonl") <(sig "$work/cmd3/trials.jsonl"); then
    ok "the worker ranks run the training commands: the same trials as one process"
  else
    bad "command evaluator under mpirun differs from one process"; diff <(sig "$work/cmd1/trials.jsonl") <(sig "$work/cmd3/trials.jsonl") | head -5
  fi
fi

# 7. Multi-fidelity: the worker ranks run the rung jobs. On the table (three rungs), the same
# trials as one process; with real training on synthetic data, the worker ranks continue from
# the training states rank 0 names (absolute paths in the run directory), and the trials equal
# one process's apart from the measured latencies; no state file is left at the end.
table_experiment "$bin" "$work" mf 11 6 1 5 72 mf || exit 1
"$bin" search --config "$work/mf.yaml" --run-dir "$work/mf1" -q >"$work/mf1.log" 2>&1 || bad "multi-fidelity table search, 1 process"
"${mpi[@]}" "$bin" search --config "$work/mf.yaml" --run-dir "$work/mf3" -q >"$work/mf3.log" 2>&1 || { bad "multi-fidelity table search under mpirun"; tail "$work/mf3.log"; }
same_run "$work/mf1" "$work/mf3" && ok "multi-fidelity: 3 ranks give the single-process trials ($(grep -c '"rung":2' "$work/mf3/trials.jsonl") at the top rung)" \
  || bad "multi-fidelity under mpirun differs from one process"
# Asynchronous: the worker ranks pull rung jobs as they free up (promotions depend on arrival
# order, so only the rung sizes are checked: 4 generations of 18 -> 6 -> 2).
"${mpi[@]}" "$bin" search --config "$work/mf.yaml" --run-dir "$work/mfa" -q --set fidelity.mode=async >"$work/mfa.log" 2>&1 || { bad "async multi-fidelity under mpirun"; tail "$work/mfa.log"; }
[[ $(grep -c '"status":"complete"' "$work/mfa/trials.jsonl") -eq 8 && $(grep -c '"rung":1' "$work/mfa/trials.jsonl") -eq 24 ]] \
  && ok "async multi-fidelity under mpirun: 8 trials at the top rung, 24 promoted from rung 0" || bad "async rung sizes under mpirun"
# (Objectives accuracy and params: promotions on a measured latency could differ between runs.)
sed -e 's/^  epochs: 1/  epochs: 2/' -e 's/^  max_evals: .*/  max_evals: 12/' -e 's/^  workers: 2/  workers: 1/' \
    -e 's/metric: latency_ms/metric: params/' \
    -e 's/^  population: 6/  population: 4\n  batch: 6/' "$src/tests/data/tiny_synthetic.yaml" >"$work/mft.yaml"
printf 'fidelity: {resource: epochs, rungs: [0.5, 1, 2], eta: 2}\n' >>"$work/mft.yaml"
"$bin" search --config "$work/mft.yaml" --run-dir "$work/mft1" -q >"$work/mft1.log" 2>&1 || { bad "multi-fidelity training, 1 process"; tail "$work/mft1.log"; }
"${mpi[@]}" "$bin" search --config "$work/mft.yaml" --run-dir "$work/mft3" -q >"$work/mft3.log" 2>&1 || { bad "multi-fidelity training under mpirun"; tail "$work/mft3.log"; }
sig() { sed -E 's/"(seconds|started|finished|latency_[a-z_]*|peak_activation_bytes|train_seconds|val_seconds)":[^,}]*,?//g' "$1"; }
if [[ $(grep -c '"continued":1' "$work/mft3/trials.jsonl") -gt 0 ]] && cmp -s <(sig "$work/mft1/trials.jsonl") <(sig "$work/mft3/trials.jsonl"); then
  ok "multi-fidelity training under mpirun continues from saved states: the same trials as one process"
else
  bad "multi-fidelity training under mpirun differs"; diff <(sig "$work/mft1/trials.jsonl") <(sig "$work/mft3/trials.jsonl") | head -5
fi
[[ -z $(ls -A "$work/mft3/states") ]] && ok "no training state is left after the search" || bad "states left: $(ls "$work/mft3/states")"

[[ $fail -eq 0 ]] && echo "mpi: all checks passed" || echo "mpi: some checks failed"
exit $fail
