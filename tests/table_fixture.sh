# Sourced by tests and benchmarks that need a search with nothing outside the repo:
#   table_experiment BIN DIR NAME SEED POPULATION WORKERS COST_MS MAX_EVALS
# writes DIR/table.csv, a synthetic table over all 15,625 NB201 cells (accuracy and latency
# spread by two primes, so the front is non-trivial), once per DIR, and DIR/NAME.yaml, an NSGA-II
# experiment on it (val_accuracy max, latency_ms min) whose evaluations each take COST_MS.
table_experiment() {
  local bin=$1 dir=$2 name=$3 seed=$4 population=$5 workers=$6 cost=$7 max_evals=$8
  if [[ ! -s "$dir/table.csv" ]]; then
    "$bin" space enumerate --space nb201 >"$dir/keys" || return 1
    awk 'BEGIN { print "arch,acc,lat" } { printf "%s,%.3f,%.3f\n", $0, (NR * 7919 % 1000) / 10.0, 0.1 + (NR * 104729 % 977) / 100.0 }' \
      "$dir/keys" >"$dir/table.csv"
  fi
  cat >"$dir/$name.yaml" <<YAML
name: $name
seed: $seed
space: nb201
objectives: [{metric: val_accuracy, goal: max}, {metric: latency_ms, goal: min}]
search: {strategy: nsga2, population: $population}
evaluator:
  kind: table
  workers: $workers
  table: {path: $dir/table.csv, key_column: arch, accuracy_column: acc, latency_column: lat, simulated_cost_ms: $cost}
budget: {max_evals: $max_evals}
YAML
}
