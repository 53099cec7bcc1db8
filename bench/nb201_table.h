// The NAS-Bench-201 table of ../shared/benchmarks/nb201 as the latency benchmarks read it: the
// space at CIFAR-10 shape, the CSV, and each row's architecture.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "evaluator/table_evaluator.h"
#include "predictors/latency_model.h"

namespace paretonas::bench {

struct Nb201Table {
  predictors::SpaceRef ref{"nb201", {}, 3, 32, 32, 10};
  space::SearchSpace space;
  evaluator::CsvTable table;
  std::vector<space::Genotype> archs;  ///< parallel to table.rows (column arch_string)

  std::string path;

  explicit Nb201Table(const std::string& csv)
      : space(ref.Load()), table(evaluator::ReadCsv(csv)), path(csv) {
    const int key_col = table.Column(csv, "arch_string");
    for (const auto& row : table.rows) archs.push_back(space.ParseKey(row[key_col]));
  }

  /// A numeric column, one value per row (parallel to archs).
  std::vector<double> Values(const std::string& column) const {
    const int col = table.Column(path, column);
    std::vector<double> v;
    for (const auto& row : table.rows) v.push_back(std::stod(row[col]));
    return v;
  }

  /// A latency model of `y` fit on the rows `rows`.
  predictors::LatencyModel Fit(const std::vector<double>& y, const std::vector<std::size_t>& rows,
                               const predictors::LatencyFitOptions& options,
                               const std::vector<predictors::LatencyModel>& priors = {}) const {
    std::vector<space::Genotype> tx;
    std::vector<double> ty;
    for (std::size_t r : rows) tx.push_back(archs[r]), ty.push_back(y[r]);
    return predictors::LatencyModel::Fit(space, ref, tx, ty, {}, options, priors);
  }

  /// What `latency kit` would measure among `candidates`: shuffled by `rng`, a random half kept
  /// (another half per draw), then the n of SpreadSelection.
  std::vector<std::size_t> KitRows(std::vector<std::size_t> candidates, std::size_t n,
                                   std::mt19937_64& rng) const {
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(candidates.size() / 2);
    std::vector<space::Genotype> g;
    for (std::size_t r : candidates) g.push_back(archs[r]);
    std::vector<std::size_t> rows;
    for (std::size_t i : predictors::SpreadSelection(space, g, n)) rows.push_back(candidates[i]);
    return rows;
  }
};

}  // namespace paretonas::bench
