# Sourced by tests and benchmarks that need a search with nothing outside the repo:
#   table_experiment BIN DIR NAME SEED POPULATION WORKERS COST_MS MAX_EVALS [mf]
# writes DIR/table.csv, a synthetic table over all 15,625 NB201 cells (accuracy and latency
# spread by two primes, so the front is non-trivial), once per DIR, and DIR/NAME.yaml, an NSGA-II
# experiment on it (val_accuracy max, latency_ms min) whose evaluations each take COST_MS.
# The table also has a learning curve: acc@1 and acc@3 (the accuracy after 1 and 3 of 9 epochs)
# are the final accuracy shrunk towards 50 plus a third prime's spread, so that the low rungs
# rank the cells only roughly like the top one. With `mf`, the experiment runs successive
# halving over the rungs 1, 3, 9 (eta 3) with generations of 3 x POPULATION proposals; with
# `mf-async`, the same asynchronously; with `mf-pool`, sync with promotion_pool: all (a
# generation may continue trials earlier ones stopped).
table_experiment() {
  local bin=$1 dir=$2 name=$3 seed=$4 population=$5 workers=$6 cost=$7 max_evals=$8 mf=${9:-}
  if [[ ! -s "$dir/table.csv" ]]; then
    "$bin" space enumerate --space nb201 >"$dir/keys" || return 1
    awk 'BEGIN { print "arch,acc,lat,acc@1,acc@3" } {
           acc = (NR * 7919 % 1000) / 10.0; noise = (NR * 6007 % 101) / 10.0 - 5
           printf "%s,%.3f,%.3f,%.3f,%.3f\n", $0, acc, 0.1 + (NR * 104729 % 977) / 100.0,
                  50 + 0.4 * (acc - 50) + 2 * noise, 50 + 0.8 * (acc - 50) + noise }' \
      "$dir/keys" >"$dir/table.csv"
  fi
  cat >"$dir/$name.yaml" <<YAML
name: $name
seed: $seed
space: nb201
objectives: [{metric: val_accuracy, goal: max}, {metric: latency_ms, goal: min}]
search: {strategy: nsga2, population: $population$([[ $mf == mf* ]] && echo ", batch: $((3 * population))")}
$([[ $mf == mf* ]] && echo "fidelity: {resource: epochs, rungs: [1, 3, 9], eta: 3, mode: $([[ $mf == mf-async ]] && echo async || echo sync)$([[ $mf == mf-pool ]] && echo ", promotion_pool: all")}")
evaluator:
  kind: table
  workers: $workers
  table: {path: $dir/table.csv, key_column: arch, accuracy_column: acc, latency_column: lat, simulated_cost_ms: $cost}
budget: {max_evals: $max_evals}
YAML
}
