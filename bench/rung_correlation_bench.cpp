// How well does a rung rank candidates like the full training? For N random connected
// architectures of a space, trains each once to the top resource under the multi-fidelity
// schedule (cosine over the top rung), saving and continuing at every rung as a promoted trial
// would, and records the validation accuracy at each rung; then, for comparison, trains the
// low rungs up to 0.7 epochs again from scratch with a schedule of their own length (how a
// restart would rank). Prints Spearman and Kendall tau-b of each rung's accuracy with the top-rung
// accuracy, over all N and over the best-ranked third at the rung, and the CSV of accuracies.
//
// Usage: rung_correlation_bench SPACE_YAML N SEED THREADS [RUNGS, e.g. 0.111111,0.222222,...,2]
//        [BN_BATCHES: training.rung_bn_batches, default 20; 0: the running statistics as they are]
//        [RUNG_VALIDATION: training.rung_validation, default 0: all 5,000 held-out images]
// Env: RUNGCORR_NO_RESTART=1 skips the restarted trainings (only the continued rungs).
// Recipe: fashion_mnist_downsampled.yaml's (Fashion-MNIST, 10,000 training images, 5,000 held
// out, augmentation, batch 64, lr 0.1, SGD Nesterov, weight decay 5e-4).
#include <tbb/parallel_for.h>
#include <unistd.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <sstream>

#include "evaluator/train_evaluator.h"
#include "predictors/prediction_metrics.h"

using namespace paretonas;

/// Rungs above this are not retrained from scratch (it costs as much as the rung itself).
constexpr double kMaxRestart = 0.7;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SPACE_YAML N SEED THREADS [RUNGS]\n", argv[0]);
    return 2;
  }
  const std::string space_file = argv[1];
  const int n = std::atoi(argv[2]);
  const std::uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const int threads = std::atoi(argv[4]);
  std::vector<double> rungs{0.111111, 0.222222, 0.333333, 0.666667, 1, 2};
  if (argc > 5) {
    rungs.clear();
    std::stringstream ss(argv[5]);
    for (std::string item; std::getline(ss, item, ',');) rungs.push_back(std::atof(item.c_str()));
  }
  const double top = rungs.back();
  const int bn_batches = argc > 6 ? std::atoi(argv[6]) : 20;
  const int rung_validation = argc > 7 ? std::atoi(argv[7]) : 0;
  evaluator::DatasetOptions d;
  d.name = "fashion_mnist";
  d.validation = 5000;
  d.train_subset = 10000;
  d.augment = true;
  evaluator::TrainOptions t;
  t.epochs = std::max(1, static_cast<int>(std::ceil(top)));  // unused: the rungs set the length
  t.batch_size = 64;
  t.lr = 0.1;
  t.measure_latency = false;
  t.rung_bn_batches = bn_batches;
  t.rung_validation = rung_validation;
  const auto sp = space::SearchSpace::Load(space_file, {}, evaluator::DatasetInput(d));
  std::mt19937_64 rng(seed);
  std::vector<space::Genotype> archs;
  while (static_cast<int>(archs.size()) < n) {
    const auto g = sp.Sample(rng);
    if (sp.Connected(g)) archs.push_back(g);
  }
  evaluator::TrainEvaluator ev(sp, d, t);
  const std::string dir = "/tmp/paretonas-rungcorr-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const size_t low = rungs.size() - 1;
  std::vector<std::vector<double>> cont(rungs.size(), std::vector<double>(n, 0));
  std::vector<std::vector<double>> scratch(low, std::vector<double>(n, 0));
  std::vector<std::vector<double>> rung_seconds(rungs.size(), std::vector<double>(n, 0));
  const bool restart = std::getenv("RUNGCORR_NO_RESTART") == nullptr;
  std::mutex mu;
  int done = 0;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(0, n, [&](int i) {
      ev.PrepareWorkerThread();
      evaluator::EvalRequest base{i, sp.Key(archs[i]), sp.CanonicalHash(archs[i]), archs[i], seed * 1000 + i};
      std::string prev;
      for (size_t r = 0; r < rungs.size(); ++r) {
        evaluator::EvalRequest q = base;
        q.rung = static_cast<int>(r);
        q.resource = rungs[r];
        q.max_resource = top;
        q.resource_unit = "epochs";
        q.state_in = prev;
        q.state_out = r + 1 < rungs.size() ? dir + "/" + std::to_string(i) + ".r" + std::to_string(r) : "";
        const auto res = ev.Evaluate(q);
        if (!prev.empty()) std::filesystem::remove(prev);
        prev = q.state_out;
        cont[r][i] = res.ok ? res.metrics.at("val_accuracy") : 0;
        rung_seconds[r][i] = res.seconds;
      }
      for (size_t r = 0; restart && r < low && rungs[r] <= kMaxRestart; ++r) {  // restart: its own schedule
        evaluator::EvalRequest q = base;
        q.rung = 0;
        q.resource = rungs[r];
        q.max_resource = rungs[r];
        q.resource_unit = "epochs";
        const auto res = ev.Evaluate(q);
        scratch[r][i] = res.ok ? res.metrics.at("val_accuracy") : 0;
      }
      std::lock_guard<std::mutex> lock(mu);
      std::fprintf(stderr, "\r%d/%d trained", ++done, n);
    });
  });
  std::filesystem::remove_all(dir);
  std::fprintf(stderr, "\n");
  const auto& final_acc = cont.back();
  std::printf("%d architectures of %s, seed %llu, rung_bn_batches %d; rank correlation with the "
              "accuracy after %g epochs\n", n, space_file.c_str(), static_cast<unsigned long long>(seed),
              bn_batches, top);
  std::printf("rung (epochs) | continued: Spearman | Kendall | Kendall, best third at the rung | restarted: Spearman | Kendall | mean acc continued | restarted\n");
  for (size_t r = 0; r < low; ++r) {
    // The best third at the rung (what eta 3 promotes), ranked again at the top.
    std::vector<int> order(n);
    for (int i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return cont[r][a] > cont[r][b]; });
    std::vector<double> a3, f3;
    for (int k = 0; k < n / 3; ++k) {
      a3.push_back(cont[r][order[k]]);
      f3.push_back(final_acc[order[k]]);
    }
    double mc = 0, ms = 0;
    for (int i = 0; i < n; ++i) { mc += cont[r][i] / n; ms += scratch[r][i] / n; }
    std::printf("%g | %.3f | %.3f | %.3f | ", rungs[r], predictors::Spearman(cont[r], final_acc),
                predictors::KendallTau(cont[r], final_acc), predictors::KendallTau(a3, f3));
    if (restart && rungs[r] <= kMaxRestart)
      std::printf("%.3f | %.3f | %.2f | %.2f\n", predictors::Spearman(scratch[r], final_acc),
                  predictors::KendallTau(scratch[r], final_acc), mc, ms);
    else
      std::printf("- | - | %.2f | -\n", mc);
  }
  // What each rung's evaluation costs (training, BatchNorm statistics, validation, the saved
  // state), median over the candidates.
  std::printf("median seconds of an evaluation at each rung (rung_validation %d):", rung_validation);
  for (size_t r = 0; r < rungs.size(); ++r) {
    std::vector<double> s = rung_seconds[r];
    std::nth_element(s.begin(), s.begin() + n / 2, s.end());
    std::printf(" %g: %.3f", rungs[r], s[n / 2]);
  }
  std::printf("\n");
  std::printf("csv: arch");
  for (double r : rungs) std::printf(",cont@%g", r);
  for (size_t r = 0; r < low; ++r) std::printf(",scratch@%g", rungs[r]);
  std::printf("\n");
  for (int i = 0; i < n; ++i) {
    std::printf("csv: \"%s\"", sp.Key(archs[i]).c_str());
    for (size_t r = 0; r < rungs.size(); ++r) std::printf(",%.2f", cont[r][i]);
    for (size_t r = 0; r < low; ++r) std::printf(",%.2f", scratch[r][i]);
    std::printf("\n");
  }
  return 0;
}
