// Throughput of K concurrent trainers on one device (each evaluation on its own CUDA stream),
// eager and as CUDA graphs, in fp32 and bf16, training the same candidates. Also checks that
// the metrics do not depend on K. Usage:
//   cuda_streams_bench [DEVICE=cuda] [CANDIDATES=16] [STEPS=200] [DATA_DIR|-] [MODES] [WORKERS] [ARCHS_OUT]
// MODES: comma-separated of eager-fp32, graphs-fp32, eager-bf16, graphs-bf16 (default: all four);
// WORKERS: comma-separated counts (default 1,2,4,8,16). With DATA_DIR, Fashion-MNIST IDX files
// from there; '-' or none: synthetic 1x28x28 images. ARCHS_OUT: the candidates' NB201 strings,
// one per line, for bench/train_step_pytorch.py --sequential (the same networks in PyTorch).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "evaluator/train_evaluator.h"
#include "evaluator/worker_pool.h"

using namespace paretonas;

namespace {
std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string device = argc > 1 ? argv[1] : "cuda";
  const int candidates = argc > 2 ? std::atoi(argv[2]) : 16;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 200;
  evaluator::DatasetOptions d;
  if (argc > 4 && std::string(argv[4]) != "-") {
    d.name = "fashion_mnist";
    d.path = argv[4];
  } else {
    d.name = "synthetic";
    d.synthetic_train = 12000;
    d.synthetic_size = 28;
    d.synthetic_classes = 10;
  }
  d.validation = 2000;
  const std::vector<std::string> modes =
      Split(argc > 5 ? argv[5] : "eager-fp32,graphs-fp32,eager-bf16,graphs-bf16");
  std::vector<int> workers;
  for (const auto& w : Split(argc > 6 ? argv[6] : "1,2,4,8,16")) workers.push_back(std::atoi(w.c_str()));
  const auto sp = space::SearchSpace::Load("nb201", {{"channels", "16"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(d));
  std::mt19937_64 rng(1);
  std::vector<evaluator::EvalRequest> reqs;
  for (int i = 0; i < candidates; ++i) {
    const auto g = sp.Sample(rng);
    reqs.push_back({i, sp.Key(g), sp.CanonicalHash(g), g, 100u + i});
  }
  if (argc > 7) {
    std::ofstream out(argv[7]);
    for (const auto& r : reqs) out << r.key << "\n";
  }
  double first_base = 0;
  for (const std::string& mode : modes) {
    const auto dash = mode.find('-');
    if (dash == std::string::npos) {
      std::fprintf(stderr, "mode '%s': expected eager|graphs - fp32|bf16|fp16\n", mode.c_str());
      return 2;
    }
    evaluator::TrainOptions t;
    t.device = device;
    t.steps = steps;
    t.batch_size = 128;
    t.lr = 0.05;
    t.measure_latency = false;
    t.cuda_graphs = mode.substr(0, dash) == "graphs" ? "on" : "off";
    t.precision = mode.substr(dash + 1);
    const std::string bad = t.Validate();
    if (!bad.empty()) {
      std::fprintf(stderr, "mode '%s': %s\n", mode.c_str(), bad.c_str());
      return 2;
    }
    evaluator::TrainEvaluator ev(sp, d, t);
    std::printf("[%s] %s, %d candidates x %d steps (batch 128), nb201 C=16 N=1\n", mode.c_str(),
                ev.Describe().c_str(), candidates, steps);
    {  // warm-up: cuDNN/cuBLAS handles and allocator pools
      evaluator::WorkerPool pool(ev, 1);
      pool.EvaluateBatch({reqs[0]}, [](const evaluator::EvalResult&) {}, nullptr);
    }
    double base = 0;
    std::map<std::int64_t, std::map<std::string, double>> reference;
    for (int k : workers) {
      evaluator::WorkerPool pool(ev, k);
      std::map<std::int64_t, std::map<std::string, double>> got;
      int failed = 0;
      double graph_steps = 0, eager_steps = 0;
      const auto t0 = std::chrono::steady_clock::now();
      pool.EvaluateBatch(reqs, [&](const evaluator::EvalResult& r) {
        if (!r.ok) {
          ++failed;
          std::fprintf(stderr, "  #%lld failed: %s\n", static_cast<long long>(r.trial_id), r.failure.c_str());
          return;
        }
        got[r.trial_id] = {{"val_accuracy", r.metrics.at("val_accuracy")}, {"train_loss", r.metrics.at("train_loss")}};
        if (r.metrics.count("graph_steps")) graph_steps += r.metrics.at("graph_steps");
        if (r.metrics.count("eager_steps")) eager_steps += r.metrics.at("eager_steps");
      }, nullptr);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double sps = candidates * static_cast<double>(steps) / s;
      if (base == 0) { base = sps; reference = got; }
      if (first_base == 0) first_base = sps;
      double mean_acc = 0;
      for (const auto& [id, m] : got) mean_acc += m.at("val_accuracy") / static_cast<double>(got.size());
      std::printf("[%s] workers %d: %.2f s, %.0f steps/s, %.2fx its 1 worker, %.2fx %s 1 worker, "
                  "graph steps %.0f, eager steps %.0f, mean val acc %.2f, failed %d, metrics %s\n",
                  mode.c_str(), k, s, sps, sps / base, sps / first_base, modes[0].c_str(), graph_steps,
                  eager_steps, mean_acc, failed, got == reference ? "identical to its first run" : "DIFFER");
      std::fflush(stdout);
    }
  }
  return 0;
}
