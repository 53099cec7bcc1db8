#include "evaluator/latency.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace paretonas::evaluator {

using Clock = std::chrono::steady_clock;

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
  return {q(0.5), q(0.75) - q(0.25)};
}

}  // namespace paretonas::evaluator
