// Batch-1 inference latency of a built module (LibTorch).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "evaluator/eval_types.h"
#include "evaluator/latency_estimate.h"
#include "evaluator/train_evaluator.h"
#include "space/graph_net.h"
#include "space/search_space.h"

namespace paretonas::evaluator {

/// A network's batch-1 inference: a GraphNet's forward, or the int8 network's (Int8Net).
using ForwardFn = std::function<torch::Tensor(const torch::Tensor&)>;

/// `net`'s forward (it shares the module).
ForwardFn Of(space::GraphNet net);

struct LatencyOptions {
  int threads = 1;  ///< intra-op threads while timing (restored afterwards)
  TimingPolicy timing;
};

struct Latency {
  double median_ms = 0;  ///< estimate.median_ms
  double iqr_ms = 0;     ///< estimate.iqr_ms
  LatencyEstimate estimate;
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

/// Times forward passes of one zero image after `warmup` passes, in eval mode without autograd,
/// as TimeInterleaved times one network (rounds, descheduled passes replaced, rounds added until
/// the interval is within the target or a cap is reached); on CUDA each pass is synchronised.
/// Returns the estimate, and the peak memory of one more pass (PeakForwardBytes).
Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& options, const torch::Device& device);
/// The same for any forward (the caller puts its module in eval mode).
Latency MeasureLatency(const ForwardFn& net, const space::InputSpec& input,
                       const LatencyOptions& options, const torch::Device& device);

/// Times `nets[j]` on `inputs[j]` (on their device; eval mode, no autograd, intra-op threads as
/// the caller set them), interleaved: `policy.rounds` rounds visit every network in turn
/// (alternating direction), each visit a few untimed passes (`warmup` on the first, at most 2
/// later) and its share of `repeats` kept passes; then further rounds visit only the networks
/// whose estimate is not yet precise (PassLog::WantsMore), until none is. `on_visit(j)` after
/// each visit; `passes`, when given, gets every network's timed passes (benchmarks).
/// `warmed_up`: the networks had their `warmup` passes already (no untimed pass on the first
/// visit).
std::vector<LatencyEstimate> TimeInterleaved(std::vector<space::GraphNet>& nets,
                                             const std::vector<torch::Tensor>& inputs,
                                             const TimingPolicy& policy, bool cuda,
                                             const std::function<void(std::size_t)>& on_visit,
                                             std::vector<std::vector<Pass>>* passes, bool warmed_up);
std::vector<LatencyEstimate> TimeInterleaved(const std::vector<ForwardFn>& nets,
                                             const std::vector<torch::Tensor>& inputs,
                                             const TimingPolicy& policy, bool cuda,
                                             const std::function<void(std::size_t)>& on_visit,
                                             std::vector<std::vector<Pass>>* passes, bool warmed_up);

/// Peak bytes allocated by one forward pass of `x` (see Latency::peak_bytes): LibTorch's
/// allocators report each allocation and free to the thread's memory-profiling hook, which this
/// installs for the pass. Not the process's RSS: that is shared by all workers' threads, and
/// the C allocator's reuse of freed memory hides most growth.
std::int64_t PeakForwardBytes(space::GraphNet& net, const torch::Tensor& x);
std::int64_t PeakForwardBytes(const ForwardFn& forward, const torch::Tensor& x);

/// The latency stage of the evaluators that build networks here (BatchEvaluator::
/// MeasureLatencies): each request's network built from its genotype and initialised from its
/// seed, warmed, its peak memory taken, then all of them timed together (TimeInterleaved, with
/// o.LatencyPolicy() at o.latency_threads intra-op threads on `device`). A genotype the space
/// refuses, or one RejectReason turns down, gets a failed result. Each result's `seconds` is its
/// share of the stage's time. With the int8 deploy stage (o.Int8()), each network's int8 model
/// (Int8Net, calibrated on random images: int8 kernels take the same time for any values) is
/// timed in the same rounds, giving int8_latency_* and int8_peak_memory_bytes, so that they are
/// journaled with the fp32 latency and never measured again after resume.
std::vector<EvalResult> MeasureRequests(const space::SearchSpace& space,
                                        const std::vector<EvalRequest>& requests,
                                        const TrainOptions& o, const torch::Device& device);

/// "cpu" or "cuda"; throws InputError when CUDA is asked for but not available.
torch::Device ResolveDevice(const std::string& name);

}  // namespace paretonas::evaluator
