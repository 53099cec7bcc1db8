// Training step time of the engine's module for one NB201 architecture (SGD with momentum,
// cross-entropy, random data), to compare with bench/train_step_pytorch.py on the same
// architecture, batch and threads. Usage: train_step_bench ARCH [CHANNELS CELLS BATCH THREADS STEPS]
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "evaluator/train_layout.h"
#include "space/graph_net.h"
#include "space/search_space.h"

using namespace paretonas;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ARCH [CHANNELS CELLS BATCH THREADS STEPS]\n", argv[0]);
    return 2;
  }
  const std::string arch = argv[1];
  const std::string channels = argc > 2 ? argv[2] : "16", cells = argc > 3 ? argv[3] : "1";
  const int batch = argc > 4 ? std::atoi(argv[4]) : 128, threads = argc > 5 ? std::atoi(argv[5]) : 1;
  const int steps = argc > 6 ? std::atoi(argv[6]) : 60;
  at::set_num_threads(threads);
  const auto sp = space::SearchSpace::Load("nb201", {{"channels", channels}, {"cells_per_stage", cells}},
                                           space::InputSpec{{1, 28, 28}, 10});
  space::GraphNet net(sp.Plan(sp.ParseKey(arch)), space::GraphNetOptions{});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  space::InitializeParameters(*net, gen);
  // As the engine trains (evaluator/train_layout.h); PARETONAS_NCHW=1 keeps PyTorch's default.
  const bool nchw = std::getenv("PARETONAS_NCHW") != nullptr;
  const auto layout = nchw ? torch::MemoryFormat::Contiguous : evaluator::TrainingLayout(torch::kCPU);
  evaluator::UseLayout(*net, layout);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4).nesterov(true));
  auto x = evaluator::InLayout(torch::randn({batch, 1, 28, 28}, gen), layout);
  auto y = torch::randint(0, 10, {batch}, gen, torch::kInt64);
  net->train();
  std::vector<double> ms;
  for (int s = 0; s < steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    (void)loss.item<float>();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<double> tail(ms.begin() + std::min<size_t>(10, ms.size() / 2), ms.end());  // skip warm-up
  std::sort(tail.begin(), tail.end());
  std::printf("engine%s %s C=%s N=%s batch %d threads %d: median step %.2f ms (params %lld)\n", nchw ? " (NCHW)" : "", arch.c_str(),
              channels.c_str(), cells.c_str(), batch, threads, tail[tail.size() / 2],
              static_cast<long long>(net->NumParameters()));
  return 0;
}
