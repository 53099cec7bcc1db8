// synflow over the NAS-Bench-201 cells: the data-free zero-cost proxy of every architecture of
// the table (the NB201 network at CIFAR-10 shape: 3x32x32 input, C=16, N=5, 10 classes),
// initialised as the evaluator does (space::InitializeParameters from a per-row seed), and its
// rank correlation with the table's CIFAR-10 test accuracy; the parameter count as a baseline.
//
// Usage: zero_cost_nb201_bench CSV [EVERY=1] [THREADS=2] [OUT.csv] [SEED=1]
//   EVERY: score every EVERY-th row (a quick look); THREADS: rows scored at once, one intra-op
//   thread each; OUT: writes arch_string,synflow,params (a table column for the NB201 search).
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "bench/nb201_table.h"
#include "evaluator/proxies.h"
#include "predictors/prediction_metrics.h"
#include "space/graph_net.h"

using namespace paretonas;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s NB201_CSV [EVERY] [THREADS] [OUT.csv] [SEED]\n", argv[0]);
    return 2;
  }
  const std::string csv = argv[1];
  const int every = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  const int threads = argc > 3 ? std::max(1, std::atoi(argv[3])) : 2;
  const std::string out_path = argc > 4 ? argv[4] : "";
  const std::uint64_t seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1;
  bench::Nb201Table nb(csv);
  const int acc_col = nb.table.Column(csv, "cifar10_test_acc");
  const int key_col = nb.table.Column(csv, "arch_string");
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < nb.archs.size(); i += static_cast<std::size_t>(every)) rows.push_back(i);
  std::vector<double> synflow(rows.size()), params(rows.size()), seconds(rows.size()), acc(rows.size());
  const auto t0 = std::chrono::steady_clock::now();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  tbb::parallel_for(std::size_t{0}, rows.size(), [&](std::size_t k) {
    at::set_num_threads(1);
    const std::size_t i = rows[k];
    const auto s0 = std::chrono::steady_clock::now();
    space::GraphNet net(nb.space.Plan(nb.archs[i]), space::GraphNetOptions{});
    space::InitializeParameters(*net, at::make_generator<at::CPUGeneratorImpl>(seed * 1000003 + i));
    params[k] = static_cast<double>(net->NumParameters());
    synflow[k] = evaluator::Synflow(*net, [&](const torch::Tensor& x) { return net->forward(x); }, {1, 3, 32, 32});
    seconds[k] = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    acc[k] = std::atof(nb.table.rows[i][acc_col].c_str());
  });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  std::printf("cells %zu (every %d of %zu), threads %d, seed %llu\n", rows.size(), every, nb.archs.size(),
              threads, static_cast<unsigned long long>(seed));
  std::printf("synflow  spearman %.4f  kendall %.4f\n", predictors::Spearman(synflow, acc),
              predictors::KendallTau(synflow, acc));
  std::printf("params   spearman %.4f  kendall %.4f  (baseline)\n", predictors::Spearman(params, acc),
              predictors::KendallTau(params, acc));
  std::printf("time: %.1f s wall; per cell median %.1f ms (one thread)\n", wall, 1000 * sorted[sorted.size() / 2]);
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << "arch_string,synflow,params\n";
    char buf[64];
    for (std::size_t k = 0; k < rows.size(); ++k) {
      std::snprintf(buf, sizeof(buf), "%.9g", synflow[k]);
      out << nb.table.rows[rows[k]][key_col] << "," << buf << "," << static_cast<long long>(params[k]) << "\n";
    }
    std::printf("wrote %s\n", out_path.c_str());
  }
  return 0;
}
