// ExperimentConfig: an experiment file (YAML; JSON is valid YAML), strictly validated.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "evaluator/dataset_info.h"
#include "evaluator/table_evaluator.h"
#include "evaluator/train_evaluator.h"
#include "search/fidelity.h"
#include "search/search_loop.h"
#include "search/problem.h"
#include "search/strategy.h"

namespace paretonas::experiments {

struct ExperimentConfig {
  std::string file;  ///< where it was read from (for messages)
  std::string name = "experiment";
  std::uint64_t seed = 0;
  std::string space = "nb201";                   ///< preset name or space file
  /// Not part of the config: where the space file is read from (`space` as written, or the same
  /// name beside the experiment file when it is not found from the working directory).
  std::string space_path;
  std::map<std::string, std::string> space_set;  ///< space parameter overrides
  evaluator::DatasetOptions dataset;
  evaluator::TrainOptions training;
  std::vector<search::Objective> objectives;
  std::vector<search::Constraint> constraints;
  search::StrategyOptions search;
  search::FidelityOptions fidelity;      ///< off unless the file has a fidelity section
  search::PrescreenOptions prescreen;    ///< search.prescreen; off unless given
  bool inherit_weights = false;          ///< search.inherit_weights
  int max_failures_in_a_row = 5;         ///< search.max_failures_in_a_row (0: never stop)
  std::string evaluator_kind = "train";  ///< train | table | command | supernet
  std::string supernet_dir;              ///< evaluator.supernet.path as written (kind supernet)
  /// Kinds whose networks this engine builds and holds (trained here, or taken from a supernet):
  /// the int8 stage and export sizes apply to them.
  bool BuildsNetworks() const { return evaluator_kind == "train" || evaluator_kind == "supernet"; }
  std::string command;                   ///< evaluator.command (kind command)
  double command_timeout = 0;            ///< seconds per candidate; 0: no limit
  /// Not part of the file: the run directory of this search, where the command evaluator keeps
  /// its trial folders (set by `search` and `resume`; empty elsewhere).
  std::string run_dir;
  int workers = 0;                       ///< 0: auto (one per core)
  bool cache = true;
  std::string latency_predictor;         ///< model file of `paretonas latency` ("": none)
  /// Not part of the config: where the predictor is read from (as space_path is found).
  std::string latency_predictor_path;
  bool latency_online = false;           ///< refit the predictor on measured latencies
  evaluator::TableOptions table;
  /// What is allowed but probably not meant (e.g. fidelity.eta 1.5: six rungs); not part of the
  /// config: `validate` and `search` print them.
  std::vector<std::string> warnings;
  std::int64_t max_evals = 100;
  int generations = 0;                   ///< 0: no limit
  /// budget.seconds: the search loop's wall time over every process (0: no limit); checked
  /// between generations.
  double budget_seconds = 0;

  /// Where the latency predictor is read from (latency_predictor_path, else latency_predictor).
  const std::string& PredictorPath() const {
    return latency_predictor_path.empty() ? latency_predictor : latency_predictor_path;
  }

  /// Workers after resolving "auto".
  /// `workers`, or for auto: one per core this process may run on (its affinity mask: taskset,
  /// cpusets and mpirun's binding count), and, when it may run on all of them, its share when
  /// `share` processes evaluate on this machine (MPI worker ranks on one node); 8 on a GPU.
  int ResolvedWorkers(int share = 1) const;
  /// The config with every default filled in, as YAML (what `validate` prints and the run
  /// directory keeps).
  std::string ToYaml() const;
  /// Hash of ToYaml() without the budget section (a budget may be extended on resume).
  std::string Hash() const;
};

/// Reads and validates an experiment file. `overrides` are "a.b.c=value" strings applied before
/// validation (recorded in the resolved config). Throws InputError naming file, line, field,
/// value, and what is allowed (or the closest valid key).
/// CPUs this process may run on (sched_getaffinity), at least 1.
int UsableCores();

ExperimentConfig LoadExperiment(const std::string& path, const std::vector<std::string>& overrides);
/// The same from YAML text (`file` names it in messages).
ExperimentConfig ParseExperiment(const std::string& text, const std::string& file,
                                 const std::vector<std::string>& overrides);

/// Flattened "section.key" -> value of a YAML document, for naming changed keys.
std::map<std::string, std::string> FlattenYaml(const std::string& text);

}  // namespace paretonas::experiments
