// What 7-bit int8 weights cost against 8-bit ones (issue #54), on the same trained networks: N
// random connected architectures of experiments/fashion_mnist_int8.yaml's space (fmnist_cells,
// width 16), each trained once with its recipe (1 epoch on 4,000 Fashion-MNIST images), then
// quantized twice (percentile calibration on 512 training images; weights of 7 and of 8 bits)
// and measured: validation accuracy (2,000 held-out images) of fp32 and both int8 models, and
// the batch-1 latency of both int8 models, timed together (interleaved rounds, one thread).
// Run it once natively and once under ONEDNN_MAX_CPU_ISA=AVX2 (the kernels of an x86 CPU
// without VNNI) on a VNNI machine; on a CPU without VNNI, natively.
//
// Usage: int8_weight_bits_bench N SEED [WORKERS=2] [WEIGHTS_DIR]
// WEIGHTS_DIR keeps the trained weights; a second run given the same directory (e.g. under
// ONEDNN_MAX_CPU_ISA=AVX2) quantizes and measures the very same networks without training them.
// Prints one csv line per network and a summary: accuracy lost to int8 (fp32 - int8, points)
// for 7 and 8 bits (median, mean, worst), and the latency ratio 7-bit / 8-bit (median, range).
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>

#include "evaluator/dataset.h"
#include "evaluator/latency.h"
#include "evaluator/quantize.h"
#include "evaluator/train_evaluator.h"
#include "space/graph_net.h"

using namespace paretonas;

namespace {
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s N SEED [WORKERS=2]\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const int workers = argc > 3 ? std::atoi(argv[3]) : 2;
  const std::string kept_dir = argc > 4 ? argv[4] : "";
  const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA");
  evaluator::DatasetOptions d;
  d.name = "fashion_mnist";
  d.validation = 2000;
  d.train_subset = 4000;
  evaluator::TrainOptions t;
  t.epochs = 1;
  t.batch_size = 32;
  t.lr = 0.2;
  t.measure_latency = false;
  const std::string src = PARETONAS_SOURCE_DIR;
  const auto sp = space::SearchSpace::Load(src + "/experiments/spaces/fmnist_cells.yaml", {{"width", "16"}},
                                           evaluator::DatasetInput(d));
  std::mt19937_64 rng(seed);
  std::vector<space::Genotype> archs;
  while (static_cast<int>(archs.size()) < n) {
    const auto g = sp.Sample(rng);
    if (sp.Connected(g)) archs.push_back(g);
  }
  const std::string dir = kept_dir.empty() ? "/tmp/paretonas-w7-" + std::to_string(::getpid()) : kept_dir;
  std::filesystem::create_directories(dir);
  evaluator::TrainEvaluator ev(sp, d, t);
  std::vector<double> fp32(n, -1);
  std::mutex mu;
  int done = 0;
  bool trained = true;
  for (int i = 0; i < n; ++i) trained = trained && std::filesystem::exists(dir + "/" + std::to_string(i) + ".pt");
  if (trained) std::fprintf(stderr, "the %d networks' weights are in %s: not training them again\n", n, dir.c_str());
  tbb::task_arena arena(workers);
  if (!trained) arena.execute([&] {
    tbb::parallel_for(0, n, [&](int i) {
      ev.PrepareWorkerThread();
      evaluator::EvalRequest r{i, sp.Key(archs[i]), sp.CanonicalHash(archs[i]), archs[i], seed * 100000 + i};
      r.weights_out = dir + "/" + std::to_string(i) + ".pt";
      const auto res = ev.Evaluate(r);
      fp32[i] = res.ok ? res.metrics.at("val_accuracy") : -1;
      std::lock_guard<std::mutex> lock(mu);
      std::fprintf(stderr, "\rtrained %d/%d", ++done, n);
    });
  });
  std::fprintf(stderr, "\n");
  const evaluator::Dataset data = evaluator::LoadDataset(d);
  const torch::Tensor calib = evaluator::CalibrationImages(data.train_x, 512);
  std::vector<double> acc7(n), acc8(n);
  std::vector<evaluator::ForwardFn> timed;
  std::vector<torch::Tensor> inputs;
  std::vector<std::shared_ptr<evaluator::Int8Net>> keep;
  at::set_num_threads(1);
  for (int i = 0; i < n; ++i) {
    space::GraphNet net(sp.Plan(archs[i]), space::GraphNetOptions{});
    torch::load(net, dir + "/" + std::to_string(i) + ".pt");
    net->eval();
    {  // fp32 accuracy of these weights, in this process (the same for a run that did not train)
      torch::NoGradGuard no_grad;
      std::int64_t right = 0;
      for (std::int64_t s = 0; s < data.val_x.size(0); s += 256) {
        const std::int64_t m = std::min<std::int64_t>(256, data.val_x.size(0) - s);
        right += net->forward(data.val_x.narrow(0, s, m)).argmax(1).eq(data.val_y.narrow(0, s, m)).sum().item<std::int64_t>();
      }
      fp32[i] = 100.0 * static_cast<double>(right) / static_cast<double>(data.val_x.size(0));
    }
    for (int bits : {7, 8}) {
      evaluator::QuantizeOptions qo;
      qo.weight_bits = bits;
      const evaluator::Int8Net q(net, calib, qo);
      (bits == 7 ? acc7 : acc8)[i] = evaluator::Int8Accuracy(q, data.val_x, data.val_y);
      auto fresh = std::make_shared<evaluator::Int8Net>(q.Repacked());  // timed on freshly packed weights
      keep.push_back(fresh);
      timed.push_back([fresh](const torch::Tensor& x) { return fresh->Forward(x); });
      inputs.push_back(torch::zeros({1, data.input.shape.c, data.input.shape.h, data.input.shape.w}));
    }
    std::fprintf(stderr, "\rquantized %d/%d", i + 1, n);
  }
  std::fprintf(stderr, "\ntiming %zu int8 networks together...\n", timed.size());
  evaluator::TimingPolicy policy;
  const auto lat = evaluator::TimeInterleaved(timed, inputs, policy, false, {}, nullptr, false);
  if (kept_dir.empty()) std::filesystem::remove_all(dir);
  std::vector<double> lost7, lost8, ratio;
  std::printf("csv: arch,fp32_acc,int8_acc_w7,int8_acc_w8,int8_ms_w7,int8_ms_w8,noisy_w7,noisy_w8\n");
  for (int i = 0; i < n; ++i) {
    const auto& a = lat[2 * i];
    const auto& b = lat[2 * i + 1];
    std::printf("csv: %s,%.2f,%.2f,%.2f,%.4f,%.4f,%d,%d\n", sp.Key(archs[i]).c_str(), fp32[i], acc7[i], acc8[i],
                a.median_ms, b.median_ms, a.noisy ? 1 : 0, b.noisy ? 1 : 0);
    if (fp32[i] < 0) continue;
    lost7.push_back(fp32[i] - acc7[i]);
    lost8.push_back(fp32[i] - acc8[i]);
    if (a.median_ms > 0 && b.median_ms > 0) ratio.push_back(a.median_ms / b.median_ms);
  }
  std::printf("%d networks (seed %llu), engine %s, kernels %s VNNI (ONEDNN_MAX_CPU_ISA=%s), %s\n", n,
              static_cast<unsigned long long>(seed), evaluator::Int8Engine().c_str(),
              evaluator::CpuInt8HasVnni() ? "with" : "without", isa ? isa : "unset", evaluator::CpuModelName().c_str());
  std::printf("accuracy lost to int8, 7-bit weights: median %.2f, mean %.2f, worst %.2f points\n", Median(lost7),
              Mean(lost7), lost7.empty() ? 0 : *std::max_element(lost7.begin(), lost7.end()));
  std::printf("accuracy lost to int8, 8-bit weights: median %.2f, mean %.2f, worst %.2f points\n", Median(lost8),
              Mean(lost8), lost8.empty() ? 0 : *std::max_element(lost8.begin(), lost8.end()));
  std::printf("int8 latency 7-bit / 8-bit weights: median %.3f (range %.3f-%.3f)\n", Median(ratio),
              ratio.empty() ? 0 : *std::min_element(ratio.begin(), ratio.end()),
              ratio.empty() ? 0 : *std::max_element(ratio.begin(), ratio.end()));
  return 0;
}
