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

}  // namespace paretonas::evaluator
