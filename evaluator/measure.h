// Latency measurements for CLI verbs, behind a LibTorch-free header (see latency.h for the
// LibTorch-level functions they wrap).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "space/search_space.h"

namespace paretonas::evaluator {

struct MeasureOptions {
  std::string device = "cpu";  ///< cpu | cuda
  int threads = 1;             ///< intra-op threads while timing
  int warmup = 10;   ///< untimed passes before an architecture's first timed pass
  int repeats = 30;  ///< timed passes per architecture (the median is kept)
  /// MeasureArchitectures/MeasureOperations: the timed passes are spread over this many rounds,
  /// each round visiting every architecture in turn (1: all of one architecture's passes at once).
  int rounds = 1;
};

/// The rounds `latency measure`/`calibrate` and a search's final-front measurement use unless
/// told otherwise: 5, at most one per timed pass (bench/RESULTS.md § Latency predictor).
inline int DefaultRounds(int repeats) { return std::min(5, repeats); }

struct Measured {
  double median_ms = 0;
  double iqr_ms = 0;
};

/// Called with (visits done, visits in all) after each architecture's turn in a round.
using MeasureProgress = std::function<void(std::size_t, std::size_t)>;

/// Batch-1 latencies of architectures (untrained weights), interleaved: in each of
/// `options.rounds` rounds every architecture runs a few untimed passes (`warmup` on its first visit, at most 2 later: its
/// weights left the caches while the others ran) and then its share of the `repeats` timed
/// passes; rounds alternate their direction. The machine's speed drifts over seconds (measured:
/// a 200-architecture run 7.5% faster than the same run a minute before, and ±4% between its
/// blocks of 20), so timing one architecture's passes back to back lets the drift of that moment
/// decide its number; interleaving gives every architecture the same mix of moments. The
/// networks of up to 256 architectures (and 1 GiB of weights) are held at once; larger sets go
/// in consecutive chunks.
/// Throws InputError for a bad device, or when rounds is not in 1..repeats.
std::vector<Measured> MeasureArchitectures(const space::SearchSpace& space,
                                           const std::vector<space::Genotype>& archs,
                                           const MeasureOptions& options,
                                           const MeasureProgress& progress = {});
/// The same for single operations at their shapes (the per-op table of `latency calibrate`).
std::vector<Measured> MeasureOperations(const std::vector<space::PlanEdge>& edges,
                                        const MeasureOptions& options,
                                        const MeasureProgress& progress = {});

}  // namespace paretonas::evaluator
