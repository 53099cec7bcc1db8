// LibTorch-side tests: the module builder, datasets and the training evaluator.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "evaluator/dataset.h"
#include "evaluator/inherit.h"
#include "evaluator/latency.h"
#include "evaluator/measure.h"
#include "evaluator/proxies.h"
#include "evaluator/table_evaluator.h"
#include "evaluator/train_evaluator.h"
#include "evaluator/sgd_update.h"
#include "evaluator/train_layout.h"
#include "evaluator/worker_pool.h"
#include "experiments/onnx_export.h"
#include "experiments/torchscript_export.h"
#include "space/graph_net.h"
#include "space/input_error.h"
#include "space/search_space.h"
#include "tests/shipped_spaces.h"
#include "tests/test_paths.h"

namespace paretonas {
namespace {

using space::InputSpec;
using space::SearchSpace;

std::vector<std::pair<std::string, SearchSpace>> Spaces(InputSpec in) { return testing::ShippedSpaces(in); }

// The tests that cover every operation (parameters here, the exports, the int8 stage) sample the
// shipped spaces: each operation kind must occur in them, or a new operation would go untested.
// Its label is its own (hashes, latency tables and exports tell operations apart by it).
TEST(GraphNet, TheShippedSpacesUseEveryOperationKind) {
  std::mt19937_64 rng(3);
  std::map<space::OpKind, int> seen;
  for (auto& [name, sp] : Spaces(InputSpec{{1, 28, 28}, 10}))
    for (int i = 0; i < 200; ++i)
      for (const auto& e : sp.Plan(sp.Sample(rng)).edges) ++seen[e.op.kind];
  std::set<std::string> labels;
  for (space::OpKind k : space::AllOpKinds()) {
    space::OpSpec op;
    op.kind = k;
    EXPECT_GT(seen[k], 0) << op.Label() << ": no shipped space uses it (add one to experiments/spaces/)";
    EXPECT_TRUE(labels.insert(op.Label()).second) << op.Label() << " is the label of two kinds";
    EXPECT_NE(op.Label(), "?");
  }
}

TEST(GraphNet, ParameterCountEqualsTheStaticCount) {
  std::mt19937_64 rng(2);
  for (auto& [name, sp] : Spaces(InputSpec{{1, 28, 28}, 10})) {
    for (int i = 0; i < 25; ++i) {
      const space::Genotype g = sp.Sample(rng);
      const space::StaticCosts c = sp.Costs(g);
      space::GraphNet pruned(sp.Plan(g), space::GraphNetOptions{});
      space::GraphNet full(sp.Plan(g), space::GraphNetOptions{true});
      EXPECT_EQ(pruned->NumParameters(), c.params_pruned) << name << " " << sp.Key(g);
      EXPECT_EQ(full->NumParameters(), c.params) << name << " " << sp.Key(g);
    }
  }
  // The full-size NB201 network too.
  const SearchSpace nb = SearchSpace::Load("nb201", {}, InputSpec{{3, 32, 32}, 10});
  for (int i = 0; i < 5; ++i) {
    const space::Genotype g = nb.Sample(rng);
    space::GraphNet net(nb.Plan(g), space::GraphNetOptions{true});
    EXPECT_EQ(net->NumParameters(), nb.Costs(g).params) << nb.Key(g);
  }
}

// The measured activation memory of a batch-1 forward pass: the same on every call (allocator
// accounting, not timing), at least the static estimate's live activations (which leave out
// each operation's temporaries, so the measurement is larger: 2-6x on NB201 cells), and it grows
// with the width.
TEST(GraphNet, MeasuredPeakActivationBytesAreRepeatableAndBoundTheStaticEstimate) {
  std::mt19937_64 rng(8);
  for (auto& [name, sp] : Spaces(InputSpec{{1, 28, 28}, 10})) {
    for (int i = 0; i < 10; ++i) {
      const space::Genotype g = sp.Sample(rng);
      const space::StaticCosts c = sp.Costs(g);
      space::GraphNet net(sp.Plan(g), space::GraphNetOptions{});
      net->eval();
      const torch::Tensor x = torch::zeros({1, 1, 28, 28});
      const std::int64_t a = evaluator::PeakForwardBytes(net, x);
      EXPECT_EQ(a, evaluator::PeakForwardBytes(net, x)) << name << " " << sp.Key(g);
      const std::int64_t input_bytes = 28 * 28 * 4;
      EXPECT_GE(a + input_bytes, c.activation_bytes) << name << " " << sp.Key(g);
      EXPECT_LE(a, 12 * c.activation_bytes + 4096) << name << " " << sp.Key(g);
    }
  }
  const std::string arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|";
  std::int64_t bytes[2];
  for (int k = 0; k < 2; ++k) {
    const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", k ? "16" : "8"}, {"cells_per_stage", "1"}},
                                             InputSpec{{1, 28, 28}, 10});
    space::GraphNet net(sp.Plan(sp.ParseKey(arch)), space::GraphNetOptions{});
    net->eval();
    bytes[k] = evaluator::PeakForwardBytes(net, torch::zeros({1, 1, 28, 28}));
  }
  EXPECT_GT(bytes[1], 1.8 * bytes[0]) << "8 channels: " << bytes[0] << ", 16: " << bytes[1];
}

TEST(GraphNet, ForwardGivesLogitsForBothInputShapesAndBatchSizes) {
  std::mt19937_64 rng(4);
  torch::NoGradGuard no_grad;
  for (const InputSpec in : {InputSpec{{1, 28, 28}, 10}, InputSpec{{3, 32, 32}, 7}}) {
    for (auto& [name, sp] : Spaces(in)) {
      for (int i = 0; i < 3; ++i) {
        const space::Genotype g = sp.Sample(rng);
        space::GraphNet net(sp.Plan(g), space::GraphNetOptions{});
        net->eval();
        for (int64_t batch : {1, 128}) {
          auto y = net->forward(torch::randn({batch, in.shape.c, in.shape.h, in.shape.w}));
          EXPECT_EQ(y.sizes(), (std::vector<int64_t>{batch, in.num_classes})) << name << " " << sp.Key(g);
          EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
        }
      }
    }
  }
}

TEST(TorchScriptExport, ReloadedModulesMatchTheEngineForEverySpace) {
  std::mt19937_64 rng(12);
  const std::string dir = testing::TempDir("ts");
  for (const InputSpec in : {InputSpec{{1, 28, 28}, 10}, InputSpec{{3, 32, 32}, 5}}) {
    for (auto& [name, sp] : Spaces(in)) {
      for (int i = 0; i < 4; ++i) {
        space::Genotype g = sp.Sample(rng);
        const std::string path = dir + "/" + name + std::to_string(i) + ".pt";
        const auto r = experiments::ExportTorchScript(sp, g, "", 100 + i, path);
        EXPECT_LE(r.max_abs_diff, 1e-5) << name << " " << sp.Key(g);
        EXPECT_FALSE(r.trained);
        auto m = torch::jit::load(path);
        EXPECT_EQ(m.attr("check_output").toTensor().size(1), in.num_classes);
      }
    }
  }
  // A disconnected cell exports too (its output is zeros).
  const SearchSpace nb = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}}, InputSpec{{1, 28, 28}, 10});
  const auto r = experiments::ExportTorchScript(nb, space::Genotype(6, 0), "", 1, dir + "/zero.pt");
  EXPECT_EQ(r.max_abs_diff, 0.0);
}

TEST(OnnxExport, EveryArchitectureOfEverySpacePassesTheChecker) {
  if (!experiments::OnnxSupported()) GTEST_SKIP() << "built without libonnx-dev";
  std::mt19937_64 rng(13);
  const std::string dir = testing::TempDir("onnx");
  for (auto& [name, sp] : Spaces(InputSpec{{1, 28, 28}, 10})) {
    for (int i = 0; i < 6; ++i) {
      const space::Genotype g = i == 0 && name == "nb201" ? space::Genotype(6, 0) : sp.Sample(rng);
      const std::string path = dir + "/" + name + std::to_string(i) + ".onnx";
      EXPECT_NO_THROW(experiments::ExportOnnx(sp, g, "", 7, path)) << name << " " << sp.Key(g);
      EXPECT_GT(std::ifstream(path, std::ios::ate | std::ios::binary).tellg(), 100);
    }
  }
}

TEST(GraphNet, CloneCopiesEveryEdgeModule) {
  const SearchSpace sp = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  std::mt19937_64 rng(1);
  const space::Genotype g = sp.Sample(rng);
  space::GraphNet net(sp.Plan(g), space::GraphNetOptions{});
  auto copy = std::dynamic_pointer_cast<space::GraphNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->NumParameters(), net->NumParameters());
  torch::NoGradGuard no_grad;
  net->eval();
  copy->eval();
  auto x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::allclose(net->forward(x), copy->forward(x)));
}

evaluator::DatasetOptions Synthetic() { return testing::SmallSynthetic(); }

evaluator::TrainOptions QuickTraining() { return testing::QuickTraining(); }

std::vector<evaluator::EvalRequest> Requests(const SearchSpace& sp, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<evaluator::EvalRequest> out;
  for (int i = 0; i < n; ++i) {
    const space::Genotype g = sp.Sample(rng);
    out.push_back({i, sp.Key(g), sp.CanonicalHash(g), g, 1000u + i});
  }
  return out;
}

std::map<std::int64_t, evaluator::EvalResult> RunPool(evaluator::Evaluator& ev, int workers,
                                                      const std::vector<evaluator::EvalRequest>& reqs) {
  evaluator::WorkerPool pool(ev, workers);
  std::map<std::int64_t, evaluator::EvalResult> out;
  pool.EvaluateBatch(reqs, [&](const evaluator::EvalResult& r) { out[r.trial_id] = r; }, nullptr);
  return out;
}

TEST(TrainEvaluator, SameSeedGivesBitIdenticalMetricsWithOneAndTwoWorkers) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  const auto reqs = Requests(sp, 4, 5);
  evaluator::TrainEvaluator ev(sp, Synthetic(), QuickTraining());
  const auto one = RunPool(ev, 1, reqs);
  const auto two = RunPool(ev, 2, reqs);
  ASSERT_EQ(one.size(), 4u);
  ASSERT_EQ(two.size(), 4u);
  bool learned = false;
  for (const auto& [id, r] : one) {
    ASSERT_TRUE(r.ok) << r.failure;
    for (const char* m : {"val_accuracy", "train_loss", "params", "macs", "model_bytes"})
      EXPECT_EQ(r.metrics.at(m), two.at(id).metrics.at(m)) << m << " of #" << id;
    EXPECT_GT(r.metrics.at("latency_ms"), 0);
    learned |= r.metrics.at("val_accuracy") > 40;  // chance is 25%
  }
  EXPECT_TRUE(learned) << "no candidate learned the synthetic task";
}

// ---- Zero-cost proxies on networks small enough to check by hand ----

torch::Tensor AbsDouble(const torch::Tensor& t) { return t.detach().abs().to(torch::kDouble); }

// With every weight made positive and an all-ones input the ReLUs pass everything, so the summed
// output of a bias-free chain is R = 1ᵀ|W3||W2||W1|1; R is linear in each layer's weights, so
// each layer's Σ|θ ∂R/∂θ| is R and synflow is (number of layers) · R. A BatchNorm in the chain
// is the identity (as the paper's code removes it), and the network given is the one changed.
TEST(Proxies, SynflowOfALinearChainIsTheProductFormula) {
  torch::manual_seed(1);
  auto l1 = torch::nn::Linear(torch::nn::LinearOptions(4, 5).bias(false));
  auto l2 = torch::nn::Linear(torch::nn::LinearOptions(5, 6).bias(false));
  auto l3 = torch::nn::Linear(torch::nn::LinearOptions(6, 3).bias(false));
  auto bn = torch::nn::BatchNorm1d(6);
  {
    torch::NoGradGuard no_grad;
    bn->running_mean.fill_(3.0);  // would shift and scale if it were not made the identity
    bn->running_var.fill_(7.0);
    bn->weight.fill_(-2.0);
  }
  torch::nn::Sequential net(l1, torch::nn::ReLU(), l2, bn, torch::nn::ReLU(), l3);
  const torch::Tensor w1 = AbsDouble(l1->weight), w2 = AbsDouble(l2->weight), w3 = AbsDouble(l3->weight);
  const double r = torch::ones({1, 3}, torch::kDouble).mm(w3).mm(w2).mm(w1).mm(torch::ones({4, 1}, torch::kDouble)).item<double>();
  const double s = evaluator::Synflow(*net, [&](const torch::Tensor& x) { return net->forward(x); }, {8, 4});
  EXPECT_NEAR(s, 3 * r, 1e-9 * r);
}

// Three images whose ReLU codes are 110, 100 and 000: they agree on K = [[3,2,1],[2,3,2],[1,2,3]]
// units, det K = 8.
TEST(Proxies, NaswotIsTheLogDeterminantOfTheAgreementCounts) {
  auto id = torch::nn::Linear(torch::nn::LinearOptions(3, 3).bias(false));
  {
    torch::NoGradGuard no_grad;
    id->weight.copy_(torch::eye(3));
  }
  const torch::Tensor x = torch::tensor({{1.f, 1.f, -1.f}, {1.f, -1.f, -1.f}, {-1.f, -1.f, -1.f}});
  auto forward = [&](const torch::Tensor& in) { return space::ProbedReluFn(id->forward(in)); };
  EXPECT_NEAR(evaluator::Naswot(*id, forward, x), std::log(8.0), 1e-9);
  // Two identical images: K is singular.
  EXPECT_EQ(evaluator::Naswot(*id, forward, x.narrow(0, 0, 1).repeat({2, 1})), -INFINITY);
  // Outside a probe's life the function is a plain ReLU that reports to nobody.
  EXPECT_TRUE(space::ProbedReluFn(x).equal(torch::relu(x)));
}

// For logits z = xWᵀ the cross-entropy gradient is ∂L/∂W = (softmax(z) − onehot(y))ᵀ x / n.
TEST(Proxies, SnipAndGradNormUseTheCrossEntropyGradient) {
  torch::manual_seed(2);
  auto lin = torch::nn::Linear(torch::nn::LinearOptions(5, 4).bias(false));
  const torch::Tensor x = torch::randn({6, 5});
  const torch::Tensor y = torch::tensor({0, 1, 2, 3, 0, 1}, torch::kInt64);
  torch::Tensor g;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor p = torch::softmax(x.mm(lin->weight.t()), 1);
    g = (p - torch::one_hot(y, 4).to(torch::kFloat)).t().mm(x) / 6.0;
  }
  const double snip = (lin->weight.detach() * g).abs().sum().item<double>();
  const double norm = g.norm().item<double>();
  const auto s = evaluator::SnipAndGradNorm(*lin, [&](const torch::Tensor& in) { return lin->forward(in); }, x, y);
  EXPECT_NEAR(s.snip, snip, 1e-5 * snip);
  EXPECT_NEAR(s.grad_norm, norm, 1e-5 * norm);
}

// A linear map gives every image the same Jacobian (the column sums of W): their correlation
// matrix is all ones, with eigenvalues n and n − 1 zeros.
TEST(Proxies, JacobCovOfALinearMapHasOneEigenvalue) {
  torch::manual_seed(3);
  auto lin = torch::nn::Linear(torch::nn::LinearOptions(7, 3).bias(false));
  const int n = 5;
  const double k = 1e-5;
  const double expected = -((std::log(n + k) + 1 / (n + k)) + (n - 1) * (std::log(k) + 1 / k));
  const double got = evaluator::JacobCov(*lin, [&](const torch::Tensor& in) { return lin->forward(in); },
                                         torch::randn({n, 7}));
  EXPECT_NEAR(got, expected, 1e-6 * std::abs(expected));
}

// The evaluator computes the proxies on copies: the network it trains keeps its weights, so the
// trained metrics equal those of a run without proxies; and the proxies, drawn from the trial's
// seed, are bit-identical with one and two workers.
TEST(Proxies, EvaluatorScoresDeterministicallyWithoutChangingTheTraining) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  const auto reqs = Requests(sp, 4, 9);
  evaluator::TrainOptions plain = QuickTraining();
  plain.measure_latency = false;
  evaluator::TrainOptions with = plain;
  with.proxies = {"synflow", "naswot", "snip", "grad_norm", "jacob_cov"};
  with.proxy_batch = 16;
  evaluator::TrainEvaluator ev_plain(sp, Synthetic(), plain), ev_with(sp, Synthetic(), with);
  const auto base = RunPool(ev_plain, 1, reqs);
  const auto one = RunPool(ev_with, 1, reqs);
  const auto two = RunPool(ev_with, 2, reqs);
  std::set<double> synflows;
  for (const auto& [id, r] : one) {
    ASSERT_TRUE(r.ok) << r.failure;
    for (const char* m : {"val_accuracy", "train_loss"}) EXPECT_EQ(r.metrics.at(m), base.at(id).metrics.at(m)) << m;
    for (const auto& p : with.proxies) {
      ASSERT_TRUE(r.metrics.count(p)) << p;
      EXPECT_EQ(r.metrics.at(p), two.at(id).metrics.at(p)) << p << " of #" << id;
    }
    EXPECT_GT(r.metrics.at("synflow"), 0);
    EXPECT_GT(r.metrics.at("grad_norm"), 0);
    EXPECT_GT(r.metrics.at("proxy_seconds"), 0);
    EXPECT_FALSE(base.at(id).metrics.count("synflow"));
    synflows.insert(r.metrics.at("synflow"));
  }
  EXPECT_GT(synflows.size(), 1u) << "four architectures, one synflow";
}

// Training in channels-last (the CPU default) learns the same task as NCHW: per candidate the
// same parameters and MACs, validation accuracy within a few points (the float sums run in
// another order, so training diverges in the last bits). UseLayout hands weights back in NCHW
// (TrainLoop does so when training ends: latency is measured, and models exported, as users
// deploy them). With one-channel input the layout must still reach the first convolution
// (InLayout restrides; contiguous() would not).
// A child that differs from its parent in one cell edge's operation takes every other tensor
// (stem, cells, head, BatchNorm statistics) from the parent and keeps its own initialisation on
// that edge; a second parent fills only what the first did not give.
TEST(Inheritance, CopiesExactlyTheTensorsOfSharedOperations) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  // Every edge a 3x3 convolution; the child has a 1x1 convolution on its last cell edge.
  space::Genotype parent_g(sp.decisions().size(), 0), child_g;
  for (size_t d = 0; d < sp.decisions().size(); ++d) {
    const auto& choices = sp.decisions()[d].labels;
    parent_g[d] = static_cast<int>(std::find(choices.begin(), choices.end(), "nor_conv_3x3") - choices.begin());
  }
  child_g = parent_g;
  const auto& last = sp.decisions().back().labels;
  child_g.back() = static_cast<int>(std::find(last.begin(), last.end(), "nor_conv_1x1") - last.begin());
  space::GraphNet parent(sp.Plan(parent_g), space::GraphNetOptions{});
  space::GraphNet child(sp.Plan(child_g), space::GraphNetOptions{});
  space::InitializeParameters(*parent, at::make_generator<at::CPUGeneratorImpl>(1));
  space::InitializeParameters(*child, at::make_generator<at::CPUGeneratorImpl>(2));
  {
    torch::NoGradGuard no_grad;
    for (auto& b : parent->buffers()) b.fill_(3);  // BatchNorm statistics to inherit
    for (auto& w : parent->parameters()) w.add_(0.5);  // no tensor equal to the child's by chance
  }
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : child->named_parameters()) before[p.key()] = p.value().clone();
  const auto parent_params = parent->named_parameters();
  const evaluator::Inherited got = evaluator::InheritShared(*child, *parent);
  int own = 0, copied = 0;
  std::set<std::string> changed_edges;
  for (const auto& p : child->named_parameters()) {
    const torch::Tensor* theirs = parent_params.find(p.key());
    const bool from_parent = theirs && theirs->sizes().equals(p.value().sizes()) && p.value().equal(*theirs);
    const bool unchanged = p.value().equal(before[p.key()]);
    EXPECT_TRUE(from_parent != unchanged) << p.key();
    if (unchanged) {
      ++own;
      changed_edges.insert(p.key().substr(0, p.key().find('.')));
    } else {
      ++copied;
    }
  }
  // The edges whose operation differs (the last cell edge, in each stage's cell) keep theirs.
  std::set<std::string> differing;
  std::map<int, std::string> parent_ops;
  for (const auto& e : parent->plan().edges) parent_ops[e.id] = e.op.Label();
  for (const auto& e : child->plan().edges)
    if (parent_ops[e.id] != e.op.Label()) differing.insert("e" + std::to_string(e.id));
  EXPECT_EQ(differing.size(), 3u) << "one cell per stage";
  EXPECT_EQ(changed_edges, differing);
  EXPECT_GT(copied, own);
  for (const auto& e : differing) EXPECT_FALSE(got.edges.count(std::stoi(e.substr(1)))) << e;
  for (const auto& b : child->named_buffers())
    if (!differing.count(b.key().substr(0, b.key().find('.'))))
      EXPECT_TRUE(b.value().eq(3).all().item<bool>()) << b.key();
  // A second parent with the child's own network fills the remaining edges only.
  space::GraphNet twin(sp.Plan(child_g), space::GraphNetOptions{});
  space::InitializeParameters(*twin, at::make_generator<at::CPUGeneratorImpl>(3));
  const evaluator::Inherited second = evaluator::InheritShared(*child, *twin, got.edges);
  std::set<std::string> filled;
  for (int id : second.edges) filled.insert("e" + std::to_string(id));
  EXPECT_EQ(filled, differing);
}

// The evaluator saves a trained network's weights when asked, and a child's request that names
// them starts from them: it reports what it inherited, the same every time, and ends elsewhere
// than training from its own initialisation; a parent file that is not there is skipped.
TEST(Inheritance, EvaluatorSavesAndInheritsWeightsDeterministically) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  evaluator::TrainOptions o = QuickTraining();
  o.measure_latency = false;
  evaluator::TrainEvaluator ev(sp, Synthetic(), o);
  const std::string dir = testing::TempDir("inherit");
  auto reqs = Requests(sp, 2, 77);
  reqs[0].weights_out = dir + "/0.pt";
  const auto parent = ev.Evaluate(reqs[0]);
  ASSERT_TRUE(parent.ok) << parent.failure;
  ASSERT_TRUE(std::ifstream(dir + "/0.pt").good());
  EXPECT_FALSE(parent.metrics.count("inherited_tensors"));
  evaluator::EvalRequest child = reqs[0];  // the same network: everything is shared
  child.trial_id = 1;
  child.seed = 5;
  child.weights_out.clear();
  child.parent_genotypes = {reqs[0].genotype};
  child.parent_weights = {dir + "/0.pt"};
  const auto a = ev.Evaluate(child), b = ev.Evaluate(child);
  ASSERT_TRUE(a.ok) << a.failure;
  EXPECT_EQ(a.metrics.at("inherited_share"), 1.0);
  EXPECT_EQ(a.metrics.at("val_accuracy"), b.metrics.at("val_accuracy"));
  evaluator::EvalRequest scratch = child;
  scratch.parent_genotypes.clear();
  scratch.parent_weights.clear();
  const auto s = ev.Evaluate(scratch);
  EXPECT_NE(a.metrics.at("val_accuracy"), s.metrics.at("val_accuracy"));
  // A missing parent file is skipped (the search names only files it has).
  child.parent_weights = {dir + "/none.pt"};
  const auto missing = ev.Evaluate(child);
  ASSERT_TRUE(missing.ok);
  EXPECT_EQ(missing.metrics.at("inherited_tensors"), 0);
  EXPECT_EQ(missing.metrics.at("val_accuracy"), s.metrics.at("val_accuracy"));
}

TEST(TrainEvaluator, ChannelsLastLearnsLikeNchwAndHandsBackNchwWeights) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  const auto reqs = Requests(sp, 4, 5);
  evaluator::TrainOptions cl = QuickTraining(), nchw = QuickTraining();
  cl.layout = "channels_last";
  nchw.layout = "nchw";
  evaluator::TrainEvaluator ev_cl(sp, Synthetic(), cl), ev_nchw(sp, Synthetic(), nchw);
  const auto a = RunPool(ev_cl, 1, reqs);
  const auto b = RunPool(ev_nchw, 1, reqs);
  ASSERT_EQ(a.size(), 4u);
  double diff = 0;
  for (const auto& [id, r] : a) {
    ASSERT_TRUE(r.ok) << r.failure;
    ASSERT_TRUE(b.at(id).ok) << b.at(id).failure;
    EXPECT_EQ(r.metrics.at("params"), b.at(id).metrics.at("params"));
    EXPECT_EQ(r.metrics.at("model_bytes"), b.at(id).metrics.at("model_bytes"));
    diff = std::max(diff, std::abs(r.metrics.at("val_accuracy") - b.at(id).metrics.at("val_accuracy")));
  }
  EXPECT_LE(diff, 10.0) << "channels-last and NCHW training disagree by " << diff << " points";

  const torch::Tensor x1 = torch::zeros({8, 1, 28, 28});
  const torch::Tensor in = evaluator::InLayout(x1, torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(in.suggest_memory_format(), torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(x1.contiguous(torch::MemoryFormat::ChannelsLast).suggest_memory_format(),
            torch::MemoryFormat::Contiguous);  // why InLayout does not use contiguous()
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 4, 3));
  evaluator::UseLayout(*conv, torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(conv->weight.suggest_memory_format(), torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(conv->forward(in).suggest_memory_format(), torch::MemoryFormat::ChannelsLast);
  evaluator::UseLayout(*conv, torch::MemoryFormat::Contiguous);
  EXPECT_TRUE(conv->weight.is_contiguous());
}

TEST(Latency, InterleavedRoundsTimeEveryArchitectureAndKeepTheirOrder) {
  const SearchSpace sp = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  // The smallest and the largest network of the space: ~40x apart in MACs.
  const std::vector<space::Genotype> archs = {
      sp.ParseKey("w=0.5;s0=k3e1;s1=k3e1;s2=k3e1;s3=k3e1"),
      sp.ParseKey("w=1;s0=k7e6,k7e6;s1=k7e6,k7e6,k7e6,k7e6;s2=k7e6,k7e6,k7e6,k7e6;s3=k7e6,k7e6,k7e6,k7e6")};
  evaluator::MeasureOptions o;
  o.warmup = 2, o.repeats = 7, o.rounds = 3;
  o.target = 0;  // no added rounds: exactly one visit per architecture per round
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  const auto m = evaluator::MeasureArchitectures(sp, archs, o, [&](std::size_t done, std::size_t total) {
    calls.emplace_back(done, total);
  });
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(calls.size(), 6u);  // every architecture visited once per round
  EXPECT_EQ(calls.back(), std::make_pair(std::size_t{6}, std::size_t{6}));
  EXPECT_GT(m[0].median_ms, 0);
  EXPECT_GE(m[0].iqr_ms, 0);
  EXPECT_GT(m[1].median_ms, 2 * m[0].median_ms) << "the large network must time slower";

  // The per-op table's path: one network per operation, as many results as operations.
  std::vector<space::PlanEdge> edges;
  for (const auto& e : sp.Plan(archs[1]).edges)
    if (e.op.kind != space::OpKind::kNone) edges.push_back(e);
  const auto ops = evaluator::MeasureOperations(edges, o);
  ASSERT_EQ(ops.size(), edges.size());
  for (const auto& r : ops) EXPECT_GT(r.median_ms, 0);

  // More architectures than one chunk holds (256): every one measured, in order of the input.
  const SearchSpace tiny = SearchSpace::Load("nb201", {{"channels", "2"}, {"cells_per_stage", "1"}},
                                             InputSpec{{1, 8, 8}, 10});
  std::mt19937_64 rng(5);
  std::vector<space::Genotype> many;
  for (int i = 0; i < 300; ++i) many.push_back(tiny.Sample(rng));
  evaluator::MeasureOptions quick;
  quick.warmup = 0, quick.repeats = 3, quick.rounds = 3;
  quick.target = 0;
  std::size_t visits = 0;
  const auto all = evaluator::MeasureArchitectures(tiny, many, quick, [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 900u);
    visits = done;
  });
  ASSERT_EQ(all.size(), 300u);
  EXPECT_EQ(visits, 900u);
  for (const auto& r : all) EXPECT_GT(r.median_ms, 0);

  o.rounds = 8;  // more rounds than timed passes
  EXPECT_THROW(evaluator::MeasureArchitectures(sp, archs, o), InputError);
  o.rounds = 0;
  EXPECT_THROW(evaluator::MeasureArchitectures(sp, archs, o), InputError);
}

// With the default policy every estimate carries its error: an interval around the median, the
// passes kept and discarded (each timed pass with its wall and CPU time), and either at least
// `repeats` kept passes within the target or the noisy flag.
TEST(Latency, EveryEstimateCarriesItsIntervalAndItsPasses) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           InputSpec{{1, 16, 16}, 10});
  std::mt19937_64 rng(3);
  std::vector<space::Genotype> archs;
  for (int i = 0; i < 4; ++i) archs.push_back(sp.Sample(rng));
  evaluator::MeasureOptions o;
  o.warmup = 2, o.repeats = 12, o.rounds = 3;
  std::vector<std::vector<evaluator::Pass>> passes;
  const auto m = evaluator::MeasureArchitectures(sp, archs, o, {}, &passes);
  ASSERT_EQ(m.size(), 4u);
  ASSERT_EQ(passes.size(), 4u);
  for (std::size_t i = 0; i < m.size(); ++i) {
    EXPECT_LE(m[i].ci_low_ms, m[i].median_ms);
    EXPECT_GE(m[i].ci_high_ms, m[i].median_ms);
    EXPECT_EQ(static_cast<int>(passes[i].size()), m[i].kept + m[i].discarded);
    EXPECT_GE(m[i].rounds, 3);
    for (const auto& p : passes[i]) {
      EXPECT_GT(p.wall_ms, 0);
      EXPECT_GT(p.cpu_ms, 0);
      EXPECT_GE(p.round, 1);
    }
    if (!m[i].noisy) {  // confirmed: the second fastest round within +-target (a slowdown widens only below)
      EXPECT_GE(m[i].kept, 12);
      EXPECT_LE(m[i].ci_high_ms - m[i].median_ms, o.target * m[i].median_ms + 1e-12);
    }
  }
}

// The latency stage of the train evaluator: every request's architecture timed together, in
// request order, with its error; an architecture the evaluator rejects fails with the reason;
// a training request that need not measure (measure_latency false) reports no latency.
TEST(TrainEvaluator, MeasuresALatencyStageAndSkipsTheLatencyItWasGiven) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  auto reqs = Requests(sp, 5, 4);
  evaluator::TrainOptions t = QuickTraining();
  std::int64_t largest = 0;
  for (const auto& q : reqs) largest = std::max(largest, sp.Costs(q.genotype).params_pruned);
  t.max_params = largest > 0 ? largest - 1 : 0;  // the largest is refused
  evaluator::TrainEvaluator ev(sp, Synthetic(), t);
  ASSERT_TRUE(ev.CanMeasureLatencies());
  for (auto& q : reqs) q.rung = search::kLatencyRung;
  const auto results = ev.MeasureLatencies(reqs);
  ASSERT_EQ(results.size(), reqs.size());
  int refused = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(results[i].trial_id, reqs[i].trial_id);
    if (!results[i].ok) {
      ++refused;
      EXPECT_NE(results[i].failure.find("exceeds the limit"), std::string::npos) << results[i].failure;
      continue;
    }
    for (const char* m : {"latency_ms", "latency_ci_ms", "latency_noisy", "latency_passes", "latency_discarded",
                          "peak_activation_bytes"})
      EXPECT_TRUE(results[i].metrics.count(m)) << m;
    EXPECT_GT(results[i].metrics.at("latency_ms"), 0);
  }
  if (largest > 0) EXPECT_GE(refused, 1);
  evaluator::EvalRequest train = reqs[0];
  for (const auto& q : reqs)
    if (sp.Costs(q.genotype).params_pruned < largest) train = q;
  train.rung = -1;
  train.measure_latency = false;
  const auto r = ev.Evaluate(train);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_FALSE(r.metrics.count("latency_ms"));
  EXPECT_TRUE(r.metrics.count("val_accuracy"));
}

// Runs on a CUDA build with a GPU (each worker on its own CUDA stream); elsewhere it skips,
// saying why. Checked on the device machine (bench/RESULTS.md, "CUDA").
TEST(TrainEvaluator, CudaWorkersOnOwnStreamsGiveTheSameMetricsAsOne) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device visible to this LibTorch (CPU build or no GPU)";
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  const auto reqs = Requests(sp, 6, 9);
  evaluator::TrainOptions t = QuickTraining();
  t.device = "cuda";
  evaluator::TrainEvaluator ev(sp, Synthetic(), t);
  const auto one = RunPool(ev, 1, reqs);
  const auto four = RunPool(ev, 4, reqs);
  ASSERT_EQ(one.size(), 6u);
  ASSERT_EQ(four.size(), 6u);
  bool learned = false;
  for (const auto& [id, r] : one) {
    ASSERT_TRUE(r.ok) << r.failure;
    ASSERT_TRUE(four.at(id).ok) << four.at(id).failure;
    for (const char* m : {"val_accuracy", "train_loss", "params"})
      EXPECT_EQ(r.metrics.at(m), four.at(id).metrics.at(m)) << m << " of #" << id;
    EXPECT_GT(r.metrics.at("latency_ms"), 0);
    learned |= r.metrics.at("val_accuracy") > 40;
  }
  EXPECT_TRUE(learned) << "no candidate learned the synthetic task on CUDA";
}

// The update a captured CUDA step runs (learning rate in a tensor) against torch::optim::SGD,
// on the CPU: weight decay, Nesterov momentum from a zero buffer, a parameter without a
// gradient, and a learning rate that changes every step, as the cosine schedule does.
TEST(SgdUpdate, EqualsTorchOptimSgdToFloatRounding) {
  torch::manual_seed(7);
  torch::nn::Linear a(6, 4), b(6, 4);
  b->weight.set_data(a->weight.detach().clone());
  b->bias.set_data(a->bias.detach().clone());
  torch::Tensor unused_a = torch::randn({3}).requires_grad_(), unused_b = unused_a.detach().clone().requires_grad_();
  std::vector<torch::Tensor> pa = {a->weight, a->bias, unused_a}, pb = {b->weight, b->bias, unused_b};
  const torch::Tensor initial = a->weight.detach().clone();
  torch::optim::SGD opt(pa, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4).nesterov(true));
  std::vector<torch::Tensor> bufs;
  for (const auto& p : pb) bufs.push_back(torch::zeros_like(p));
  const torch::Tensor neg_lr = torch::zeros({});
  for (int step = 0; step < 6; ++step) {
    const double lr = 0.05 * (1 + std::cos(M_PI * step / 6));
    for (auto& g : opt.param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    const torch::Tensor x = torch::randn({5, 6}), t = torch::randn({5, 4});
    opt.zero_grad();
    torch::mse_loss(a->forward(x), t).backward();
    opt.step();
    for (auto& p : pb) p.mutable_grad().reset();
    torch::mse_loss(b->forward(x), t).backward();
    neg_lr.fill_(-lr);
    evaluator::SgdUpdate(pb, bufs, neg_lr, 0.9, 5e-4, true);
  }
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-6, 1e-7))
        << "parameter " << i << ": largest difference " << (pa[i] - pb[i]).abs().max().item<float>();
  EXPECT_FALSE(torch::allclose(a->weight, initial, 1e-3, 1e-3)) << "nothing trained";
  EXPECT_TRUE(torch::equal(pb[2], unused_a.detach())) << "a parameter without a gradient moved";
}

// CUDA graphs (training.cuda_graphs) and reduced precision (training.precision) on a CUDA build
// with a GPU; elsewhere it skips, saying why. A graph replays the step eager training launches
// op by op, with the learning rate read from a device tensor: the same training to float
// rounding, so the metrics agree within a tolerance, not bit for bit. 400 training images in
// batches of 32 leave a partial batch per epoch, which runs eagerly.
TEST(TrainEvaluator, CudaGraphsTrainAsEagerDoesAndReducedPrecisionIsInEffect) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device visible to this LibTorch (CPU build or no GPU)";
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  const auto reqs = Requests(sp, 6, 11);
  evaluator::TrainOptions eager = QuickTraining();
  eager.device = "cuda";
  eager.measure_latency = false;
  eager.cuda_graphs = "off";
  evaluator::TrainOptions graphs = eager, bf16 = eager, fp16 = eager;
  graphs.cuda_graphs = "on";
  bf16.cuda_graphs = "on";
  bf16.precision = "bf16";
  fp16.precision = "fp16";
  evaluator::TrainEvaluator ev_eager(sp, Synthetic(), eager), ev_graphs(sp, Synthetic(), graphs),
      ev_bf16(sp, Synthetic(), bf16), ev_fp16(sp, Synthetic(), fp16);
  const auto e = RunPool(ev_eager, 1, reqs);
  const auto g = RunPool(ev_graphs, 1, reqs);
  const auto g3 = RunPool(ev_graphs, 3, reqs);
  const auto b = RunPool(ev_bf16, 2, reqs);
  const auto h = RunPool(ev_fp16, 2, reqs);
  double max_loss_diff = 0, max_acc_diff = 0;
  int bf16_differs = 0, learned_graphs = 0, learned_bf16 = 0, learned_fp16 = 0;
  for (const auto& [id, r] : e) {
    ASSERT_TRUE(r.ok) << r.failure;
    for (const auto* m : {&g, &g3, &b, &h}) ASSERT_TRUE(m->at(id).ok) << m->at(id).failure;
    const auto& gm = g.at(id).metrics;
    EXPECT_EQ(r.metrics.at("graph_steps"), 0);
    EXPECT_GT(gm.at("graph_steps"), 0) << "#" << id << " was not captured";
    EXPECT_GT(gm.at("eager_steps"), 0) << "the partial batch of each epoch runs eagerly";
    EXPECT_EQ(gm.at("graph_steps") + gm.at("eager_steps"), r.metrics.at("eager_steps"));
    for (const char* m : {"val_accuracy", "train_loss"})  // any worker count, bit for bit
      EXPECT_EQ(gm.at(m), g3.at(id).metrics.at(m)) << m << " of #" << id;
    max_loss_diff = std::max(max_loss_diff, std::abs(gm.at("train_loss") - r.metrics.at("train_loss")));
    max_acc_diff = std::max(max_acc_diff, std::abs(gm.at("val_accuracy") - r.metrics.at("val_accuracy")));
    bf16_differs += b.at(id).metrics.at("train_loss") != gm.at("train_loss");
    EXPECT_GT(b.at(id).metrics.at("graph_steps"), 0);
    EXPECT_EQ(h.at(id).metrics.at("graph_steps"), 0) << "fp16 runs eagerly (its skipped steps need the host)";
    EXPECT_GE(h.at(id).metrics.at("skipped_steps"), 0);
    learned_graphs += gm.at("val_accuracy") > 40;  // chance is 25%
    learned_bf16 += b.at(id).metrics.at("val_accuracy") > 40;
    learned_fp16 += h.at(id).metrics.at("val_accuracy") > 40;
  }
  std::printf("graphs vs eager, 6 candidates: largest train_loss difference %.3g, val_accuracy %.3g points\n",
              max_loss_diff, max_acc_diff);
  EXPECT_LT(max_loss_diff, 0.05) << "graphs and eager train differently beyond float rounding";
  EXPECT_LE(max_acc_diff, 5.0);
  EXPECT_GT(bf16_differs, 0) << "bf16 gave fp32's losses exactly: autocast was not in effect";
  EXPECT_GT(learned_graphs, 0);
  EXPECT_GT(learned_bf16, 0);
  EXPECT_GT(learned_fp16, 0);
}

// Throws for one trial id, otherwise defers to the real evaluator.
class FaultyEvaluator : public evaluator::Evaluator {
 public:
  explicit FaultyEvaluator(evaluator::Evaluator& inner) : inner_(inner) {}
  evaluator::EvalResult Evaluate(const evaluator::EvalRequest& r) override {
    if (r.trial_id == 1) throw std::runtime_error("boom");
    return inner_.Evaluate(r);
  }
  void PrepareWorkerThread() override { inner_.PrepareWorkerThread(); }
  std::string Describe() const override { return "faulty"; }

 private:
  evaluator::Evaluator& inner_;
};

// `base` as a multi-fidelity request: train to `resource` epochs of a schedule over 2, from the
// state in `in` (none: from scratch), saving the state to `out` (none: not saved).
evaluator::EvalRequest RungRequest(const evaluator::EvalRequest& base, int rung, double resource,
                                   const std::string& in, const std::string& out) {
  evaluator::EvalRequest q = base;
  q.rung = rung;
  q.resource = resource;
  q.max_resource = 2;
  q.resource_unit = "epochs";
  q.state_in = in;
  q.state_out = out;
  return q;
}

// Multi-fidelity continuation: training to rung 0, saving, continuing to rung 1 and then to the
// top gives bit-identically the weights, loss and accuracy of one straight training to the top
// (the schedule runs over the top rung; the state holds weights, BatchNorm buffers, momentum,
// the generator, the epoch's permutation and the step). Rung boundaries fall inside epochs
// (13 steps per epoch: 0.5 and 1.3 epochs are steps 7 and 17), and augmentation draws from the
// same generator. A missing state file trains from scratch to the rung, with the same result.
// The top rung equals the recipe without fidelity (2 epochs).
TEST(TrainEvaluator, ContinuingFromRungStatesEqualsStraightTraining) {
  for (bool augment : {false, true}) {
    evaluator::DatasetOptions data = Synthetic();
    data.augment = augment;
    const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                             evaluator::DatasetInput(data));
    evaluator::TrainEvaluator ev(sp, data, QuickTraining());
    const std::string dir = ::testing::TempDir() + "/paretonas_rungs_" + std::to_string(augment);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const auto& base : Requests(sp, 3, 11)) {
      auto at = [&](int rung, double resource, const std::string& in, const std::string& out) {
        return ev.Evaluate(RungRequest(base, rung, resource, in, out));
      };
      const std::string id = std::to_string(base.trial_id);
      const auto straight = at(2, 2, "", dir + "/straight" + id);
      const auto r0 = at(0, 0.5, "", dir + "/r0_" + id);
      const auto r1 = at(1, 1.3, dir + "/r0_" + id, dir + "/r1_" + id);
      const auto top = at(2, 2, dir + "/r1_" + id, dir + "/chain" + id);
      const auto scratch = at(1, 1.3, dir + "/missing", "");
      const auto plain = ev.Evaluate(base);
      for (const auto* r : {&straight, &r0, &r1, &top, &scratch, &plain}) ASSERT_TRUE(r->ok) << r->failure;
      EXPECT_EQ(r0.metrics.at("train_steps"), 7);
      EXPECT_EQ(r1.metrics.at("train_steps"), 17);
      EXPECT_EQ(top.metrics.at("train_steps"), 26);
      EXPECT_EQ(r1.metrics.at("continued"), 1);
      EXPECT_EQ(scratch.metrics.at("continued"), 0);
      EXPECT_EQ(r1.metrics.at("train_images_run"), 9 * 32 + 16);  // steps 7-16; step 12 ends an epoch of 400
      for (const char* m : {"val_accuracy", "train_loss", "train_images", "model_bytes"}) {
        EXPECT_EQ(top.metrics.at(m), straight.metrics.at(m)) << m << " of #" << id << ", augment " << augment;
        EXPECT_EQ(plain.metrics.at(m), straight.metrics.at(m)) << m << " without fidelity";
        EXPECT_EQ(scratch.metrics.at(m), r1.metrics.at(m)) << m << " from scratch to rung 1";
      }
      EXPECT_TRUE(r0.metrics.count("latency_ms"));      // measured at the first rung
      EXPECT_FALSE(r1.metrics.count("latency_ms"));     // and carried by the search after it
      // The saved weights themselves.
      auto load = [&](const std::string& path) {
        space::GraphNet net(sp.Plan(base.genotype), space::GraphNetOptions{});
        torch::serialize::InputArchive root, net_archive;
        root.load_from(path);
        root.read("net", net_archive);
        net->load(net_archive);
        return net;
      };
      auto a = load(dir + "/straight" + id), b = load(dir + "/chain" + id);
      const auto pa = a->named_parameters(), pb = b->named_parameters();
      ASSERT_EQ(pa.size(), pb.size());
      for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
      const auto ba = a->named_buffers(), bb = b->named_buffers();
      for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
    }
    std::filesystem::remove_all(dir);
  }
}

// training.rung_validation: below the top rung the accuracy is counted on a fixed sample of the
// held-out images (about 50 of 200, stratified by class); the training, and the top rung's
// accuracy on all of them, are those without the option.
TEST(TrainEvaluator, RungsBelowTheTopValidateOnASample) {
  const evaluator::DatasetOptions data = Synthetic();
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(data));
  evaluator::TrainOptions sampled_options = QuickTraining();
  sampled_options.rung_validation = 50;
  sampled_options.measure_latency = false;
  evaluator::TrainOptions all_options = sampled_options;
  all_options.rung_validation = 0;
  evaluator::TrainEvaluator sampled(sp, data, sampled_options), all(sp, data, all_options);
  const std::string dir = ::testing::TempDir() + "/paretonas_rung_validation";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  int differ = 0;
  for (const auto& base : Requests(sp, 3, 5)) {
    auto at = [&](evaluator::TrainEvaluator& ev, int rung, double resource, const std::string& in,
                  const std::string& out) {
      const auto r = ev.Evaluate(RungRequest(base, rung, resource, in, out));
      EXPECT_TRUE(r.ok) << r.failure;
      return r;
    };
    const std::string id = std::to_string(base.trial_id);
    const auto s0 = at(sampled, 0, 0.5, "", dir + "/s" + id);
    const auto s1 = at(sampled, 1, 2, dir + "/s" + id, "");
    const auto a0 = at(all, 0, 0.5, "", dir + "/a" + id);
    const auto a1 = at(all, 1, 2, dir + "/a" + id, "");
    const double n = s0.metrics.at("val_images");
    EXPECT_GE(n, 46);
    EXPECT_LE(n, 54);
    const double correct = s0.metrics.at("val_accuracy") * n / 100;
    EXPECT_NEAR(correct, std::round(correct), 1e-6) << "a count out of " << n << " images";
    EXPECT_EQ(s0.metrics.at("train_loss"), a0.metrics.at("train_loss"));
    EXPECT_FALSE(a0.metrics.count("val_images"));
    EXPECT_FALSE(s1.metrics.count("val_images"));
    for (const auto* r : {&s0, &s1, &a0, &a1}) {  // validation's share of each evaluation
      EXPECT_GT(r->metrics.at("val_seconds"), 0);
      EXPECT_LT(r->metrics.at("val_seconds"), r->seconds);
    }
    EXPECT_EQ(s1.metrics.at("val_accuracy"), a1.metrics.at("val_accuracy"));
    differ += s0.metrics.at("val_accuracy") != a0.metrics.at("val_accuracy");
  }
  EXPECT_GT(differ, 0) << "the sample is not the whole held-out set";
  std::filesystem::remove_all(dir);
}

TEST(TrainEvaluator, BadCandidatesBecomeFailedResultsWhileOthersFinish) {
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                           evaluator::DatasetInput(Synthetic()));
  auto reqs = Requests(sp, 3, 9);
  // Trial 2: the largest network of the space, over the parameter limit.
  reqs[2].genotype = space::Genotype(6, 3);
  reqs[2].key = sp.Key(reqs[2].genotype);
  reqs[0].genotype = sp.ParseKey("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|");
  evaluator::TrainOptions t = QuickTraining();
  t.max_params = sp.Costs(reqs[2].genotype).params_pruned - 1;
  evaluator::TrainEvaluator ev(sp, Synthetic(), t);
  FaultyEvaluator faulty(ev);
  const auto out = RunPool(faulty, 2, reqs);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out.at(0).ok) << out.at(0).failure;
  EXPECT_FALSE(out.at(1).ok);
  EXPECT_NE(out.at(1).failure.find("boom"), std::string::npos);
  EXPECT_FALSE(out.at(2).ok);
  EXPECT_NE(out.at(2).failure.find("rejected before training: params"), std::string::npos) << out.at(2).failure;

  // Divergence: an absurd learning rate makes the loss non-finite.
  evaluator::TrainOptions wild = QuickTraining();
  wild.lr = 1e12;
  wild.momentum = 0.99;
  evaluator::TrainEvaluator diverging(sp, Synthetic(), wild);
  const auto r = diverging.Evaluate(reqs[0]);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.failure.find("diverged"), std::string::npos) << r.failure;
}

// Counts evaluations that reach the inner evaluator.
class CountingEvaluator : public evaluator::Evaluator {
 public:
  evaluator::EvalResult Evaluate(const evaluator::EvalRequest& r) override {
    ++calls;
    evaluator::EvalResult out;
    out.trial_id = r.trial_id;
    out.ok = true;
    out.metrics["val_accuracy"] = static_cast<double>(r.key.size());
    return out;
  }
  std::string Describe() const override { return "counting"; }
  std::atomic<int> calls{0};
};

TEST(CachingEvaluator, AReproposedArchitectureIsNotRetrained) {
  CountingEvaluator inner;
  evaluator::CachingEvaluator cache(inner, "e1");
  evaluator::EvalRequest a{0, "arch-a", "h1", {0}, 1}, b{1, "arch-a-again", "h1", {0}, 2},
      c{2, "arch-c", "h2", {1}, 3};
  EXPECT_EQ(cache.Evaluate(a).trial_id, 0);
  const auto again = cache.Evaluate(b);
  EXPECT_EQ(again.trial_id, 1);
  EXPECT_EQ(again.metrics.at("val_accuracy"), 6.0);  // the cached result of arch-a
  cache.Evaluate(c);
  EXPECT_EQ(inner.calls.load(), 2);
  EXPECT_EQ(cache.hits(), 1u);
}

void WriteGz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string IdxHeader(std::uint32_t magic, std::vector<std::uint32_t> dims) {
  std::string s;
  auto put = [&](std::uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(magic);
  for (auto d : dims) put(d);
  return s;
}

TEST(Datasets, IdxReaderRejectsTruncatedAndWrongMagicFiles) {
  const std::string dir = testing::TempDir("idx");
  WriteGz(dir + "/ok.gz", IdxHeader(0x801, {3}) + std::string("\x01\x02\x03", 3));
  EXPECT_EQ(evaluator::ReadIdx(dir + "/ok.gz", 0x801).sizes(), (std::vector<int64_t>{3}));
  WriteGz(dir + "/short.gz", IdxHeader(0x803, {2, 28, 28}) + std::string(100, '\0'));
  try {
    evaluator::ReadIdx(dir + "/short.gz", 0x803);
    ADD_FAILURE() << "accepted a truncated file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("short.gz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  WriteGz(dir + "/magic.gz", IdxHeader(0x1234, {1}) + "x");
  try {
    evaluator::ReadIdx(dir + "/magic.gz", 0x803);
    ADD_FAILURE() << "accepted a wrong magic number";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("wrong magic"), std::string::npos) << e.what();
  }
  evaluator::DatasetOptions missing;
  missing.path = dir;  // no Fashion-MNIST files here
  EXPECT_THROW(evaluator::LoadDataset(missing), InputError);
}

TEST(Datasets, SplitIsStratifiedSeededAndDisjoint) {
  auto o = Synthetic();
  const auto a = evaluator::LoadDataset(o);
  const auto b = evaluator::LoadDataset(o);
  EXPECT_TRUE(torch::equal(a.val_x, b.val_x));
  EXPECT_EQ(a.val_x.size(0), 200);
  EXPECT_EQ(a.train_x.size(0), 400);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(a.val_y.eq(c).sum().item<int64_t>(), 50);
  o.split_seed = 1;
  EXPECT_FALSE(torch::equal(evaluator::LoadDataset(o).val_x, a.val_x));
  o.train_subset = 100;
  EXPECT_EQ(evaluator::LoadDataset(o).train_x.size(0), 100);
}

TEST(Datasets, Cifar10BinaryBatchesLoadAndTrainWithAugmentation) {
  const std::string dir = testing::TempDir("cifar");
  auto write_batch = [&](const std::string& name, int n, int label_offset) {
    std::string bytes;
    for (int i = 0; i < n; ++i) {
      bytes.push_back(static_cast<char>((i + label_offset) % 10));
      for (int p = 0; p < 3072; ++p) bytes.push_back(static_cast<char>((i * 7 + p) % 256));
    }
    testing::WriteText(dir + "/" + name, bytes);
  };
  for (int b = 1; b <= 5; ++b) write_batch("data_batch_" + std::to_string(b) + ".bin", 20, b);
  write_batch("test_batch.bin", 10, 0);
  evaluator::DatasetOptions o;
  o.name = "cifar10";
  o.path = dir;
  o.validation = 20;
  o.augment = true;
  const auto d = evaluator::LoadDataset(o, true);
  EXPECT_EQ(d.train_x.size(0), 80);
  EXPECT_EQ(d.val_x.size(0), 20);
  EXPECT_EQ(d.test_x.size(0), 10);
  EXPECT_EQ(d.train_x.sizes().slice(1), (std::vector<int64_t>{3, 32, 32}));
  // Train one tiny candidate on it, with random crop and flip.
  const SearchSpace sp = SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}}, d.input);
  evaluator::TrainOptions t = QuickTraining();
  t.epochs = 1;
  evaluator::TrainEvaluator ev(sp, o, t);
  const auto g = sp.ParseKey("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|");
  const auto r = ev.Evaluate({0, sp.Key(g), sp.CanonicalHash(g), g, 5});
  EXPECT_TRUE(r.ok) << r.failure;
  // A truncated batch is rejected with the file named.
  testing::WriteText(dir + "/data_batch_3.bin", std::string(3073 * 2 + 5, '\0'));
  try {
    evaluator::LoadDataset(o);
    ADD_FAILURE() << "accepted a truncated CIFAR batch";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data_batch_3.bin"), std::string::npos) << e.what();
  }
}

TEST(Datasets, FashionMnistLoadsFromTheDebianPackage) {
  evaluator::DatasetOptions o;
  if (!std::ifstream(o.DefaultPath() + "/train-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  o.validation = 5000;
  const auto d = evaluator::LoadDataset(o, true);
  EXPECT_EQ(d.train_x.size(0), 55000);
  EXPECT_EQ(d.val_x.size(0), 5000);
  EXPECT_EQ(d.test_x.size(0), 10000);
  EXPECT_EQ(d.train_x.sizes().slice(1), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_NEAR(d.train_x.mean().item<double>(), 0.0, 0.05);
}

TEST(TableEvaluator, MissingKeyIsAFailedResultAndBadCsvNamesTheRow) {
  const std::string dir = testing::TempDir("table");
  testing::WriteText(dir + "/t.csv", "arch,acc,lat\na,90.5,1.5\nb,80,0.5\n");
  evaluator::TableOptions o;
  o.path = dir + "/t.csv";
  o.key_column = "arch";
  o.accuracy_column = "acc";
  o.latency_column = "lat";
  evaluator::TableEvaluator t(o, nullptr);
  evaluator::EvalRequest r{3, "a", "", {}, 0};
  auto res = t.Evaluate(r);
  EXPECT_TRUE(res.ok);
  EXPECT_EQ(res.metrics.at("val_accuracy"), 90.5);
  EXPECT_EQ(res.metrics.at("latency_ms"), 1.5);
  r.key = "zzz";
  res = t.Evaluate(r);
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.failure.find("'zzz'"), std::string::npos);
  testing::WriteText(dir + "/bad.csv", "arch,acc,lat\na,90.5,1.5\nb,eighty,0.5\n");
  o.path = dir + "/bad.csv";
  try {
    evaluator::TableEvaluator bad(o, nullptr);
    ADD_FAILURE() << "accepted a non-numeric accuracy";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("eighty"), std::string::npos) << e.what();
  }
  o.path = dir + "/t.csv";
  o.latency_column = "latency";
  EXPECT_THROW(evaluator::TableEvaluator(o, nullptr), InputError);
  // A column named like a zero-cost proxy is reported as that metric.
  testing::WriteText(dir + "/p.csv", "arch,acc,synflow,extra\na,90.5,1e30,7\nb,80,2.5,8\n");
  o.path = dir + "/p.csv";
  o.latency_column.clear();
  r.key = "b";
  res = evaluator::TableEvaluator(o, nullptr).Evaluate(r);
  ASSERT_TRUE(res.ok) << res.failure;
  EXPECT_EQ(res.metrics.at("synflow"), 2.5);
  EXPECT_FALSE(res.metrics.count("extra"));
}

}  // namespace
}  // namespace paretonas
