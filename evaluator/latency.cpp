#include "evaluator/latency.h"
#include "evaluator/measure.h"

#include <ATen/CPUGeneratorImpl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <c10/core/Allocator.h>
#include <c10/util/ThreadLocalDebugInfo.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <utility>
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

namespace {
/// The p-quantile of sorted values, interpolated linearly.
double Quantile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

/// Median and interquartile range of timings.
std::pair<double, double> MedianAndIqr(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {Quantile(ms, 0.5), Quantile(ms, 0.75) - Quantile(ms, 0.25)};
}

/// `warm` untimed forward passes of `net` on `x`, then `timed` timed ones, whose milliseconds
/// are appended to `ms` (on CUDA every pass is waited for).
void TimePasses(space::GraphNet& net, const torch::Tensor& x, int warm, int timed, bool cuda,
                std::vector<double>& ms) {
  for (int i = 0; i < warm; ++i) net->forward(x);
  if (cuda) torch::cuda::synchronize();
  for (int i = 0; i < timed; ++i) {
    const auto t0 = Clock::now();
    net->forward(x);
    if (cuda) torch::cuda::synchronize();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
}
}  // namespace

void SteadyAllocator() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's dynamic threshold ends here too
    ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  });
#endif
}

Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& o, const torch::Device& device) {
  SteadyAllocator();
  torch::NoGradGuard no_grad;
  net->eval();
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.threads);
  auto x = torch::zeros({1, input.shape.c, input.shape.h, input.shape.w}).to(device);
  std::vector<double> ms;
  TimePasses(net, x, o.warmup, 0, device.is_cuda(), ms);
  const std::int64_t peak = PeakForwardBytes(net, x);
  TimePasses(net, x, 0, o.repeats, device.is_cuda(), ms);
  at::set_num_threads(saved_threads);
  const auto [median, iqr] = MedianAndIqr(std::move(ms));
  return {median, iqr, peak};
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

namespace {

/// A network of the one operation `edge` (weights from a fixed seed).
space::GraphNet OneOpNet(const space::PlanEdge& edge) {
  space::GraphNet net(space::OneOpPlan(edge), space::GraphNetOptions{});
  space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(0));
  return net;
}

space::GraphNet ArchNet(const space::SearchSpace& space, const space::Genotype& g) {
  space::GraphNet net(space.Plan(g), space::GraphNetOptions{});
  space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(0));
  return net;
}

constexpr std::size_t kMaxNetsAtOnce = 256;
constexpr std::int64_t kMaxWeightBytesAtOnce = std::int64_t{1} << 30;  // 1 GiB of parameters
constexpr int kRewarm = 2;  // untimed passes when a network comes round again

/// The interleaved timing of MeasureArchitectures: `make(i)` builds network i and its input shape.
template <class Make>
std::vector<Measured> MeasureInterleaved(std::size_t n, Make&& make, const MeasureOptions& o,
                                         const MeasureProgress& progress) {
  if (o.rounds < 1 || o.rounds > o.repeats)
    throw InputError("latency measurement: rounds " + std::to_string(o.rounds) +
                     " is not allowed: from 1 to the number of timed passes (repeats " +
                     std::to_string(o.repeats) + ")");
  const torch::Device device = ResolveDevice(o.device);
  SteadyAllocator();
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.threads);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{saved_threads};
  const bool cuda = device.is_cuda();
  std::vector<Measured> out(n);
  const std::size_t visits = n * static_cast<std::size_t>(o.rounds);
  std::size_t done = 0;
  for (std::size_t begin = 0; begin < n;) {
    // A chunk: up to 256 networks or 1 GiB of weights, whichever comes first (at least one).
    std::vector<space::GraphNet> nets;
    std::vector<torch::Tensor> inputs;
    std::int64_t bytes = 0;
    while (begin + nets.size() < n && nets.size() < kMaxNetsAtOnce &&
           (nets.empty() || bytes < kMaxWeightBytesAtOnce)) {
      auto [net, shape] = make(begin + nets.size());
      for (const auto& p : net->parameters()) bytes += p.numel() * static_cast<std::int64_t>(p.element_size());
      net->to(device);
      net->eval();
      nets.push_back(net);
      inputs.push_back(torch::zeros({1, shape.c, shape.h, shape.w}).to(device));
    }
    std::vector<std::vector<double>> ms(nets.size());
    for (int r = 0; r < o.rounds; ++r) {
      const int passes = o.repeats / o.rounds + (r < o.repeats % o.rounds ? 1 : 0);
      for (std::size_t k = 0; k < nets.size(); ++k) {
        const std::size_t j = r % 2 == 0 ? k : nets.size() - 1 - k;  // alternate the direction
        const int warm = r == 0 ? o.warmup : std::min(o.warmup, kRewarm);
        TimePasses(nets[j], inputs[j], warm, passes, cuda, ms[j]);
        if (progress) progress(++done, visits);
      }
    }
    for (std::size_t j = 0; j < nets.size(); ++j) {
      const auto [median, iqr] = MedianAndIqr(std::move(ms[j]));
      out[begin + j] = {median, iqr};
    }
    begin += nets.size();
  }
  return out;
}

}  // namespace

std::vector<Measured> MeasureArchitectures(const space::SearchSpace& space,
                                           const std::vector<space::Genotype>& archs,
                                           const MeasureOptions& options,
                                           const MeasureProgress& progress) {
  return MeasureInterleaved(
      archs.size(),
      [&](std::size_t i) { return std::make_pair(ArchNet(space, archs[i]), space.input().shape); },
      options, progress);
}

std::vector<Measured> MeasureOperations(const std::vector<space::PlanEdge>& edges,
                                        const MeasureOptions& options,
                                        const MeasureProgress& progress) {
  return MeasureInterleaved(
      edges.size(), [&](std::size_t i) { return std::make_pair(OneOpNet(edges[i]), edges[i].in); },
      options, progress);
}

}  // namespace paretonas::evaluator
