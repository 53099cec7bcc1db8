#include "evaluator/train_loop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "evaluator/graphed_sgd.h"
#include "evaluator/reduced_precision.h"
#include "evaluator/train_layout.h"

namespace paretonas::evaluator {
namespace {

void SetLr(torch::optim::Optimizer& opt, const std::string& kind, double lr) {
  for (auto& group : opt.param_groups()) {
    if (kind == "adamw") static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    else static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
}

torch::Tensor Augment(const torch::Tensor& x, at::Generator& gen) {
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  auto flip = (torch::rand({b}, gen) < 0.5).view({b, 1, 1, 1});
  auto flipped = torch::where(flip, x.flip({3}), x);
  auto padded = torch::constant_pad_nd(flipped, {4, 4, 4, 4}, 0);
  auto offs = torch::randint(0, 9, {b, 2}, gen, torch::kInt64);
  auto acc = offs.accessor<int64_t, 2>();
  std::vector<torch::Tensor> crops;
  crops.reserve(b);
  for (int64_t i = 0; i < b; ++i)
    crops.push_back(padded[i].narrow(1, acc[i][0], h).narrow(2, acc[i][1], w));
  return torch::stack(crops);
}

/// On CUDA the loss (a NaN check) is read back every this many steps.
constexpr int64_t kCudaLossEvery = 25;

/// Saves what a training needs to continue exactly: weights and buffers, optimizer state, the
/// generator, the epoch's permutation, the step and the images trained on. Atomic (rename).
void SaveTrainState(const std::string& path, space::GraphNet& net, torch::optim::Optimizer& opt,
                    at::Generator& gen, const torch::Tensor& perm, std::int64_t step,
                    std::int64_t images, float loss) {
  torch::serialize::OutputArchive root, net_archive, opt_archive;
  net->save(net_archive);
  opt.save(opt_archive);
  root.write("net", net_archive);
  root.write("optimizer", opt_archive);
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    root.write("generator", gen.get_state());
  }
  root.write("perm", perm.defined() ? perm : torch::empty({0}, torch::kInt64));
  root.write("step", torch::tensor({step, images}, torch::kInt64));
  root.write("loss", torch::tensor({loss}, torch::kFloat32));
  SaveAtomically(root, path);
}

}  // namespace

void SaveAtomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  }
}

LoopResult TrainLoop(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                     const TrainOptions& o, int epochs, bool augment, at::Generator& gen,
                     const torch::Device& device, CoreGate* gate,
                     const TrainProgress& progress, const TrainSpan* span) {
  LoopResult r;
  auto params = net->parameters();
  if (params.empty()) return r;  // a network without parameters has nothing to train
  const torch::MemoryFormat layout = TrainingLayout(device, o.layout);
  // Measured and exported as users deploy it: back to the default layout when training ends.
  const ScopedLayout in_layout(*net, layout);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (o.optimizer == "adamw") {
    opt = std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  } else {
    opt = std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay)
                    .nesterov(o.momentum > 0));
  }
  const int64_t n = x.size(0);
  const int64_t per_epoch = std::max<int64_t>(1, (n + o.batch_size - 1) / o.batch_size);
  const int64_t total = span ? span->total : o.steps > 0 ? o.steps : per_epoch * epochs;
  const int64_t stop = span ? span->stop : total;
  auto loss_opts = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing);
  torch::Tensor perm;
  int64_t first = 0;
  if (span && !span->state_in.empty() && std::ifstream(span->state_in).good()) {
    torch::serialize::InputArchive root, opt_archive;
    root.load_from(span->state_in, device);
    // The weights were saved in the training layout; the parameters keep their objects, so
    // the optimizer built above still holds them.
    torch::serialize::InputArchive net_archive;
    root.read("net", net_archive);
    net->load(net_archive);
    net->to(device);
    UseLayout(*net, layout);
    root.read("optimizer", opt_archive);
    opt->load(opt_archive);
    torch::Tensor gen_state, step_images, loss;
    root.read("generator", gen_state);
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(gen_state.to(torch::kCPU));
    }
    root.read("perm", perm);
    perm = perm.numel() == 0 ? torch::Tensor() : perm.to(torch::kCPU);
    root.read("step", step_images);
    root.read("loss", loss);
    step_images = step_images.to(torch::kCPU);
    first = step_images[0].item<int64_t>();
    r.images = step_images[1].item<int64_t>();
    r.loss = loss[0].item<float>();
    r.steps = first;
    r.continued = true;
  }
  net->train();
  // CUDA graphs (TrainOptions::cuda_graphs): captured at the first step of this loop.
  std::unique_ptr<GraphedSgd> graphed;
  const bool want_graphs = device.is_cuda() && o.UseCudaGraphs();
  const std::string why_eager = want_graphs ? WhyEager(o, span != nullptr) : "";
  if (want_graphs && why_eager.empty() && first < stop) {
    const int64_t len = std::min<int64_t>(o.batch_size, n);
    auto idx = torch::arange(len, torch::kInt64).to(x.device());
    {  // under the gate: a latency measurement's device synchronisation never meets a capture
      CoreGate::Hold hold(gate);
      graphed = std::make_unique<GraphedSgd>(net, o, layout, x.index_select(0, idx).to(device),
                                             y.index_select(0, idx).to(device), device);
    }
    if (!graphed->ok()) {
      NoteEagerOnce("capture failed: " + graphed->why_not());
      graphed.reset();
    }
  } else if (!why_eager.empty()) {
    NoteEagerOnce(why_eager);
  }
  std::unique_ptr<LossScale> scaler;
  if (o.precision == "fp16") scaler = std::make_unique<LossScale>(device);
  for (int64_t step = first; step < stop; ++step) {
    const int64_t in_epoch = step % per_epoch;
    if (in_epoch == 0) perm = torch::randperm(n, gen, torch::kInt64);
    const int64_t start = in_epoch * o.batch_size;
    const int64_t len = std::min<int64_t>(o.batch_size, n - start);
    auto idx = perm.narrow(0, start, len);
    // The data may already live on the device (see DeviceData): then only the indices travel.
    if (x.device() != idx.device()) idx = idx.to(x.device());
    auto bx = x.index_select(0, idx);
    auto by = y.index_select(0, idx);
    if (augment) bx = Augment(bx, gen);
    bx = InLayout(bx.to(device), layout);
    by = by.to(device);
    const double lr = 0.5 * o.lr * (1 + std::cos(M_PI * step / total));
    SetLr(*opt, o.optimizer, lr);
    float loss_value = 0;
    {
      CoreGate::Hold hold(gate);
      torch::Tensor loss;
      if (graphed) {
        loss = graphed->Step(bx, by, lr, r);
      } else {
        opt->zero_grad();
        {
          AutocastScope autocast(o.precision);
          loss = torch::nn::functional::cross_entropy(net->forward(bx), by, loss_opts);
        }
        if (scaler) {
          (loss * scaler->scale).backward();
          if (scaler->Unscale(params)) opt->step();
          else ++r.skipped_steps;
        } else {
          loss.backward();
          opt->step();
        }
        ++r.eager_steps;
      }
      // On CUDA, reading the loss waits for this stream; read it every kCudaLossEvery steps
      // (and at the last) so that the host queues ahead and other workers' streams overlap.
      if (!device.is_cuda() || (step + 1) % kCudaLossEvery == 0 || step + 1 == total)
        loss_value = loss.item<float>();
    }
    if (!std::isfinite(loss_value)) {
      r.ok = false;
      r.failure = "diverged: loss is " + std::to_string(loss_value) + " at step " +
                  std::to_string(step + 1);
      return r;
    }
    r.loss = loss_value;
    r.steps = step + 1;
    r.images += len;
    r.images_run += len;
    if (progress && ((step + 1) % std::max<int64_t>(1, total / 200) == 0 || step + 1 == total))
      progress(static_cast<double>(step + 1) / static_cast<double>(total));
  }
  if (span && !span->state_out.empty())
    SaveTrainState(span->state_out, net, *opt, gen, perm, r.steps, r.images, static_cast<float>(r.loss));
  return r;
}

double Accuracy(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                const torch::Device& device, torch::MemoryFormat layout) {
  torch::NoGradGuard no_grad;
  net->eval();
  constexpr int64_t kChunk = 1000;
  const ScopedLayout in_layout(*net, layout);
  int64_t correct = 0;
  for (int64_t s = 0; s < x.size(0); s += kChunk) {
    const int64_t len = std::min<int64_t>(kChunk, x.size(0) - s);
    auto pred = net->forward(InLayout(x.narrow(0, s, len).to(device), layout)).argmax(1);
    correct += pred.eq(y.narrow(0, s, len).to(device)).sum().item<int64_t>();
  }
  return x.size(0) ? 100.0 * static_cast<double>(correct) / static_cast<double>(x.size(0)) : 0.0;
}

space::GraphNet WithPreciseBatchNorm(space::GraphNet& net, const torch::Tensor& x, int batch_size,
                                     int batches, const torch::Device& device,
                                     torch::MemoryFormat layout) {
  auto copy = std::dynamic_pointer_cast<space::GraphNetImpl>(net->clone(device));
  space::GraphNet out(copy);
  UseLayout(*out, layout);
  std::vector<torch::nn::BatchNorm2dImpl*> bns;
  for (const auto& m : out->modules(/*include_self=*/false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) bns.push_back(bn);
  if (bns.empty()) return out;
  for (auto* bn : bns) {
    bn->reset_running_stats();
    bn->options.momentum(c10::nullopt);  // cumulative average over the batches below
  }
  torch::NoGradGuard no_grad;
  out->train();
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t start = b * batch_size;
    if (start >= x.size(0)) break;
    out->forward(InLayout(x.narrow(0, start, std::min<int64_t>(batch_size, x.size(0) - start)).to(device), layout));
  }
  return out;
}

void SaveWeights(space::GraphNet& net, const std::string& path) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  SaveAtomically(archive, path);
}

std::int64_t ModelBytes(space::GraphNet& net) {
  std::ostringstream out;
  torch::save(net, out);
  return static_cast<std::int64_t>(out.str().size());
}

}  // namespace paretonas::evaluator
