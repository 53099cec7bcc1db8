// Problem: what the search optimises (objectives, constraints) over which space.
#pragma once

#include <string>
#include <vector>

#include "search/pareto.h"
#include "search/trial.h"
#include "space/search_space.h"

namespace paretonas::search {

struct Objective {
  std::string metric;     ///< a key of EvalResult::metrics, e.g. "val_accuracy", "latency_ms"
  bool maximize = false;
};

/// metric <= bound (or >= bound when !less_equal).
struct Constraint {
  std::string metric;
  bool less_equal = true;
  double bound = 0;
  std::string ToString() const;
};

/// Metrics the engine knows how to produce, for validation and --help.
const std::vector<std::string>& KnownMetrics();

struct Problem {
  const space::SearchSpace* space = nullptr;  ///< not owned
  std::vector<Objective> objectives;
  std::vector<Constraint> constraints;

  /// Objective vector in minimisation form (maximised metrics negated). A complete trial that
  /// lacks a metric or has a non-finite value is a caller error: the runner fails such trials.
  Point ObjectiveVector(const Trial& t) const;
  /// Sum of relative constraint violations (0 when feasible).
  double Violation(const Trial& t) const;
  /// The constraints `t` violates, as written ("latency_ms <= 2"); empty when feasible.
  std::vector<std::string> Violated(const Trial& t) const;
  /// Empty when the trial's metrics hold every objective and constraint metric as finite numbers.
  std::string CheckMetrics(const Trial& t) const;
};

}  // namespace paretonas::search
