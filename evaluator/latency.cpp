#include "evaluator/latency.h"
#include "evaluator/measure.h"

#include <ATen/CPUGeneratorImpl.h>
#include <time.h>
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
#include "evaluator/quantize.h"
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

ForwardFn Of(space::GraphNet net) {
  return [net](const torch::Tensor& x) mutable { return net->forward(x); };
}

std::int64_t PeakForwardBytes(const ForwardFn& forward, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto counter = std::make_shared<PeakCounter>();
  {
    c10::DebugInfoGuard guard(c10::DebugInfoKind::PROFILER_STATE, counter);
    torch::Tensor out = forward(x);
    if (x.is_cuda()) torch::cuda::synchronize();
    out.reset();  // freed while the hook listens, so that no allocation is left unpaired
  }
  return counter->peak();
}

std::int64_t PeakForwardBytes(space::GraphNet& net, const torch::Tensor& x) { return PeakForwardBytes(Of(net), x); }

namespace {
/// Milliseconds of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

/// `n` untimed forward passes of `net` on `x` (waited for on CUDA).
void WarmUp(const ForwardFn& net, const torch::Tensor& x, int n, bool cuda) {
  for (int i = 0; i < n; ++i) net(x);
  if (cuda && n > 0) torch::cuda::synchronize();
}

/// One timed forward pass: wall time and this thread's CPU time (the CPU interval encloses the
/// wall interval, so a pass that ran throughout reads wall <= cpu).
Pass TimeOnePass(const ForwardFn& net, const torch::Tensor& x, bool cuda) {
  const double c0 = ThreadCpuMs();
  const auto t0 = Clock::now();
  net(x);
  if (cuda) torch::cuda::synchronize();
  const auto t1 = Clock::now();
  const double c1 = ThreadCpuMs();
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(), c1 - c0};
}

/// `want` kept passes of one network into `log` (a descheduled pass is replaced, at most 3 times
/// `want` attempts, and never beyond the policy's pass cap).
void TimeVisit(const ForwardFn& net, const torch::Tensor& x, int want, bool cuda, PassLog& log) {
  int kept = 0;
  for (int attempt = 0; kept < want && attempt < 3 * want && !log.Exhausted(); ++attempt)
    kept += log.Add(TimeOnePass(net, x, cuda));
}

}  // namespace

namespace {

/// The reference network timed in every measurement's rounds: one MobileNetV2 block (3x3,
/// expansion 6) on 32x28x28 (about 10 M MACs, about a millisecond on a CPU core; its 192-channel
/// activations, 0.6 MB each, outgrow a core's L2, so that a program thrashing the shared cache
/// slows it too), fixed weights. Its time against its best on this host is the machine's slowdown.
space::GraphNet ReferenceNet(const torch::Device& device) {
  space::OpSpec op;
  std::string error;
  space::ParseOpName("mbconv", &op, &error);
  op.kernel = 3;
  op.expansion = 6;
  space::PlanEdge edge;
  edge.op = op;
  edge.in = {32, 28, 28};
  edge.out = {32, 28, 28};
  space::GraphNet net(space::OneOpPlan(edge), space::GraphNetOptions{});
  space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(0));
  net->to(device);
  net->eval();
  return net;
}

}  // namespace

std::vector<LatencyEstimate> TimeInterleaved(std::vector<space::GraphNet>& nets,
                                             const std::vector<torch::Tensor>& inputs,
                                             const TimingPolicy& policy, bool cuda,
                                             const std::function<void(std::size_t)>& on_visit,
                                             std::vector<std::vector<Pass>>* passes, bool warmed_up) {
  std::vector<ForwardFn> forwards;
  for (auto& net : nets) forwards.push_back(Of(net));
  return TimeInterleaved(forwards, inputs, policy, cuda, on_visit, passes, warmed_up);
}

std::vector<LatencyEstimate> TimeInterleaved(const std::vector<ForwardFn>& nets,
                                             const std::vector<torch::Tensor>& inputs,
                                             const TimingPolicy& policy, bool cuda,
                                             const std::function<void(std::size_t)>& on_visit,
                                             std::vector<std::vector<Pass>>* passes, bool warmed_up) {
  constexpr int kRewarm = 2;  // untimed passes when a network comes round again
  if (nets.empty()) return {};
  // The networks, then the reference (index n), timed alike in the same rounds.
  const std::size_t n = nets.size();
  const torch::Device device = inputs[0].device();
  std::vector<ForwardFn> all = nets;
  std::vector<torch::Tensor> in = inputs;
  all.push_back(Of(ReferenceNet(device)));
  in.push_back(torch::zeros({1, 32, 28, 28}).to(device));
  std::vector<PassLog> logs(all.size(), PassLog(policy));
  std::vector<int> runnable;  // threads ready to run, sampled at each round's start
  int sampled_round = -1;
  auto visit = [&](std::size_t j, int round, int want) {
    if (round != sampled_round) {
      runnable.push_back(ProcsRunning());
      sampled_round = round;
    }
    const bool fresh = round == 0 && (j == n || !warmed_up);
    WarmUp(all[j], in[j], fresh ? policy.warmup : round > 0 ? std::min(policy.warmup, kRewarm) : 0, cuda);
    logs[j].NextRound();
    TimeVisit(all[j], in[j], want, cuda, logs[j]);
    if (on_visit && j < n) on_visit(j);
  };
  // The first rounds: every network gets its share of `repeats`; rounds alternate direction.
  for (int r = 0; r < policy.rounds; ++r) {
    const int want = policy.repeats / policy.rounds + (r < policy.repeats % policy.rounds ? 1 : 0);
    for (std::size_t k = 0; k < all.size(); ++k) visit(r % 2 == 0 ? k : all.size() - 1 - k, r, want);
  }
  // Then more rounds for the networks whose interval is still wider than the target, together
  // (with the reference, so that it sees the same moments), until each is precise or at its caps.
  const int more = std::max(1, policy.repeats / policy.rounds);
  for (int r = policy.rounds;; ++r) {
    std::vector<std::size_t> open;
    for (std::size_t j = 0; j < n; ++j)
      if (logs[j].WantsMore()) open.push_back(j);
    if (open.empty()) break;
    if (!logs[n].Exhausted()) open.push_back(n);
    for (std::size_t k = 0; k < open.size(); ++k) visit(open[r % 2 == 0 ? k : open.size() - 1 - k], r, more);
  }
  // The machine's slowdown against the best this host has done (this measurement included).
  const LatencyEstimate reference = logs[n].Estimate();
  const std::string setting = std::string(cuda ? "cuda" : "cpu") + " " + std::to_string(at::get_num_threads()) +
                              " thread(s), mbconv_k3_e6 32x28x28";
  double best = BestReferenceMs(setting);
  if (reference.kept > 0 && reference.median_ms > 0) {
    if (best <= 0 || reference.median_ms < best) RecordReferenceMs(setting, reference.median_ms);
    best = best > 0 ? std::min(best, reference.median_ms) : reference.median_ms;
  }
  const double slowdown = best > 0 && reference.kept > 0 ? reference.median_ms / best : 1.0;
  const double load = LoadPerCore();
  std::vector<LatencyEstimate> out;
  for (std::size_t j = 0; j < n; ++j) {
    out.push_back(logs[j].Estimate());
    out.back().load = load;
    ApplySlowdown(out.back(), slowdown, policy.target);
    ApplyRunnable(out.back(), runnable, policy.target);
    if (passes) passes->push_back(logs[j].all());
  }
  return out;
}

void SteadyAllocator() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's dynamic threshold ends here too
    ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  });
#endif
}

Latency MeasureLatency(const ForwardFn& net, const space::InputSpec& input,
                       const LatencyOptions& o, const torch::Device& device) {
  SteadyAllocator();
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.threads);
  auto x = torch::zeros({1, input.shape.c, input.shape.h, input.shape.w}).to(device);
  WarmUp(net, x, o.timing.warmup, device.is_cuda());
  const std::int64_t peak = PeakForwardBytes(net, x);
  TimingPolicy policy = o.timing;
  if (device.is_cuda() || o.threads > 1) policy.discard_descheduled = false;  // see TimingPolicy
  // Warmed above, before the peak-memory pass.
  const LatencyEstimate e = TimeInterleaved({net}, {x}, policy, device.is_cuda(), {}, nullptr, true)[0];
  at::set_num_threads(saved_threads);
  Latency out;
  out.median_ms = e.median_ms;
  out.iqr_ms = e.iqr_ms;
  out.peak_bytes = peak;
  out.estimate = e;
  return out;
}

Latency MeasureLatency(space::GraphNet& net, const space::InputSpec& input,
                       const LatencyOptions& o, const torch::Device& device) {
  net->eval();
  return MeasureLatency(Of(net), input, o, device);
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

/// The interleaved timing of MeasureArchitectures: `make(i)` builds network i and its input shape.
template <class Make>
std::vector<Measured> MeasureInterleaved(std::size_t n, Make&& make, const MeasureOptions& o,
                                         const MeasureProgress& progress,
                                         std::vector<std::vector<Pass>>* passes) {
  TimingPolicy policy = o.Policy();
  const std::string bad = policy.Validate();
  if (!bad.empty()) throw InputError("latency measurement: " + bad);
  if (o.precision != "fp32" && o.precision != "int8")
    throw InputError("latency measurement: --precision " + o.precision + " (allowed: fp32, int8)");
  if (o.precision == "int8" && o.device != "cpu")
    throw InputError("latency measurement: --precision int8 runs on the CPU's int8 kernels (--device cpu)");
  if (o.precision == "int8" && Int8Engine().empty())
    throw InputError("latency measurement: --precision int8, but this LibTorch has no quantized engine");
  const torch::Device device = ResolveDevice(o.device);
  if (device.is_cuda() || o.threads > 1) policy.discard_descheduled = false;  // see TimingPolicy
  SteadyAllocator();
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.threads);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{saved_threads};
  const bool cuda = device.is_cuda();
  std::vector<Measured> out;
  // Progress counts visits: the first rounds' are known, the added rounds' are not until they run.
  std::size_t done = 0;
  const std::size_t planned = n * static_cast<std::size_t>(policy.rounds);
  for (std::size_t begin = 0; begin < n;) {
    // A chunk: up to 256 networks or 1 GiB of weights, whichever comes first (at least one).
    std::vector<ForwardFn> nets;
    std::vector<torch::Tensor> inputs;
    std::int64_t bytes = 0;
    while (begin + nets.size() < n && nets.size() < kMaxNetsAtOnce &&
           (nets.empty() || bytes < kMaxWeightBytesAtOnce)) {
      auto [net, shape] = make(begin + nets.size());
      for (const auto& p : net->parameters()) bytes += p.numel() * static_cast<std::int64_t>(p.element_size());
      net->to(device);
      net->eval();
      if (o.precision == "int8") {
        // The int8 model of the same weights, calibrated on random images (the time of int8
        // kernels does not depend on the values they multiply).
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
        auto q = std::make_shared<Int8Net>(net, torch::randn({32, shape.c, shape.h, shape.w}, gen), QuantizeOptions{});
        nets.push_back([q](const torch::Tensor& x) { return q->Forward(x); });
      } else {
        nets.push_back(Of(net));
      }
      inputs.push_back(torch::zeros({1, shape.c, shape.h, shape.w}).to(device));
    }
    const auto estimates = TimeInterleaved(nets, inputs, policy, cuda, [&](std::size_t) {
      ++done;
      if (progress) progress(done, std::max(done, planned));
    }, passes, false);
    out.insert(out.end(), estimates.begin(), estimates.end());
    begin += nets.size();
  }
  return out;
}

}  // namespace

std::vector<EvalResult> MeasureRequests(const space::SearchSpace& space,
                                        const std::vector<EvalRequest>& requests,
                                        const TrainOptions& o, const torch::Device& device) {
  const auto start = Clock::now();
  SteadyAllocator();
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(o.latency_threads);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{saved_threads};
  const bool cuda = device.is_cuda();
  TimingPolicy policy = o.LatencyPolicy();
  if (cuda || o.latency_threads > 1) policy.discard_descheduled = false;  // see TimingPolicy
  std::vector<EvalResult> out(requests.size());
  std::vector<ForwardFn> nets;
  std::vector<torch::Tensor> inputs;
  std::vector<std::size_t> where;  // nets[k] is requests[where[k]]
  // With the int8 deploy stage, each request's int8 model too, timed in the same rounds.
  std::vector<ForwardFn> int8_nets;
  std::vector<torch::Tensor> int8_inputs;
  const auto& s = space.input().shape;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const EvalRequest& q = requests[i];
    EvalResult& r = out[i];
    r.trial_id = q.trial_id;
    r.rung = q.rung;
    std::string why = space.CheckGenotype(q.genotype);
    if (why.empty()) why = RejectReason(space.Costs(q.genotype), o);
    if (!why.empty()) {
      r.failure = why;
      continue;
    }
    space::GraphNet net(space.Plan(q.genotype), space::GraphNetOptions{});
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(q.seed);
    space::InitializeParameters(*net, gen);
    net->to(device);
    net->eval();
    torch::Tensor x = torch::zeros({1, s.c, s.h, s.w}).to(device);
    nets.push_back(Of(net));
    WarmUp(nets.back(), x, policy.warmup, cuda);
    r.metrics["peak_activation_bytes"] = static_cast<double>(PeakForwardBytes(nets.back(), x));
    inputs.push_back(x);
    where.push_back(i);
    if (o.Int8()) {
      // The int8 model of these weights, calibrated on random images: the time of int8 kernels
      // does not depend on the values (the deploy stage's accuracy uses the trained network).
      at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(0);
      QuantizeOptions qo;
      qo.calibration = o.calibration;
      auto q = std::make_shared<Int8Net>(net, torch::randn({32, s.c, s.h, s.w}, data_gen), qo);
      int8_nets.push_back([q](const torch::Tensor& t) { return q->Forward(t); });
      WarmUp(int8_nets.back(), x, policy.warmup, cuda);
      r.metrics["int8_peak_memory_bytes"] = static_cast<double>(PeakForwardBytes(int8_nets.back(), x));
      int8_inputs.push_back(x);
    }
  }
  const std::size_t n = nets.size();
  nets.insert(nets.end(), int8_nets.begin(), int8_nets.end());
  inputs.insert(inputs.end(), int8_inputs.begin(), int8_inputs.end());
  // Warmed above, before the peak-memory pass.
  const auto estimates = TimeInterleaved(nets, inputs, policy, cuda, {}, nullptr, true);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::size_t k = 0; k < n; ++k) {
    EvalResult& r = out[where[k]];
    AddLatencyMetrics(estimates[k], &r.metrics);
    r.metrics["latency_seconds"] = estimates[k].seconds;
    if (o.Int8()) {
      std::map<std::string, double> m;
      AddLatencyMetrics(estimates[n + k], &m);
      for (const auto& [key, v] : m) r.metrics["int8_" + key] = v;
      r.metrics["latency_seconds"] += estimates[n + k].seconds;
    }
    r.ok = true;
  }
  for (EvalResult& r : out) r.seconds = seconds / static_cast<double>(std::max<std::size_t>(1, out.size()));
  return out;
}

std::vector<Measured> MeasureArchitectures(const space::SearchSpace& space,
                                           const std::vector<space::Genotype>& archs,
                                           const MeasureOptions& options,
                                           const MeasureProgress& progress,
                                           std::vector<std::vector<Pass>>* passes) {
  return MeasureInterleaved(
      archs.size(),
      [&](std::size_t i) { return std::make_pair(ArchNet(space, archs[i]), space.input().shape); },
      options, progress, passes);
}

std::vector<Measured> MeasureOperations(const std::vector<space::PlanEdge>& edges,
                                        const MeasureOptions& options,
                                        const MeasureProgress& progress) {
  return MeasureInterleaved(
      edges.size(), [&](std::size_t i) { return std::make_pair(OneOpNet(edges[i]), edges[i].in); },
      options, progress, nullptr);
}

}  // namespace paretonas::evaluator
