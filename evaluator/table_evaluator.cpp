#include "evaluator/table_evaluator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "search/proxy_names.h"
#include "space/input_error.h"

namespace paretonas::evaluator {

std::string TableOptions::Validate() const {
  if (path.empty()) return "evaluator.table.path: missing; give the CSV file";
  if (key_column.empty()) return "evaluator.table.key_column: must not be empty";
  if (accuracy_column.empty()) return "evaluator.table.accuracy_column: must not be empty";
  if (simulated_cost_ms < 0 || !std::isfinite(simulated_cost_ms))
    return "evaluator.table.simulated_cost_ms: " + std::to_string(simulated_cost_ms) +
           " must be >= 0";
  return "";
}

namespace {
std::string FormatResource(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}
}  // namespace

TableEvaluator::TableEvaluator(const TableOptions& options, const space::SearchSpace* space)
    : options_(options), space_(space) {
  const std::string problem = options.Validate();
  if (!problem.empty()) throw InputError(problem);
  const CsvTable t = ReadCsv(options.path);
  const int key = t.Column(options.path, options.key_column);
  const int acc = t.Column(options.path, options.accuracy_column);
  const int lat = options.latency_column.empty() ? -1 : t.Column(options.path, options.latency_column);
  // Learning-curve columns: "<accuracy column>@<resource>" holds the accuracy at that rung.
  const std::string prefix = options.accuracy_column + "@";
  for (size_t c = 0; c < t.header.size(); ++c) {
    const std::string& h = t.header[c];
    double resource = 0;
    if (h.compare(0, prefix.size(), prefix) == 0 && ParseNumber(h.substr(prefix.size()), &resource))
      curve_columns_.emplace_back(resource, static_cast<int>(c));
  }
  for (size_t c = 0; c < t.header.size(); ++c)
    if (search::IsProxyName(t.header[c])) proxy_columns_.emplace_back(t.header[c], static_cast<int>(c));
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const std::string where = options.path + ":" + std::to_string(t.row_lines[r]) + ": ";
    for (const auto& [name, col] : proxy_columns_) {
      double v = 0;
      if (!ParseNumber(row[col], &v))
        throw InputError(where + "column '" + name + "': '" + row[col] + "' is not a number");
      proxies_[row[key]].push_back(v);
    }
    double a = 0, l = NAN;
    if (!ParseNumber(row[acc], &a))
      throw InputError(where + "column '" + options.accuracy_column + "': '" + row[acc] +
                       "' is not a number");
    if (lat >= 0 && (!ParseNumber(row[lat], &l) || l < 0))
      throw InputError(where + "column '" + options.latency_column + "': '" + row[lat] +
                       "' is not a non-negative number");
    if (!rows_.emplace(row[key], std::make_pair(a, l)).second)
      throw InputError(where + "duplicate key '" + row[key] + "'");
    for (const auto& [resource, col] : curve_columns_) {
      double v = 0;
      if (!ParseNumber(row[col], &v))
        throw InputError(where + "column '" + t.header[col] + "': '" + row[col] +
                         "' is not a number");
      curves_[row[key]][resource] = v;
    }
  }
}

EvalResult TableEvaluator::Evaluate(const EvalRequest& request) {
  EvalResult r;
  r.trial_id = request.trial_id;
  // A rung below the top costs its share of the full training; the pre-screen nothing.
  const double cost_ms = request.rung == search::kPrescreenRung ? 0.0
                         : options_.simulated_cost_ms *
                               (request.rung >= 0 && request.max_resource > 0 ? request.resource / request.max_resource : 1.0);
  if (cost_ms > 0)
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(cost_ms * 1000)));
  auto it = rows_.find(request.key);
  if (it == rows_.end()) {
    r.failure = "key '" + request.key + "' is not in " + options_.path;
    return r;
  }
  if (request.rung == search::kPrescreenRung) {  // the pre-screen: no accuracy, no latency
    r.ok = true;
    AddUntrainedMetrics(request, r.metrics);
    return r;
  }
  double accuracy = it->second.first;
  if (request.rung >= 0 && request.resource < request.max_resource) {
    // Below the top rung: the learning-curve column of this resource.
    static const std::map<double, double> kNone;
    const auto found = curves_.find(request.key);
    const auto& curve = found == curves_.end() ? kNone : found->second;
    auto c = std::find_if(curve.begin(), curve.end(), [&](const auto& kv) {
      return std::abs(kv.first - request.resource) <= 1e-9 * std::max(1.0, kv.first);
    });
    if (c == curve.end()) {
      r.failure = options_.path + " has no column '" + options_.accuracy_column + "@" +
                  FormatResource(request.resource) + "' for rung " + std::to_string(request.rung);
      return r;
    }
    accuracy = c->second;
  }
  r.ok = true;
  r.metrics["val_accuracy"] = accuracy;
  r.metrics["val_error"] = search::ErrorPercent(accuracy);
  if (!options_.latency_column.empty()) r.metrics["latency_ms"] = it->second.second;
  AddUntrainedMetrics(request, r.metrics);
  r.seconds = cost_ms / 1000.0;
  return r;
}

void TableEvaluator::AddUntrainedMetrics(const EvalRequest& request, std::map<std::string, double>& metrics) const {
  if (!proxy_columns_.empty()) {
    const std::vector<double>& values = proxies_.at(request.key);
    for (size_t i = 0; i < proxy_columns_.size(); ++i) metrics[proxy_columns_[i].first] = values[i];
  }
  if (space_) {
    const space::StaticCosts c = space_->Costs(request.genotype);
    metrics["params"] = static_cast<double>(c.params_pruned);
    metrics["macs"] = static_cast<double>(c.macs_pruned);
    metrics["activation_bytes"] = static_cast<double>(c.activation_bytes);
  }
}

std::string TableEvaluator::Describe() const {
  return "table " + options_.path + " (" + std::to_string(rows_.size()) + " rows)";
}

}  // namespace paretonas::evaluator
