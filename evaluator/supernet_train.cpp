#include "evaluator/supernet_train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <fstream>
#include <random>
#include <stdexcept>

#include "evaluator/dataset.h"
#include "evaluator/train_evaluator.h"
#include "evaluator/train_loop.h"
#include "space/input_error.h"

namespace paretonas::evaluator {
namespace {

std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<space::Genotype> SupernetStepGenotypes(const SupernetImpl& net, const SupernetTrainOptions& o,
                                                   std::int64_t step) {
  std::mt19937_64 rng(Mix(o.seed, static_cast<std::uint64_t>(step)));
  auto sample = [&] {
    space::Genotype g = net.space().Sample(rng);
    for (int tries = 0; tries < 100 && !net.space().Connected(g); ++tries) g = net.space().Sample(rng);
    return g;
  };
  std::vector<space::Genotype> out;
  if (o.rule == SupernetRule::kUniform) {
    out.push_back(sample());
  } else if (o.rule == SupernetRule::kFair) {
    // Every option of every decision once: a random order of each decision's options, the j-th
    // sub-network taking the j-th (decisions with fewer options deal theirs out again). No
    // rejection of disconnected cells: that would break the fairness.
    const auto& decisions = net.space().decisions();
    size_t k = 1;
    for (const auto& d : decisions) k = std::max(k, d.labels.size());
    out.assign(k, space::Genotype(decisions.size(), 0));
    for (size_t d = 0; d < decisions.size(); ++d) {
      std::vector<int> order(decisions[d].labels.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
      std::shuffle(order.begin(), order.end(), rng);
      for (size_t j = 0; j < k; ++j) out[j][d] = order[j % order.size()];
    }
  } else {
    out.push_back(net.Largest());
    out.push_back(net.Smallest());
    for (int i = 0; i < o.random_subnets; ++i) out.push_back(sample());
  }
  return out;
}

namespace {

torch::Tensor EpochOrder(std::int64_t n, std::uint64_t seed, int epoch) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(Mix(seed ^ 0x0e9c0c4ULL, static_cast<std::uint64_t>(epoch)));
  return torch::randperm(n, gen, torch::kInt64);
}

/// Forward and backward of one sub-network on a batch; `teacher` (probabilities of the largest)
/// undefined: from the labels. Returns the loss.
double Backward(SubNetwork& sub, const torch::Tensor& xb, const torch::Tensor& yb, const torch::Tensor& teacher,
                torch::Tensor* logits_out) {
  torch::Tensor logits = sub.net->forward(xb);
  torch::Tensor loss = teacher.defined()
                           ? -(teacher * torch::log_softmax(logits, 1)).sum(1).mean()  // soft cross-entropy
                           : torch::nn::functional::cross_entropy(logits, yb);
  // A disconnected cell (the fair rule keeps them) computes its output from no weight: nothing to learn.
  if (loss.requires_grad()) loss.backward();
  if (logits_out) *logits_out = logits.detach();
  return loss.item<double>();
}

struct ThreadsGuard {
  int saved = at::get_num_threads();
  ThreadsGuard() { at::set_num_threads(1); }
  ~ThreadsGuard() { at::set_num_threads(saved); }
};

/// The slot names, one a line: what a supernet file records so that a load can check it.
std::string SlotList(const SupernetImpl& net) {
  std::string slots;
  for (const auto& s : net.slots()) slots += s + "\n";
  return slots;
}

/// `root` with the weights and the slot list of `net` (what SaveSupernet writes; a checkpoint adds
/// the optimizer and the step).
void WriteWeightsAndSlots(SupernetImpl& net, torch::serialize::OutputArchive& root) {
  torch::serialize::OutputArchive weights;
  net.save(weights);
  root.write("weights", weights);
  const std::string slots = SlotList(net);
  root.write("slots", torch::tensor(std::vector<std::int64_t>(slots.begin(), slots.end()), torch::kInt64));
}

void SaveCheckpoint(SupernetImpl& net, torch::optim::SGD& opt, std::int64_t step, const std::string& path) {
  torch::serialize::OutputArchive root, optimizer;
  WriteWeightsAndSlots(net, root);
  opt.save(optimizer);
  root.write("optimizer", optimizer);
  root.write("step", torch::tensor(step, torch::kInt64));
  SaveAtomically(root, path);
}

void CheckSlots(SupernetImpl& net, torch::serialize::InputArchive& root, const std::string& path) {
  torch::Tensor t;
  if (!root.try_read("slots", t))
    throw InputError(path + ": not a paretonas supernet file (no slot list)");
  const auto* p = t.data_ptr<std::int64_t>();
  const std::string saved(p, p + t.numel());
  if (saved != SlotList(net))
    throw InputError(path + ": written for a supernet of another space (its slots differ from those of " +
                     net.space().source() + ")");
}

std::int64_t LoadCheckpoint(SupernetImpl& net, torch::optim::SGD& opt, const std::string& path) {
  torch::serialize::InputArchive root, weights, optimizer;
  root.load_from(path);
  CheckSlots(net, root, path);
  root.read("weights", weights);
  root.read("optimizer", optimizer);
  net.load(weights);
  opt.load(optimizer);
  torch::Tensor step;
  root.read("step", step);
  return step.item<std::int64_t>();
}

}  // namespace

space::GraphNet CalibratedSubNetwork(const SupernetImpl& net, const space::Genotype& g, const torch::Tensor& x,
                                     int calibration_images, int batch_size) {
  SubNetwork sub = net.Take(g);
  const std::int64_t n = std::min<std::int64_t>(calibration_images, x.size(0));
  const int batches = static_cast<int>((n + batch_size - 1) / batch_size);
  space::GraphNet out = WithPreciseBatchNorm(sub.net, x.narrow(0, 0, n), batch_size, batches, torch::kCPU);
  out->eval();
  return out;
}

double SubNetworkAccuracy(const SupernetImpl& net, const space::Genotype& g, const torch::Tensor& x,
                          const torch::Tensor& xv, const torch::Tensor& yv, int calibration_images) {
  space::GraphNet sub = CalibratedSubNetwork(net, g, x, calibration_images);
  return Accuracy(sub, xv, yv, torch::kCPU);
}

SupernetTrainResult TrainSupernet(SupernetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                                  const torch::Tensor& xv_all, const torch::Tensor& yv_all,
                                  const SupernetTrainOptions& o,
                                  const std::function<void(const SupernetProgress&)>& progress) {
  if (o.epochs < 1 || o.batch_size < 1 || o.workers < 1 || o.random_subnets < 0)
    throw std::invalid_argument("TrainSupernet: epochs, batch_size and workers must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  const ThreadsGuard threads;  // one thread per sub-network: the same arithmetic for any worker count
  const std::int64_t n = x.size(0);
  const std::int64_t per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const std::int64_t total = per_epoch * o.epochs;
  const std::int64_t nv = o.validation_images > 0 ? std::min<std::int64_t>(o.validation_images, xv_all.size(0))
                                                  : xv_all.size(0);
  const torch::Tensor xv = xv_all.narrow(0, 0, nv), yv = yv_all.narrow(0, 0, nv);
  torch::optim::SGD opt(net.parameters(), torch::optim::SGDOptions(o.lr)
                                               .momentum(o.momentum)
                                               .nesterov(o.momentum > 0)
                                               .weight_decay(o.weight_decay));
  SupernetTrainResult result;
  std::int64_t step = 0;
  if (!o.checkpoint.empty() && std::ifstream(o.checkpoint).good()) {
    step = LoadCheckpoint(net, opt, o.checkpoint);
    result.resumed_from = step;
  }
  tbb::task_arena arena(o.workers);
  torch::Tensor order;
  int order_epoch = -1;
  net.train();
  while (step < total) {
    const int epoch = static_cast<int>(step / per_epoch);
    if (epoch != order_epoch) order = EpochOrder(n, o.seed, epoch), order_epoch = epoch;
    const std::int64_t start = (step % per_epoch) * o.batch_size;
    const torch::Tensor idx = order.narrow(0, start, std::min<std::int64_t>(o.batch_size, n - start));
    const torch::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
    const double lr = 0.5 * o.lr * (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
    for (auto& group : opt.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);

    const std::vector<space::Genotype> genotypes = SupernetStepGenotypes(net, o, step);
    std::vector<SubNetwork> subs(genotypes.size());
    std::vector<double> losses(genotypes.size(), 0);
    torch::Tensor teacher;
    size_t first_parallel = 0;
    if (o.rule == SupernetRule::kSandwich) {  // the largest first: the others learn from it
      subs[0] = net.Take(genotypes[0]);
      torch::Tensor logits;
      losses[0] = Backward(subs[0], xb, yb, torch::Tensor(), &logits);
      teacher = torch::softmax(logits, 1);
      first_parallel = 1;
    }
    arena.execute([&] {
      tbb::parallel_for(first_parallel, genotypes.size(), [&](size_t i) {
        at::set_num_threads(1);
        subs[i] = net.Take(genotypes[i]);
        losses[i] = Backward(subs[i], xb, yb, teacher, nullptr);
      });
    });
    if (!std::isfinite(losses[0]))
      throw std::runtime_error("supernet training diverged at step " + std::to_string(step) + " (loss " +
                               std::to_string(losses[0]) + "): lower the learning rate");
    for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();  // untouched slots: no step
    for (const auto& sub : subs) net.AddGradients(sub);  // fixed order: same sums for any worker count
    opt.step();
    ++step;

    SupernetProgress pr;
    pr.step = step, pr.total = total, pr.epoch = epoch, pr.loss = losses[0];
    const bool epoch_end = step % per_epoch == 0;
    if (epoch_end) {
      pr.epoch_end = true;
      pr.largest_accuracy = SubNetworkAccuracy(net, net.Largest(), x, xv, yv, o.calibration_images);
      pr.smallest_accuracy = SubNetworkAccuracy(net, net.Smallest(), x, xv, yv, o.calibration_images);
      result.largest_accuracy = pr.largest_accuracy, result.smallest_accuracy = pr.smallest_accuracy;
      net.train();
    }
    const bool stop = o.stop_after >= 0 && step >= o.stop_after;
    if (!o.checkpoint.empty() &&
        (epoch_end || stop || step == total || (o.checkpoint_every > 0 && step % o.checkpoint_every == 0)))
      SaveCheckpoint(net, opt, step, o.checkpoint);
    pr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(pr);
    if (stop) {
      result.stopped = true;
      break;
    }
  }
  result.steps = step;
  return result;
}

void WriteInheritedWeights(const space::SearchSpace& space, const DatasetOptions& data, const TrainOptions& train,
                           const std::vector<space::Genotype>& genotypes, const std::vector<std::string>& paths) {
  const Dataset d = LoadDataset(data, false, false);  // as TrainEvaluator loads it
  Supernet net(space);
  LoadSupernet(*net, train.supernet);
  for (size_t i = 0; i < genotypes.size() && i < paths.size(); ++i) {
    space::GraphNet sub = CalibratedSubNetwork(*net, genotypes[i], d.train_x, train.supernet_calibration_images);
    SaveWeights(sub, paths[i]);
  }
}

void SaveSupernet(SupernetImpl& net, const std::string& path) {
  torch::serialize::OutputArchive root;
  WriteWeightsAndSlots(net, root);
  SaveAtomically(root, path);
}

void LoadSupernet(SupernetImpl& net, const std::string& path) {
  torch::serialize::InputArchive root, weights;
  try {
    root.load_from(path);
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read a supernet from it (" + std::string(e.what_without_backtrace()) + ")");
  }
  CheckSlots(net, root, path);
  root.read("weights", weights);
  net.load(weights);
}

}  // namespace paretonas::evaluator
