// Does weight inheritance tell, after a short training, what a full training from scratch
// would? For N random connected parents of a space, each trained with the full recipe (its
// weights saved), one child each (a single-decision mutation: another network, connected),
// trained three ways: the full recipe from scratch (the reference), a short budget from its own
// initialisation, and the same short budget starting from its parent's shared tensors
// (search.inherit_weights). Prints the mean validation accuracy of the two short trainings, their
// Spearman and Kendall with the reference, the share of parameters inherited, and the seconds.
//
// Usage: inheritance_bench SPACE_YAML N SEED THREADS [SHORT_STEPS=39]
// Recipe: fashion_mnist_downsampled.yaml's (Fashion-MNIST, 10,000 training images, 5,000 held
// out, augmentation, batch 64, lr 0.1, 2 epochs = 314 steps); 39 steps is a quarter epoch.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>

#include "evaluator/train_evaluator.h"
#include "predictors/prediction_metrics.h"
#include "space/operators.h"

using namespace paretonas;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SPACE_YAML N SEED THREADS [SHORT_STEPS]\n", argv[0]);
    return 2;
  }
  const std::string space_file = argv[1];
  const int n = std::atoi(argv[2]);
  const std::uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const int threads = std::atoi(argv[4]);
  const int short_steps = argc > 5 ? std::atoi(argv[5]) : 39;
  evaluator::DatasetOptions d;
  d.name = "fashion_mnist";
  d.validation = 5000;
  d.train_subset = 10000;
  d.augment = true;
  evaluator::TrainOptions full;
  full.epochs = 2;
  full.batch_size = 64;
  full.lr = 0.1;
  full.measure_latency = false;
  evaluator::TrainOptions brief = full;
  brief.steps = short_steps;  // a cosine schedule of its own length
  const auto sp = space::SearchSpace::Load(space_file, {}, evaluator::DatasetInput(d));
  std::mt19937_64 rng(seed);
  const auto mutation = space::CreateMutation("single");
  std::vector<space::Genotype> parents, children;
  while (static_cast<int>(parents.size()) < n) {
    const auto p = sp.Sample(rng);
    if (!sp.Connected(p)) continue;
    for (int tries = 0; tries < 100; ++tries) {
      const auto c = mutation->Mutate(sp, p, 0, rng);
      if (sp.Connected(c) && sp.CanonicalHash(c) != sp.CanonicalHash(p)) {
        parents.push_back(p);
        children.push_back(c);
        break;
      }
    }
  }
  evaluator::TrainEvaluator ev_full(sp, d, full), ev_brief(sp, d, brief);
  const std::string dir = "/tmp/paretonas-inherit-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::vector<double> reference(n), scratch(n), inherited(n), share(n), secs_full(n), secs_brief(n);
  std::mutex mu;
  int done = 0;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(0, n, [&](int i) {
      ev_full.PrepareWorkerThread();
      auto request = [&](const space::Genotype& g, std::uint64_t s) {
        return evaluator::EvalRequest{i, sp.Key(g), sp.CanonicalHash(g), g, s};
      };
      auto acc = [](const evaluator::EvalResult& r) { return r.ok ? r.metrics.at("val_accuracy") : 0.0; };
      evaluator::EvalRequest parent = request(parents[i], seed * 100000 + 2 * i);
      parent.weights_out = dir + "/" + std::to_string(i) + ".pt";
      ev_full.Evaluate(parent);
      const evaluator::EvalRequest child = request(children[i], seed * 100000 + 2 * i + 1);
      const auto ref = ev_full.Evaluate(child);
      reference[i] = acc(ref);
      secs_full[i] = ref.metrics.count("train_seconds") ? ref.metrics.at("train_seconds") : 0;
      const auto own = ev_brief.Evaluate(child);
      scratch[i] = acc(own);
      secs_brief[i] = own.metrics.count("train_seconds") ? own.metrics.at("train_seconds") : 0;
      evaluator::EvalRequest heir = child;
      heir.parent_genotypes = {parents[i]};
      heir.parent_weights = {parent.weights_out};
      const auto got = ev_brief.Evaluate(heir);
      inherited[i] = acc(got);
      share[i] = got.ok ? got.metrics.at("inherited_share") : 0;
      std::lock_guard<std::mutex> lock(mu);
      std::fprintf(stderr, "\r%d/%d pairs", ++done, n);
    });
  });
  std::filesystem::remove_all(dir);
  std::fprintf(stderr, "\n");
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  std::printf("%d parent/child pairs of %s, seed %llu; children: %d steps from scratch or inherited, vs "
              "2 epochs (314 steps) from scratch\n", n, space_file.c_str(),
              static_cast<unsigned long long>(seed), short_steps);
  std::printf("reference (2 epochs from scratch): mean val acc %.2f%%; %.1f s a child\n", mean(reference), mean(secs_full));
  std::printf("short, own init:  mean val acc %.2f%%, Spearman %.3f, Kendall %.3f; %.2f s a child\n",
              mean(scratch), predictors::Spearman(scratch, reference), predictors::KendallTau(scratch, reference),
              mean(secs_brief));
  std::printf("short, inherited: mean val acc %.2f%%, Spearman %.3f, Kendall %.3f; mean share inherited %.2f\n",
              mean(inherited), predictors::Spearman(inherited, reference),
              predictors::KendallTau(inherited, reference), mean(share));
  std::printf("csv: child,reference,own,inherited,share\n");
  for (int i = 0; i < n; ++i)
    std::printf("csv: %s,%.2f,%.2f,%.2f,%.3f\n", sp.Key(children[i]).c_str(), reference[i], scratch[i], inherited[i], share[i]);
  return 0;
}
