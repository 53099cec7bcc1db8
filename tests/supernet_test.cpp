// The weight-sharing supernet (evaluator/supernet.h): sub-networks taken out of it are the
// standalone networks of their architectures with the supernet's weights; its training is
// deterministic for any number of workers and across a kill and resume.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <algorithm>
#include <random>
#include <set>

#include "evaluator/supernet.h"
#include "evaluator/supernet_train.h"
#include "space/graph_net.h"
#include "space/search_space.h"
#include "space/input_error.h"
#include "space/supernet_slots.h"
#include "tests/shipped_spaces.h"
#include "tests/test_paths.h"

namespace paretonas {
namespace {

using evaluator::Supernet;
using space::InputSpec;
using space::SearchSpace;

std::vector<std::pair<std::string, SearchSpace>> Spaces(InputSpec in) {
  auto spaces = testing::ShippedSpaces(in);
  spaces.emplace_back("fmnist_cells", SearchSpace::Load(testing::SourceDir() + "/experiments/spaces/fmnist_cells.yaml",
                                                        {{"width", "8"}}, in));
  return spaces;
}

/// Every tensor of the supernet drawn at random (BatchNorm statistics too), so that a wrong slice
/// cannot pass for a right one.
void Randomize(evaluator::SupernetImpl& net, std::uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters()) p.normal_(0, 0.5, gen);
  for (auto& b : net.buffers())
    if (b.is_floating_point()) b.uniform_(0.5, 1.5, gen);
}

/// The test's own reading of the weight-sharing rule: the tensor `path` of edge `e` of `g` is the
/// slot's tensor, first channels, kernels centred.
torch::Tensor ExpectedSlice(evaluator::SupernetImpl& net, const space::PlanEdge& e, const std::string& slot,
                            std::string path, const std::vector<int64_t>& sizes) {
  int index = -1;
  for (size_t i = 0; i < net.slots().size(); ++i)
    if (net.slots()[i] == slot) index = static_cast<int>(i);
  EXPECT_GE(index, 0) << slot;
  if (index < 0) return {};
  auto& module = *net.named_children()["s" + std::to_string(index)];
  if (e.op.kind == space::OpKind::kMBConv && e.op.expansion == 1 && module.named_parameters().find("e0.7.weight") != nullptr) {
    // an expansion-free block in a slot with an expansion: its layers start at the slot's 4th
    const auto dot = path.find('.');
    path = std::to_string(std::stoi(path.substr(0, dot)) + 3) + path.substr(dot);
  }
  const torch::Tensor* full = module.named_parameters().find("e0." + path);
  if (!full) full = module.named_buffers().find("e0." + path);
  EXPECT_NE(full, nullptr) << slot << " " << path;
  if (!full) return {};
  torch::Tensor v = *full;
  for (int64_t d = 0; d < v.dim(); ++d)
    v = v.narrow(d, v.dim() == 4 && d >= 2 ? (v.size(d) - sizes[d]) / 2 : 0, sizes[d]);
  return v;
}

TEST(Supernet, ASubNetworkIsTheStandaloneNetworkWithTheSupernetsWeights) {
  const InputSpec in{{1, 12, 12}, 5};
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const torch::Tensor x = torch::randn({4, 1, 12, 12}, data_gen);
  for (auto& [name, space] : Spaces(in)) {
    Supernet net(space);
    Randomize(*net, 17);
    std::mt19937_64 rng(3);
    std::vector<space::Genotype> gs{net->Largest(), net->Smallest()};
    for (int i = 0; i < 12; ++i) gs.push_back(space.Sample(rng));
    std::set<std::string> ops_seen;
    for (const auto& g : gs) {
      SCOPED_TRACE(name + " " + space.Key(g));
      evaluator::SubNetwork sub = net->Take(g);
      // The standalone network of the architecture, filled by the test's own reading of the rule.
      space::GraphNet alone(space.Plan(g), space::GraphNetOptions{});
      const auto slots = space::SupernetSlots(space, g);
      torch::NoGradGuard no_grad;
      int filled = 0;
      for (const auto& e : alone->plan().edges) {
        const std::string prefix = "e" + std::to_string(e.id) + ".";
        auto fill = [&](torch::OrderedDict<std::string, torch::Tensor> tensors) {
          for (auto& item : tensors) {
            if (item.key().compare(0, prefix.size(), prefix) != 0) continue;
            const torch::Tensor want = ExpectedSlice(*net, e, slots[e.id], item.key().substr(prefix.size()),
                                                     item.value().sizes().vec());
            if (!want.defined()) continue;
            item.value().copy_(want);
            ++filled;
            ops_seen.insert(e.op.Label());
          }
        };
        fill(alone->named_parameters());
        fill(alone->named_buffers());
      }
      EXPECT_EQ(filled, static_cast<int>(alone->named_parameters().size() + alone->named_buffers().size()));
      for (bool train : {true, false}) {
        sub.net->train(train);
        alone->train(train);
        EXPECT_TRUE(torch::equal(sub.net->forward(x), alone->forward(x))) << (train ? "train" : "eval");
      }
    }
    EXPECT_FALSE(ops_seen.empty());
  }
}

TEST(Supernet, TheLargestSubNetworkHoldsEveryChainSlotWhole) {
  const InputSpec in{{1, 12, 12}, 5};
  const SearchSpace space = SearchSpace::Load("mobilenet", {}, in);
  Supernet net(space);
  const evaluator::SubNetwork sub = net->Take(net->Largest());
  EXPECT_EQ(sub.net->NumParameters(), [&] {
    std::int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  }());
  // widest width, deepest stages, 7x7 kernels and expansion 6 everywhere
  EXPECT_EQ(space.Key(net->Largest()).find("k3"), std::string::npos) << space.Key(net->Largest());
  EXPECT_NE(space.Key(net->Largest()).find("k7e6"), std::string::npos) << space.Key(net->Largest());
  EXPECT_LT(space.Costs(net->Smallest()).params_pruned, space.Costs(net->Largest()).params_pruned / 4);
}

// Elastic kernel and expansion are consistent: where the weights outside a smaller choice are
// zero, the smaller and the larger choice compute the same function (an off-centre kernel or a
// wrong channel range would not).
TEST(Supernet, ElasticKernelAndExpansionAgreeWhereTheExtraWeightsAreZero) {
  const InputSpec in{{1, 12, 12}, 5};
  const SearchSpace space = SearchSpace::Load("mobilenet", {}, in);
  Supernet net(space);
  Randomize(*net, 9);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(2);
  const torch::Tensor x = torch::randn({3, 1, 12, 12}, data_gen);
  space::Genotype big = net->Largest();
  // stage1.block0: the block decision of the second stage's first block
  int d = -1;
  for (size_t i = 0; i < space.decisions().size(); ++i)
    if (space.decisions()[i].name == "stage1.block0") d = static_cast<int>(i);
  ASSERT_GE(d, 0);
  const auto& labels = space.decisions()[d].labels;
  auto option = [&](const std::string& l) {
    return static_cast<int>(std::find(labels.begin(), labels.end(), l) - labels.begin());
  };
  space::Genotype small_kernel = big, small_expansion = big;
  small_kernel[d] = option("k3e6");
  small_expansion[d] = option("k7e3");
  ASSERT_LT(small_kernel[d], static_cast<int>(labels.size()));
  ASSERT_LT(small_expansion[d], static_cast<int>(labels.size()));
  // The slot of that block: zero its depthwise kernel outside the centre 3x3, and every hidden
  // channel past 3x its input (expanding conv rows, BN shift); BN statistics at 0 mean, unit var.
  int slot = -1;
  for (size_t i = 0; i < net->slots().size(); ++i)
    if (net->slots()[i] == "stage1.block0") slot = static_cast<int>(i);
  ASSERT_GE(slot, 0);
  auto& m = *net->named_children()["s" + std::to_string(slot)];
  torch::NoGradGuard no_grad;
  for (auto& item : net->named_buffers()) {
    if (item.key().find("running_mean") != std::string::npos) item.value().fill_(0);
    if (item.key().find("running_var") != std::string::npos) item.value().fill_(1);
  }
  torch::Tensor dw = *m.named_parameters().find("e0.3.weight");  // [hidden, 1, 7, 7]
  const int64_t in_c = m.named_parameters().find("e0.0.weight")->size(1);
  torch::Tensor ring = torch::ones_like(dw);
  ring.narrow(2, 2, 3).narrow(3, 2, 3).zero_();
  dw.mul_(1 - ring);
  for (int phase = 0; phase < 2; ++phase) {
    const space::Genotype& other = phase == 0 ? small_kernel : small_expansion;
    if (phase == 1) {
      m.named_parameters().find("e0.0.weight")->narrow(0, 3 * in_c, dw.size(0) - 3 * in_c).zero_();
      m.named_parameters().find("e0.1.bias")->narrow(0, 3 * in_c, dw.size(0) - 3 * in_c).zero_();
      m.named_parameters().find("e0.4.bias")->narrow(0, 3 * in_c, dw.size(0) - 3 * in_c).zero_();
    }
    evaluator::SubNetwork a = net->Take(big), b = net->Take(other);
    a.net->eval(), b.net->eval();
    const torch::Tensor ya = a.net->forward(x), yb = b.net->forward(x);
    EXPECT_TRUE(torch::allclose(ya, yb, 1e-4, 1e-5)) << space.Key(other) << " max diff "
                                                      << (ya - yb).abs().max().item<double>();
  }
}

TEST(Supernet, GradientsOfSubNetworksAddIntoTheirSlices) {
  const InputSpec in{{1, 12, 12}, 5};
  const SearchSpace space = SearchSpace::Load("mobilenet", {}, in);
  Supernet net(space);
  Randomize(*net, 4);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(8);
  const torch::Tensor x = torch::randn({6, 1, 12, 12}, data_gen);
  evaluator::SubNetwork big = net->Take(net->Largest()), small = net->Take(net->Smallest());
  big.net->forward(x).sum().backward();
  small.net->forward(x).square().sum().backward();
  net->AddGradients(big);
  // The largest covers every tensor of the supernet: its gradients are the supernet's.
  for (const auto& b : big.bindings)
    if (b.parameter) {
      const auto& full = *net->named_children()["s" + std::to_string(b.slot)]->named_parameters().find(b.name);
      ASSERT_TRUE(full.grad().defined());
      EXPECT_TRUE(torch::equal(full.grad(), b.sub.grad())) << b.name;
    }
  net->AddGradients(small);
  for (const auto& b : small.bindings)
    if (b.parameter) {
      const auto& full = *net->named_children()["s" + std::to_string(b.slot)]->named_parameters().find(b.name);
      torch::Tensor v = full.grad();
      for (int64_t d = 0; d < v.dim(); ++d) v = v.narrow(d, b.start[d], b.sub.size(d));
      torch::Tensor from_big;
      for (const auto& bb : big.bindings)
        if (bb.slot == b.slot && bb.name == b.name) {
          from_big = bb.sub.grad();
          for (int64_t d = 0; d < from_big.dim(); ++d) from_big = from_big.narrow(d, b.start[d], b.sub.size(d));
        }
      ASSERT_TRUE(from_big.defined()) << b.name;
      EXPECT_TRUE(torch::equal(v, from_big + b.sub.grad())) << b.name;
    }
}

/// 240 training and 80 held-out images of 12x12, 5 classes: a pattern per class, with noise.
struct Tiny {
  torch::Tensor x, y, xv, yv;
};
Tiny TinyData() {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(77);
  const torch::Tensor protos = torch::randn({5, 1, 12, 12}, gen);
  auto make = [&](int n, torch::Tensor* x, torch::Tensor* y) {
    *y = torch::randint(0, 5, {n}, gen, torch::kInt64);
    *x = protos.index_select(0, *y) + 0.8 * torch::randn({n, 1, 12, 12}, gen);
  };
  Tiny t;
  make(240, &t.x, &t.y);
  make(80, &t.xv, &t.yv);
  return t;
}

std::vector<torch::Tensor> Weights(evaluator::SupernetImpl& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p.detach().clone());
  return out;
}

bool Same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

evaluator::SupernetTrainOptions TinyRecipe() {
  evaluator::SupernetTrainOptions o;
  o.epochs = 2;
  o.batch_size = 40;
  o.lr = 0.05;
  o.seed = 12;
  o.calibration_images = 120;
  return o;
}

TEST(SupernetTraining, SameWeightsForOneAndTwoWorkersAndAcrossAKillAndResume) {
  const InputSpec in{{1, 12, 12}, 5};
  const Tiny d = TinyData();
  for (const char* name : {"tiny_hybrid", "fmnist_cells"}) {
    SCOPED_TRACE(name);
    const SearchSpace space = SearchSpace::Load(testing::SourceDir() + "/experiments/spaces/" + name + ".yaml",
                                                {{"width", "8"}}, in);
    auto fresh = [&] {
      Supernet net(space);
      net->Initialize(at::make_generator<at::CPUGeneratorImpl>(1));
      return net;
    };
    evaluator::SupernetTrainOptions o = TinyRecipe();
    // The sandwich rule on the hybrid space, strict fairness (5 sub-networks a step) on the cells.
    if (std::string(name) == "fmnist_cells") o.rule = evaluator::SupernetRule::kFair;
    Supernet one = fresh();
    std::vector<double> largest;
    const auto r1 = evaluator::TrainSupernet(*one, d.x, d.y, d.xv, d.yv, o, [&](const evaluator::SupernetProgress& p) {
      if (p.epoch_end) largest.push_back(p.largest_accuracy);
    });
    EXPECT_EQ(r1.steps, 12);
    EXPECT_EQ(largest.size(), 2u);
    Supernet two = fresh();
    o.workers = 2;
    evaluator::TrainSupernet(*two, d.x, d.y, d.xv, d.yv, o);
    EXPECT_TRUE(Same(Weights(*one), Weights(*two))) << "1 vs 2 workers";
    // Killed after step 5 (a checkpoint every 2 steps: the last one at step 4), then resumed in a
    // fresh supernet, as a new process would.
    const std::string ckpt = ::testing::TempDir() + std::string("/supernet_") + name + ".ckpt";
    std::remove(ckpt.c_str());
    o.checkpoint = ckpt;
    o.checkpoint_every = 2;
    o.stop_after = 5;
    Supernet killed = fresh();
    const auto stopped = evaluator::TrainSupernet(*killed, d.x, d.y, d.xv, d.yv, o);
    EXPECT_TRUE(stopped.stopped);
    o.stop_after = -1;
    Supernet resumed = fresh();
    const auto r2 = evaluator::TrainSupernet(*resumed, d.x, d.y, d.xv, d.yv, o);
    EXPECT_EQ(r2.resumed_from, 5);
    EXPECT_EQ(r2.steps, 12);
    EXPECT_TRUE(Same(Weights(*one), Weights(*resumed))) << "kill + resume";
    EXPECT_FALSE(Same(Weights(*one), Weights(*fresh()))) << "training changed nothing";
    std::remove(ckpt.c_str());
  }
}

TEST(SupernetTraining, TheFairRuleTrainsEveryOptionOfEveryDecisionOnceAStep) {
  const InputSpec in{{1, 12, 12}, 5};
  for (const char* name : {"fmnist_cells", "tiny_hybrid"}) {
    SCOPED_TRACE(name);
    const SearchSpace space = SearchSpace::Load(testing::SourceDir() + "/experiments/spaces/" + name + ".yaml", {}, in);
    Supernet net(space);
    evaluator::SupernetTrainOptions o = TinyRecipe();
    o.rule = evaluator::SupernetRule::kFair;
    size_t most = 0;
    for (const auto& d : space.decisions()) most = std::max(most, d.labels.size());
    std::set<std::vector<space::Genotype>> steps;
    for (std::int64_t step = 0; step < 6; ++step) {
      const auto gs = evaluator::SupernetStepGenotypes(*net, o, step);
      ASSERT_EQ(gs.size(), most);
      EXPECT_EQ(gs, evaluator::SupernetStepGenotypes(*net, o, step)) << "a function of the step";
      steps.insert(gs);
      for (size_t d = 0; d < space.decisions().size(); ++d) {
        const size_t options = space.decisions()[d].labels.size();
        std::vector<int> times(options, 0);
        for (const auto& g : gs) ++times[g[d]];
        // Each option once; a decision with fewer options than `most` deals its own out again,
        // each at most once more than another.
        const auto [lo, hi] = std::minmax_element(times.begin(), times.end());
        EXPECT_GE(*lo, static_cast<int>(most / options)) << space.decisions()[d].name;
        EXPECT_LE(*hi - *lo, 1) << space.decisions()[d].name;
      }
    }
    EXPECT_EQ(steps.size(), 6u) << "the order changes from step to step";
  }
}

TEST(SupernetTraining, SubNetworksLearnAndAReloadedSupernetScoresTheSame) {
  const InputSpec in{{1, 12, 12}, 5};
  const Tiny d = TinyData();
  const SearchSpace space = SearchSpace::Load(testing::SourceDir() + "/experiments/spaces/tiny_hybrid.yaml", {}, in);
  Supernet net(space);
  net->Initialize(at::make_generator<at::CPUGeneratorImpl>(1));
  evaluator::SupernetTrainOptions o = TinyRecipe();
  o.epochs = 4;
  const auto r = evaluator::TrainSupernet(*net, d.x, d.y, d.xv, d.yv, o);
  // 5 classes: chance is 20%; the patterns are easy.
  EXPECT_GT(r.largest_accuracy, 60) << "largest";
  EXPECT_GT(r.smallest_accuracy, 40) << "smallest";
  std::mt19937_64 rng(5);
  const space::Genotype g = space.Sample(rng);
  const double acc = evaluator::SubNetworkAccuracy(*net, g, d.x, d.xv, d.yv, 120);
  const std::string path = ::testing::TempDir() + "/supernet_reload.pt";
  evaluator::SaveSupernet(*net, path);
  Supernet again(space);
  evaluator::LoadSupernet(*again, path);
  EXPECT_EQ(evaluator::SubNetworkAccuracy(*again, g, d.x, d.xv, d.yv, 120), acc);
  // A file of another space is refused, naming the file.
  const SearchSpace other = SearchSpace::Load("mobilenet", {}, in);
  Supernet wrong(other);
  try {
    evaluator::LoadSupernet(*wrong, path);
    ADD_FAILURE() << "loaded a supernet of another space";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace paretonas
