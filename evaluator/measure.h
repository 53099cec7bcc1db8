// Latency measurements for CLI verbs, behind a LibTorch-free header (see latency.h for the
// LibTorch-level functions they wrap).
#pragma once

#include <string>

#include "space/search_space.h"

namespace paretonas::evaluator {

struct MeasureOptions {
  std::string device = "cpu";  ///< cpu | cuda
  int threads = 1;             ///< intra-op threads while timing
  int warmup = 10;
  int repeats = 30;
};

struct Measured {
  double median_ms = 0;
  double iqr_ms = 0;
};

/// Batch-1 latency of an architecture (untrained weights). Throws InputError for a bad device.
Measured MeasureArchitecture(const space::SearchSpace& space, const space::Genotype& g,
                             const MeasureOptions& options);
/// Batch-1 latency of one operation alone at its shapes.
Measured MeasureOperation(const space::PlanEdge& edge, const MeasureOptions& options);

}  // namespace paretonas::evaluator
