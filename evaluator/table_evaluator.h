// TableEvaluator: looks metrics up in a CSV keyed by architecture (tabular benchmarks).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "evaluator/eval_types.h"
#include "space/csv_table.h"
#include "space/search_space.h"

namespace paretonas::evaluator {

struct TableOptions {
  std::string path;
  std::string key_column = "arch_string";
  /// Reported as val_accuracy (percent). Columns named "<accuracy_column>@<resource>" are its
  /// learning curve: a multi-fidelity request below the top rung reads the one of its resource
  /// (the top rung reads the accuracy column itself).
  std::string accuracy_column = "cifar10_test_acc";
  std::string latency_column;                        ///< reported as latency_ms; "" for none
  /// Pretend evaluation time (sleep), for scheduling tests; a multi-fidelity rung sleeps its
  /// share (resource / top resource) of it.
  double simulated_cost_ms = 0;
  // Columns named like a zero-cost proxy (synflow, naswot, snip, grad_norm, jacob_cov) are
  // reported as that metric.

  /// Empty when valid; else names the field, value and constraint.
  std::string Validate() const;
};

// The CSV reader lives in space/csv_table.h (a layer predictors/ may use too).
using paretonas::CsvField;
using paretonas::CsvTable;
using paretonas::ParseNumber;
using paretonas::ReadCsv;

class TableEvaluator : public Evaluator {
 public:
  /// Loads the table; throws InputError for a missing file, missing columns, a duplicate key
  /// or a non-numeric value. `space` (optional, not owned) adds static params and MACs.
  TableEvaluator(const TableOptions& options, const space::SearchSpace* space);
  EvalResult Evaluate(const EvalRequest& request) override;
  std::string Describe() const override;
  std::size_t size() const { return rows_.size(); }

 private:
  /// The proxy columns of `request.key` (a key of rows_) and the static costs.
  void AddUntrainedMetrics(const EvalRequest& request, std::map<std::string, double>& metrics) const;
  TableOptions options_;
  const space::SearchSpace* space_;
  std::map<std::string, std::pair<double, double>> rows_;  // key -> (accuracy, latency)
  std::vector<std::pair<double, int>> curve_columns_;      // (resource, column)
  std::map<std::string, std::map<double, double>> curves_; // key -> resource -> accuracy
  std::vector<std::pair<std::string, int>> proxy_columns_; // (proxy, column)
  std::map<std::string, std::vector<double>> proxies_;     // key -> values, as proxy_columns_
};

}  // namespace paretonas::evaluator
