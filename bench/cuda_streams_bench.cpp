// Throughput of K concurrent trainers on one device (each evaluation on its own CUDA stream),
// relative to one trainer, training the same candidates. Also checks that the metrics do not
// depend on K. Usage: cuda_streams_bench [DEVICE=cuda] [CANDIDATES=16] [STEPS=200] [DATA_DIR]
// With DATA_DIR, Fashion-MNIST IDX files from there; else synthetic 1x28x28 images.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "evaluator/train_evaluator.h"
#include "evaluator/worker_pool.h"

using namespace paretonas;

int main(int argc, char** argv) {
  const std::string device = argc > 1 ? argv[1] : "cuda";
  const int candidates = argc > 2 ? std::atoi(argv[2]) : 16;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 200;
  evaluator::DatasetOptions d;
  if (argc > 4) {
    d.name = "fashion_mnist";
    d.path = argv[4];
  } else {
    d.name = "synthetic";
    d.synthetic_train = 12000;
    d.synthetic_size = 28;
    d.synthetic_classes = 10;
  }
  d.validation = 2000;
  evaluator::TrainOptions t;
  t.device = device;
  t.steps = steps;
  t.batch_size = 128;
  t.lr = 0.05;
  t.measure_latency = false;
  const auto sp = space::SearchSpace::Load("nb201", {{"channels", "16"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(d));
  std::mt19937_64 rng(1);
  std::vector<evaluator::EvalRequest> reqs;
  for (int i = 0; i < candidates; ++i) {
    const auto g = sp.Sample(rng);
    reqs.push_back({i, sp.Key(g), sp.CanonicalHash(g), g, 100u + i});
  }
  evaluator::TrainEvaluator ev(sp, d, t);
  std::printf("%s, %d candidates x %d steps (batch 128), nb201 C=16 N=1\n", ev.Describe().c_str(),
              candidates, steps);
  {  // warm-up: cuDNN/cuBLAS handles and allocator pools
    evaluator::WorkerPool pool(ev, 1);
    pool.EvaluateBatch({reqs[0]}, [](const evaluator::EvalResult&) {}, nullptr);
  }
  double base = 0;
  std::map<std::int64_t, double> reference;
  for (int k : {1, 2, 4, 8}) {
    evaluator::WorkerPool pool(ev, k);
    std::map<std::int64_t, double> acc;
    int failed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    pool.EvaluateBatch(reqs, [&](const evaluator::EvalResult& r) {
      if (r.ok) acc[r.trial_id] = r.metrics.at("val_accuracy"); else ++failed;
    }, nullptr);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double sps = candidates * static_cast<double>(steps) / s;
    if (k == 1) { base = sps; reference = acc; }
    std::printf("workers %d: %.2f s, %.0f steps/s, %.2fx one worker, failed %d, metrics %s\n", k, s,
                sps, sps / base, failed, acc == reference ? "identical to 1 worker" : "DIFFER");
  }
  return 0;
}
