// Latency measurements for CLI verbs, behind a LibTorch-free header (see latency.h for the
// LibTorch-level functions they wrap).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "evaluator/latency_estimate.h"
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
  /// Precision and caps (TimingPolicy): more rounds until each median's 95% interval is within
  /// +-target (0: none), at most max_seconds of timing and max_passes passes per architecture;
  /// descheduled passes replaced (discard_descheduled).
  double target = 0.03;
  double max_seconds = 2.0;
  int max_passes = 300;
  bool discard_descheduled = true;
  /// fp32, or int8: each network quantized (Int8Net, calibrated on random images) and the int8
  /// model timed, quantization of its input and dequantization of its logits included (CPU).
  std::string precision = "fp32";

  TimingPolicy Policy() const {
    TimingPolicy p;
    p.warmup = warmup;
    p.repeats = repeats;
    p.rounds = rounds;
    p.target = target;
    p.max_seconds = max_seconds;
    p.max_passes = max_passes;
    p.discard_descheduled = discard_descheduled;
    return p;
  }
};

/// The rounds `latency measure`/`calibrate` and a search's final-front measurement use unless
/// told otherwise: 5, at most one per timed pass (bench/RESULTS.md § Latency predictor).
inline int DefaultRounds(int repeats) { return std::min(5, repeats); }

/// One architecture's latency (median_ms, iqr_ms, its interval, passes kept and discarded,
/// whether it is noisy).
using Measured = LatencyEstimate;

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
/// Architectures whose interval is wider than +-target after these rounds get more rounds,
/// together (TimeInterleaved). Throws InputError for a bad device, or when rounds is not in
/// 1..repeats. `passes`, when given, gets every architecture's timed passes (benchmarks).
std::vector<Measured> MeasureArchitectures(const space::SearchSpace& space,
                                           const std::vector<space::Genotype>& archs,
                                           const MeasureOptions& options,
                                           const MeasureProgress& progress = {},
                                           std::vector<std::vector<Pass>>* passes = nullptr);
/// The same for single operations at their shapes (the per-op table of `latency calibrate`).
std::vector<Measured> MeasureOperations(const std::vector<space::PlanEdge>& edges,
                                        const MeasureOptions& options,
                                        const MeasureProgress& progress = {});

}  // namespace paretonas::evaluator
