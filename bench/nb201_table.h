// The NAS-Bench-201 table of ../shared/benchmarks/nb201 as the latency benchmarks read it: the
// space at CIFAR-10 shape, the CSV, and each row's architecture.
#pragma once

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

  explicit Nb201Table(const std::string& csv)
      : space(ref.Load()), table(evaluator::ReadCsv(csv)) {
    const int key_col = table.Column(csv, "arch_string");
    for (const auto& row : table.rows) archs.push_back(space.ParseKey(row[key_col]));
  }
};

}  // namespace paretonas::bench
