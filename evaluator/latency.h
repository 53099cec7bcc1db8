// Batch-1 inference latency of a built module (LibTorch).
#pragma once

#include <torch/torch.h>

#include "space/graph_net.h"
#include "space/search_space.h"

namespace paretonas::evaluator {

struct LatencyOptions {
  int threads = 1;   ///< intra-op threads while timing (restored afterwards)
  int warmup = 5;
  int repeats = 30;
};

struct Latency {
  double median_ms = 0;
  double iqr_ms = 0;
};

/// Times `repeats` forward passes of one zero image after `warmup` passes, in eval mode without
/// autograd; on CUDA each pass is synchronised. Returns the median and the interquartile range.
Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& options, const torch::Device& device);

/// "cpu" or "cuda"; throws InputError when CUDA is asked for but not available.
torch::Device ResolveDevice(const std::string& name);

/// Batch-1 latency of one operation alone, at its shapes (a one-edge network; weights drawn
/// from a fixed seed). The per-op lookup table of `paretonas latency calibrate`.
Latency MeasureOpLatency(const space::PlanEdge& edge, const LatencyOptions& options,
                         const torch::Device& device);

/// Batch-1 latency of an architecture of `space` (untrained weights: latency does not depend
/// on their values).
Latency MeasureArchLatency(const space::SearchSpace& space, const space::Genotype& g,
                           const LatencyOptions& options, const torch::Device& device);

}  // namespace paretonas::evaluator
