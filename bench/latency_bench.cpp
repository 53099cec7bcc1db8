// Latency measurement repeatability: measure N architectures, then measure them all again
// (two passes, so the repeats are minutes apart), and report the median relative difference.
// Also reports what at::set_num_threads does across threads with this LibTorch.
// Usage: latency_bench [N] [REPEATS]
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "evaluator/latency.h"
#include "space/graph_net.h"
#include "space/search_space.h"

using namespace paretonas;

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 50;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 30;
  // Threads: set 1 thread in a worker thread and look from another thread and from main.
  at::init_num_threads();
  const int main_before = at::get_num_threads();
  int in_worker = 0, other_worker = 0;
  std::thread a([&] {
    at::init_num_threads();
    at::set_num_threads(1);
    in_worker = at::get_num_threads();
    std::thread b([&] {
      at::init_num_threads();
      other_worker = at::get_num_threads();
    });
    b.join();
  });
  a.join();
  std::printf("threads: main %d before; a worker that set 1 sees %d; a thread it starts sees %d; main after %d\n",
              main_before, in_worker, other_worker, at::get_num_threads());

  const space::InputSpec in{{1, 28, 28}, 10};
  for (const char* preset : {"nb201", "mobilenet"}) {
    const auto sp = preset == std::string("nb201")
                        ? space::SearchSpace::Load("nb201", {{"channels", "16"}, {"cells_per_stage", "1"}}, in)
                        : space::SearchSpace::Load("mobilenet", {}, in);
    std::mt19937_64 rng(5);
    std::vector<space::GraphNet> nets;
    for (int i = 0; i < n; ++i) {
      space::Genotype g = sp.Sample(rng);
      while (!sp.Connected(g)) g = sp.Sample(rng);
      nets.emplace_back(sp.Plan(g), space::GraphNetOptions{});
    }
    std::vector<double> first, second, iqr;
    for (int pass = 0; pass < 2; ++pass) {
      for (auto& net : nets) {
        const auto l = evaluator::MeasureLatency(net, in, {1, 5, repeats}, torch::kCPU);
        (pass ? second : first).push_back(l.median_ms);
        iqr.push_back(l.iqr_ms / l.median_ms);
      }
    }
    std::vector<double> rel;
    for (int i = 0; i < n; ++i) rel.push_back(std::abs(first[i] - second[i]) / ((first[i] + second[i]) / 2));
    std::printf("%-9s %d architectures, %d repeats, 1 thread: latency %.3f..%.3f ms; median relative "
                "difference between passes %.2f%% (90th percentile %.2f%%); median IQR/median %.2f%%\n",
                preset, n, repeats, *std::min_element(first.begin(), first.end()),
                *std::max_element(first.begin(), first.end()), 100 * Median(rel),
                100 * [&] { auto r = rel; std::sort(r.begin(), r.end()); return r[r.size() * 9 / 10]; }(),
                100 * Median(iqr));
  }
  return 0;
}
