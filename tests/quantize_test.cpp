// The int8 deploy stage (evaluator/quantize.h): every operation of every shipped space lowered
// to int8 kernels, against the float network it came from.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>


#include <iostream>
#include <map>
#include <random>

#include "evaluator/dataset_info.h"
#include "evaluator/quantize.h"
#include "evaluator/train_evaluator.h"
#include "evaluator/worker_pool.h"
#include "space/graph_net.h"
#include "space/search_space.h"
#include "tests/shipped_spaces.h"
#include "tests/test_paths.h"

namespace paretonas {
namespace {

using space::InputSpec;
using space::SearchSpace;

std::vector<std::pair<std::string, SearchSpace>> Spaces(InputSpec in) { return testing::ShippedSpaces(in); }

/// A network as training leaves it: weights from the seed, and batch-norm statistics and affine
/// parameters away from their initial 0/1, so that folding them is tested.
space::GraphNet TrainedLike(const SearchSpace& sp, const space::Genotype& g, std::uint64_t seed) {
  space::GraphNet net(sp.Plan(g), space::GraphNetOptions{});
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  space::InitializeParameters(*net, gen);
  torch::NoGradGuard no_grad;
  for (auto& m : net->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->weight.uniform_(0.5, 1.5, gen);
      bn->bias.uniform_(-0.3, 0.3, gen);
      bn->running_mean.uniform_(-0.5, 0.5, gen);
      bn->running_var.uniform_(0.5, 2.0, gen);
    }
  }
  net->eval();
  return net;
}

double RelativeError(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).norm().item<double>() / std::max(1e-12, want.norm().item<double>());
}

TEST(Int8Net, EveryOperationOfEveryShippedSpaceRunsInInt8CloseToTheFloatNetwork) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const InputSpec in{{1, 16, 16}, 10};
  std::mt19937_64 rng(11);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const torch::Tensor calib = torch::randn({96, 1, 16, 16}, data_gen);
  const torch::Tensor x = torch::randn({32, 1, 16, 16}, data_gen);
  std::map<std::string, int> ops_seen;
  std::map<std::string, double> worst;
  int clear_checked = 0;
  for (auto& [name, sp] : Spaces(in)) {
    for (int i = 0; i < 6; ++i) {
      const space::Genotype g = sp.Sample(rng);
      space::GraphNet net = TrainedLike(sp, g, 100 + i);
      torch::NoGradGuard no_grad;
      const torch::Tensor want = net->forward(x);
      for (const char* calibration : {"minmax", "percentile"}) {
        evaluator::QuantizeOptions qo;
        qo.calibration = calibration;
        const evaluator::Int8Net q(net, calib, qo);
        const torch::Tensor got = q.Forward(x);
        ASSERT_EQ(got.sizes(), want.sizes()) << name << " " << sp.Key(g);
        EXPECT_FALSE(got.is_quantized());
        const double err = RelativeError(got, want);
        // Quantization is not exact (a float simulation would be), and it is close: a wrong
        // fold, scale or operation gives errors near or above 1.
        if (want.abs().max().item<double>() > 0) {
          EXPECT_GT(err, 0.0) << name << " " << sp.Key(g);
          EXPECT_LT(err, 0.12) << calibration << " " << name << " " << sp.Key(g) << " " << q.Describe();
        }
        // The same decisions on nearly every image whose decision is clear: random networks'
        // logits hardly depend on the image, and where the float network's two best classes lie
        // closer than the quantization error, either may win (near-ties: 7-bit weights measured
        // 0-6% agreement on all 32 images of a mobilenet whose margins were 0.001 and its error
        // 0.002). A saturating kernel (8-bit weights on AVX2) flips clear decisions too.
        const double rms = (got - want).pow(2).mean().sqrt().item<double>();
        const auto top = want.topk(2, 1);
        const torch::Tensor clear = (std::get<0>(top).select(1, 0) - std::get<0>(top).select(1, 1)) > 3 * rms;
        const std::int64_t n_clear = clear.sum().item<std::int64_t>();
        if (err > 0 && n_clear >= 4) {
          const double agree =
              got.argmax(1).eq(want.argmax(1)).masked_select(clear).to(torch::kDouble).mean().item<double>();
          EXPECT_GE(agree, 0.9) << calibration << " " << name << " " << sp.Key(g) << ": " << n_clear
                                << " images with a clear decision";
          ++clear_checked;
        }
        std::istringstream words(q.Describe());
        std::string w;
        while (words >> w) {
          while (!w.empty() && (w.back() == ',' || w.back() == ')')) w.pop_back();
          if (w == "conv" || w == "add" || w == "linear" || w == "norm" || w == "pool") ++ops_seen[w];
        }
        worst[calibration] = std::max(worst[calibration], err);
      }
    }
  }
  for (const char* op : {"conv", "add", "linear", "norm", "pool"}) EXPECT_GT(ops_seen[op], 0) << op;
  EXPECT_GT(clear_checked, 20) << "too few networks with clear decisions to check them";
  std::cout << "worst relative error of the logits: minmax " << worst["minmax"] << ", percentile "
            << worst["percentile"] << "\n";
}

/// One int8 convolution on the engine's kernels against exact integer arithmetic: full-range
/// uint8 activations (0-255) and positive per-channel weights of `bits` bits, the worst case for
/// kernels that sum two u8 x s8 products in 16 bits (vpmaddubsw, x86 without VNNI). Returns the
/// share of output values that differ from the exact ones and the largest difference in steps.
std::pair<double, std::int64_t> ConvAgainstExactArithmetic(int bits) {
  auto op = [](const char* name, const char* overload) {
    return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
  };
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(17);
  const double in_scale = 4.0 / 255;
  const torch::Tensor x = torch::rand({4, 16, 10, 10}, gen) * 4;
  const torch::Tensor w = torch::rand({24, 16, 3, 3}, gen);
  const torch::Tensor bias = torch::randn({24}, gen);
  const torch::Tensor xq = at::quantize_per_tensor(x, in_scale, 0, at::kQUInt8);
  const double qmax = evaluator::WeightQMax(bits);
  const torch::Tensor wscale = (w.abs().reshape({24, -1}).amax(1) / qmax).to(torch::kDouble);
  const torch::Tensor wq = at::quantize_per_channel(w, wscale, torch::zeros({24}, torch::kLong), 0, at::kQInt8);
  torch::jit::Stack stack{wq, bias, c10::List<std::int64_t>({1, 1}), c10::List<std::int64_t>({1, 1}),
                          c10::List<std::int64_t>({1, 1}), std::int64_t{1}};
  op("quantized::conv2d_prepack", "").callBoxed(&stack);
  const c10::IValue packed = stack.at(0);
  // Exact: integer products summed in double (exact below 2^53), then the output's requantization.
  const torch::Tensor acc = at::conv2d(xq.int_repr().to(torch::kDouble), wq.int_repr().to(torch::kDouble), {}, 1, 1);
  const torch::Tensor real = acc * in_scale * wscale.view({1, -1, 1, 1}) + bias.to(torch::kDouble).view({1, -1, 1, 1});
  const double out_scale = real.abs().max().item<double>() / 127;
  const torch::Tensor exact = torch::clamp(torch::round(real / out_scale) + 128, 0, 255).to(torch::kLong);
  stack = {xq, packed, out_scale, std::int64_t{128}};
  op("quantized::conv2d", "new").callBoxed(&stack);
  const torch::Tensor got = stack.at(0).toTensor().int_repr().to(torch::kLong);
  const torch::Tensor diff = (got - exact).abs();
  return {diff.gt(0).to(torch::kDouble).mean().item<double>(), diff.max().item<std::int64_t>()};
}

// Why the weights have 7 bits (issue #54, found on an AMD Zen 3): x86 int8 kernels without VNNI
// sum pairs of u8 x s8 products in 16 bits and saturate with 8-bit weights; with 7 bits every
// kernel computes the exact integer result. The suite runs again under ONEDNN_MAX_CPU_ISA=AVX2
// (ctest quantize_test_avx2), so that a VNNI machine checks the kernels of one without.
TEST(Int8Kernels, SevenBitWeightsAreExactOnEveryX86IsaEightBitSaturateWithoutVnni) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const auto [share7, worst7] = ConvAgainstExactArithmetic(7);
  const auto [share8, worst8] = ConvAgainstExactArithmetic(8);
  const bool vnni = evaluator::CpuInt8HasVnni();
  std::cout << "engine " << evaluator::Int8Engine() << ", kernels " << (vnni ? "with" : "without")
            << " VNNI: 7-bit weights " << 100 * share7 << "% of values off (worst " << worst7
            << " steps), 8-bit " << 100 * share8 << "% (worst " << worst8 << ")\n";
  // Requantization rounds in float: a value on a tie may move by one step.
  EXPECT_LE(worst7, 1);
  EXPECT_LT(share7, 0.005);
  if (evaluator::Int8Engine() == "onednn") {  // the cause, as oneDNN's kernels show it
    if (vnni) {
      EXPECT_LE(worst8, 1);
    } else {
      EXPECT_GT(worst8, 2) << "8-bit weights no longer saturate without VNNI: the reason for 7 bits changed";
    }
  }
}

TEST(Int8Net, QuantizesWeightsToSevenBitsAndSaysSo) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const InputSpec in{{1, 16, 16}, 10};
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(6);
  const torch::Tensor calib = torch::randn({32, 1, 16, 16}, data_gen);
  std::mt19937_64 rng(13);
  for (auto& [name, sp] : Spaces(in)) {
    space::GraphNet net = TrainedLike(sp, sp.Sample(rng), 41);
    const evaluator::Int8Net q(net, calib, {});
    EXPECT_EQ(q.WeightBits(), 7);
    std::int64_t widest = 0;
    for (const evaluator::Int8Op& o : q.Ops())
      if (o.weight_q.defined()) widest = std::max(widest, o.weight_q.int_repr().abs().max().item<std::int64_t>());
    EXPECT_EQ(widest, 63) << name;  // every channel's largest weight lands on the range's end
    EXPECT_NE(q.Describe().find("7-bit weights"), std::string::npos) << q.Describe();
  }
  const auto arithmetic = evaluator::Int8Arithmetic();
  ASSERT_EQ(arithmetic.size(), 3u);
  EXPECT_EQ(arithmetic[0].second, evaluator::Int8Engine());
  EXPECT_EQ(arithmetic[1].second, "int8 per channel, symmetric, 7 bits [-63, 63]");
  evaluator::QuantizeOptions bad;
  bad.weight_bits = 6;
  EXPECT_NE(bad.Validate().find("allowed: 7, 8"), std::string::npos);
}

TEST(Int8Net, IsDeterministicForAnyNumberOfThreadsAndStoresAQuarterOfTheFloatBytes) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const InputSpec in{{1, 16, 16}, 10};
  const SearchSpace sp = SearchSpace::Load("mobilenet", {}, in);
  std::mt19937_64 rng(5);
  const space::Genotype g = sp.Sample(rng);
  space::GraphNet net = TrainedLike(sp, g, 7);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const torch::Tensor calib = torch::randn({64, 1, 16, 16}, data_gen);
  const torch::Tensor x = torch::randn({8, 1, 16, 16}, data_gen);
  const int saved = at::get_num_threads();
  at::set_num_threads(1);
  const evaluator::Int8Net a(net, calib, {});
  const torch::Tensor one = a.Forward(x);
  at::set_num_threads(2);
  const evaluator::Int8Net b(net, calib, {});
  const torch::Tensor two = b.Forward(x);
  at::set_num_threads(saved);
  EXPECT_TRUE(torch::equal(one, two));
  // Weights prepacked anew (for timing at batch 1 a network validated in large batches) compute
  // the same, also after the original ran a large batch.
  a.Forward(torch::randn({64, 1, 16, 16}, data_gen));
  EXPECT_TRUE(torch::equal(a.Repacked().Forward(x), one));
  const double fp32_bytes = 4.0 * static_cast<double>(net->NumParameters());
  EXPECT_LT(static_cast<double>(a.ModelBytes()), 0.45 * fp32_bytes);
  EXPECT_GT(static_cast<double>(a.ModelBytes()), 0.2 * fp32_bytes);
}

TEST(Int8Net, CalibrationImagesAreAFixedSampleAndOptionsAreChecked) {
  const torch::Tensor train = torch::arange(100, torch::kFloat).view({100, 1, 1, 1});
  const torch::Tensor a = evaluator::CalibrationImages(train, 10), b = evaluator::CalibrationImages(train, 10);
  EXPECT_EQ(a.size(0), 10);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, train.narrow(0, 0, 10)));  // a sample, not the first images
  EXPECT_EQ(evaluator::CalibrationImages(train, 500).size(0), 100);
  evaluator::QuantizeOptions bad;
  bad.calibration = "kl";
  EXPECT_NE(bad.Validate().find("minmax, percentile"), std::string::npos);
}

// Quantization-aware fine-tuning writes its weights back into the network with each batch norm
// unfolded: a step too small to move anything must give back the same int8 model (a wrong unfold
// of a weight, a bias or a batch norm's affine parameters moves the logits by their own size),
// in every shipped space (folded convolutions, dense layers, unfolded batch norms, classifiers).
TEST(Int8Net, FineTuningWritesItsWeightsBackIntoTheNetworkExactly) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const InputSpec in{{1, 16, 16}, 10};
  std::mt19937_64 rng(21);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const torch::Tensor calib = torch::randn({64, 1, 16, 16}, data_gen);
  const torch::Tensor x = torch::randn({16, 1, 16, 16}, data_gen);
  const torch::Tensor y = torch::randint(0, 10, {16}, data_gen);
  for (auto& [name, sp] : Spaces(in)) {
    for (int i = 0; i < 3; ++i) {
      const space::Genotype g = sp.Sample(rng);
      space::GraphNet net = TrainedLike(sp, g, 300 + i);
      const evaluator::Int8Net before(net, calib, {});
      evaluator::FineTuneOptions f;
      f.lr = 1e-12;
      f.momentum = 0;
      f.batch = 16;
      before.FineTune(net, x, y, f);
      const evaluator::Int8Net after(net, calib, {});
      const torch::Tensor a = before.Forward(x), b = after.Forward(x);
      if (a.abs().max().item<double>() > 0)
        EXPECT_LT(RelativeError(b, a), 0.02) << name << " " << sp.Key(g);
    }
  }
}

// Fine-tuning through the simulated int8 network recovers accuracy that post-training
// quantization lost: a network quantized coarsely (min-max ranges calibrated on images 10x
// brighter than the task's, so that the task's values use about a tenth of each range's 256
// steps: 70% int8 accuracy against 100% in fp32, measured 2026-12-06) is fine-tuned on the task
// under those ranges and quantized again. Deterministic for a seed.
TEST(Int8Net, FineTuningRecoversWhatQuantizationLostAndIsDeterministic) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const InputSpec in{{1, 16, 16}, 4};
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "8"}, {"cells_per_stage", "1"}}, in);
  std::mt19937_64 rng(3);
  const space::Genotype g = sp.Sample(rng);
  // A learnable task: the class is which quadrant holds the bright square.
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(8);
  const std::int64_t n = 512;
  const torch::Tensor labels = torch::randint(0, 4, {n}, data_gen);
  torch::Tensor images = 0.3 * torch::randn({n, 1, 16, 16}, data_gen);
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t q = labels[k].item<std::int64_t>();
    images[k].narrow(1, (q / 2) * 8 + 2, 4).narrow(2, (q % 2) * 8 + 2, 4).add_(2.0);
  }
  space::GraphNet net(sp.Plan(g), space::GraphNetOptions{});
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(1);
  space::InitializeParameters(*net, init);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  net->train();
  for (int e = 0; e < 3; ++e)
    for (std::int64_t s = 0; s < n; s += 32) {
      const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(images.narrow(0, s, 32)),
                                                                      labels.narrow(0, s, 32));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  net->eval();
  evaluator::QuantizeOptions coarse;
  coarse.calibration = "minmax";
  const torch::Tensor calib = images.narrow(0, 0, 64) * 10.0;
  const double fp32 = [&] {
    torch::NoGradGuard no_grad;
    return 100.0 * net->forward(images).argmax(1).eq(labels).sum().item<double>() / n;
  }();
  const double ptq = evaluator::Int8Accuracy(evaluator::Int8Net(net, calib, coarse), images, labels);
  auto fine_tuned = [&](std::uint64_t seed) {
    space::GraphNet copy(sp.Plan(g), space::GraphNetOptions{});
    {
      torch::NoGradGuard no_grad;
      const auto from = net->named_parameters(true), to = copy->named_parameters(true);
      for (const auto& p : from) to[p.key()].copy_(p.value());
      const auto bf = net->named_buffers(true), bt = copy->named_buffers(true);
      for (const auto& b : bf) bt[b.key()].copy_(b.value());
    }
    copy->eval();
    evaluator::FineTuneOptions f;
    f.epochs = 2;
    f.lr = 0.005;
    f.seed = seed;
    const double loss = evaluator::Int8Net(copy, calib, coarse).FineTune(copy, images, labels, f);
    EXPECT_TRUE(std::isfinite(loss));
    return copy;
  };
  space::GraphNet a = fine_tuned(7), b = fine_tuned(7);
  const evaluator::Int8Net qa(a, calib, coarse), qb(b, calib, coarse);
  EXPECT_TRUE(torch::equal(qa.Forward(images), qb.Forward(images)));  // the same seed, the same model
  const double qat = evaluator::Int8Accuracy(qa, images, labels);
  std::cout << "fp32 " << fp32 << "%, int8 after training " << ptq << "%, int8 after fine-tuning " << qat << "%\n";
  EXPECT_LT(ptq, fp32 - 5.0) << "the coarse quantization no longer loses: the test tests nothing";
  EXPECT_GT(qat, ptq + 5.0);
  EXPECT_GT(qat, 95.0);
  evaluator::FineTuneOptions bad;
  bad.epochs = -1;
  EXPECT_NE(bad.Validate().find("deploy.finetune_epochs"), std::string::npos);
}

evaluator::DatasetOptions Synthetic() { return testing::SmallSynthetic(); }

TEST(TrainEvaluator, TheInt8DeployStageReportsTheQuantizedModelsMetricsTheSameForOneAndTwoWorkers) {
  if (evaluator::Int8Engine().empty()) GTEST_SKIP() << "this LibTorch has no quantized engine";
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  evaluator::TrainOptions t = testing::QuickTraining();
  t.deploy_precision = "int8";
  t.calibration_images = 64;
  ASSERT_EQ(t.Validate(), "");
  std::mt19937_64 rng(9);
  std::vector<evaluator::EvalRequest> reqs;
  for (int i = 0; i < 3; ++i) {
    const space::Genotype g = sp.Sample(rng);
    reqs.push_back({i, sp.Key(g), sp.CanonicalHash(g), g, 2000u + i});
  }
  evaluator::TrainEvaluator ev(sp, Synthetic(), t);
  auto run_on = [&](evaluator::TrainEvaluator& e, int workers) {
    evaluator::WorkerPool pool(e, workers);
    std::map<std::int64_t, evaluator::EvalResult> out;
    pool.EvaluateBatch(reqs, [&](const evaluator::EvalResult& r) { out[r.trial_id] = r; }, nullptr);
    return out;
  };
  const auto one = run_on(ev, 1), two = run_on(ev, 2);
  for (const auto& [id, r] : one) {
    ASSERT_TRUE(r.ok) << r.failure;
    for (const char* m : {"int8_val_accuracy", "int8_model_bytes", "int8_latency_ms", "int8_peak_memory_bytes",
                          "int8_latency_ci_ms"})
      EXPECT_TRUE(r.metrics.count(m)) << m;
    EXPECT_EQ(r.metrics.at("int8_val_accuracy"), two.at(id).metrics.at("int8_val_accuracy"));
    EXPECT_EQ(r.metrics.at("int8_model_bytes"), two.at(id).metrics.at("int8_model_bytes"));
    EXPECT_LT(r.metrics.at("int8_model_bytes"), r.metrics.at("model_bytes"));
    EXPECT_GT(r.metrics.at("int8_latency_ms"), 0);
    // Post-training quantization of a trained network keeps most of its accuracy.
    EXPECT_NEAR(r.metrics.at("int8_val_accuracy"), r.metrics.at("val_accuracy"), 15.0);
  }
  // The latency stage (journaled before training) times the int8 model with the fp32 one.
  const std::vector<evaluator::EvalResult> stage = ev.MeasureLatencies(reqs);
  ASSERT_EQ(stage.size(), reqs.size());
  for (const auto& r : stage) {
    ASSERT_TRUE(r.ok) << r.failure;
    for (const char* m : {"latency_ms", "int8_latency_ms", "int8_latency_ci_ms", "int8_peak_memory_bytes"})
      EXPECT_TRUE(r.metrics.count(m)) << m;
    EXPECT_GT(r.metrics.at("int8_latency_ms"), 0);
  }
  // A training request whose latency the stage took measures none.
  evaluator::EvalRequest trained = reqs[0];
  trained.measure_latency = false;
  const evaluator::EvalResult plain = ev.Evaluate(trained);
  ASSERT_TRUE(plain.ok) << plain.failure;
  EXPECT_FALSE(plain.metrics.count("int8_latency_ms"));
  EXPECT_TRUE(plain.metrics.count("int8_val_accuracy"));
  evaluator::TrainOptions bad = t;
  bad.deploy_precision = "int4";
  EXPECT_NE(bad.Validate().find("allowed: fp32, int8"), std::string::npos);
  // Quantization-aware fine-tuning: the int8 metrics of the fine-tuned network, its cost
  // recorded, the same for one and two workers; the fp32 metrics are those before it.
  evaluator::TrainOptions qat = t;
  qat.finetune_epochs = 1;
  ASSERT_EQ(qat.Validate(), "");
  evaluator::TrainEvaluator fine(sp, Synthetic(), qat);
  const auto q1 = run_on(fine, 1), q2 = run_on(fine, 2);
  for (const auto& [id, r] : q1) {
    ASSERT_TRUE(r.ok) << r.failure;
    EXPECT_GT(r.metrics.at("int8_finetune_seconds"), 0);
    EXPECT_EQ(r.metrics.at("int8_val_accuracy"), q2.at(id).metrics.at("int8_val_accuracy"));
    EXPECT_EQ(r.metrics.at("val_accuracy"), one.at(id).metrics.at("val_accuracy"));
    EXPECT_FALSE(one.at(id).metrics.count("int8_finetune_seconds"));
  }
  bad = t;
  bad.deploy_precision = "fp32";
  bad.finetune_epochs = 1;
  EXPECT_NE(bad.Validate().find("set deploy.precision: int8"), std::string::npos);
}

}  // namespace
}  // namespace paretonas
