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
  /// Peak bytes of the tensors a batch-1 forward pass allocates on top of what was alive before
  /// it (activations and temporaries; weights and the input excluded), counted from LibTorch's
  /// allocator on this thread only, so trainers on other threads do not disturb it. -1: not
  /// measured.
  std::int64_t peak_bytes = -1;
};

/// Makes the C allocator keep activation-sized blocks in its heap (glibc: a fixed 32 MiB mmap
/// threshold and a 256 MiB trim threshold; elsewhere nothing). By default glibc serves blocks
/// over its threshold with mmap, page-faulting them in on every pass, and raises that threshold
/// only after the process has freed such a block: the same networks measured 11% slower in a
/// fresh `latency measure` than inside `latency calibrate`, which had freed its per-op networks
/// first (bench/RESULTS.md). Fixed thresholds time every process in the steady state a
/// long-running one reaches. Process-wide and once; MeasureLatency and MeasureArchitectures call it.
void SteadyAllocator();

/// Times `repeats` forward passes of one zero image after `warmup` passes, in eval mode without
/// autograd; on CUDA each pass is synchronised. Returns the median and the interquartile range,
/// and the peak memory of one more pass (PeakForwardBytes).
Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& options, const torch::Device& device);

/// Peak bytes allocated by one forward pass of `x` (see Latency::peak_bytes): LibTorch's
/// allocators report each allocation and free to the thread's memory-profiling hook, which this
/// installs for the pass. Not the process's RSS: that is shared by all workers' threads, and
/// the C allocator's reuse of freed memory hides most growth.
std::int64_t PeakForwardBytes(space::GraphNet& net, const torch::Tensor& x);

/// "cpu" or "cuda"; throws InputError when CUDA is asked for but not available.
torch::Device ResolveDevice(const std::string& name);

}  // namespace paretonas::evaluator
