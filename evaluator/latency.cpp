#include "evaluator/latency.h"
#include "evaluator/measure.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "evaluator/mpi_cluster.h"
#include "space/input_error.h"

namespace paretonas::evaluator {

using Clock = std::chrono::steady_clock;

namespace {
/// The memory-profiling hook of LibTorch's allocators (what torch.profiler's profile_memory
/// uses), keeping the running total and its peak.
class PeakCounter : public c10::MemoryReportingInfoBase {
 public:
  // NOTE: the totals' type changed from int64_t (LibTorch 1.13) to size_t (2.x); one of these two
  // overrides the pure virtual on each, so the same code builds with both.
  void reportMemoryUsage(void*, int64_t alloc_size, int64_t, int64_t, c10::Device) { Add(alloc_size); }
  void reportMemoryUsage(void*, int64_t alloc_size, size_t, size_t, c10::Device) { Add(alloc_size); }
  bool memoryProfilingEnabled() const override { return true; }
  std::int64_t peak() const { return peak_; }

 private:
  void Add(int64_t bytes) {
    current_ += bytes;
    peak_ = std::max(peak_, current_);
  }
  std::int64_t current_ = 0;
  std::int64_t peak_ = 0;
};
}  // namespace

std::int64_t PeakForwardBytes(space::GraphNet& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto counter = std::make_shared<PeakCounter>();
  {
    c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, counter);
    torch::Tensor out = net->forward(x);
    if (x.is_cuda()) torch::cuda::synchronize();
    out.reset();  // freed while the hook listens, so that no allocation is left unpaired
  }
  return counter->peak();
}

Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& o, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  net->eval();
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.threads);
  auto x = torch::zeros({1, input.shape.c, input.shape.h, input.shape.w}).to(device);
  const bool cuda = device.is_cuda();
  auto sync = [&] {
    if (cuda) torch::cuda::synchronize();
  };
  for (int i = 0; i < o.warmup; ++i) net->forward(x);
  sync();
  const std::int64_t peak = PeakForwardBytes(net, x);
  std::vector<double> ms;
  for (int i = 0; i < o.repeats; ++i) {
    const auto t0 = Clock::now();
    net->forward(x);
    sync();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  at::set_num_threads(saved_threads);
  std::sort(ms.begin(), ms.end());
  auto q = [&](double p) {
    const double pos = p * (ms.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, ms.size() - 1);
    return ms[lo] + (ms[hi] - ms[lo]) * (pos - lo);
  };
  return {q(0.5), q(0.75) - q(0.25), peak};
}

torch::Device ResolveDevice(const std::string& name) {
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw InputError("evaluator.device: 'cuda' asked for, but this LibTorch sees no CUDA device");
    // Under mpirun, ranks sharing a node spread over its GPUs; otherwise the current device.
    const int local = mpi::LocalRank();
    if (local >= 0) {
      const int n = static_cast<int>(torch::cuda::device_count());
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local % n));
    }
    return torch::Device(torch::kCUDA);
  }
  return torch::Device(torch::kCPU);
}

Latency MeasureOpLatency(const space::PlanEdge& edge, const LatencyOptions& options,
                         const torch::Device& device) {
  space::NetworkPlan plan;
  plan.vertices = {edge.in, edge.out};
  plan.vertex_order = {0, 1};
  space::PlanEdge e = edge;
  e.id = 0, e.src = 0, e.dst = 1, e.live = true;
  plan.edges = {e};
  plan.input = 0, plan.output = 1;
  space::GraphNet net(plan, space::GraphNetOptions{});
  space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(0));
  net->to(device);
  return MeasureLatency(net, space::InputSpec{edge.in, 10}, options, device);
}

Latency MeasureArchLatency(const space::SearchSpace& space, const space::Genotype& g,
                           const LatencyOptions& options, const torch::Device& device) {
  space::GraphNet net(space.Plan(g), space::GraphNetOptions{});
  space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(0));
  net->to(device);
  return MeasureLatency(net, space.input(), options, device);
}

Measured MeasureArchitecture(const space::SearchSpace& space, const space::Genotype& g,
                             const MeasureOptions& o) {
  const Latency l = MeasureArchLatency(space, g, LatencyOptions{o.threads, o.warmup, o.repeats},
                                       ResolveDevice(o.device));
  return {l.median_ms, l.iqr_ms};
}

Measured MeasureOperation(const space::PlanEdge& edge, const MeasureOptions& o) {
  const Latency l = MeasureOpLatency(edge, LatencyOptions{o.threads, o.warmup, o.repeats},
                                     ResolveDevice(o.device));
  return {l.median_ms, l.iqr_ms};
}

}  // namespace paretonas::evaluator
