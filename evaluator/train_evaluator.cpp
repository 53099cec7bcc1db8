#include "evaluator/train_evaluator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include "evaluator/cuda_graph.h"
#include "evaluator/dataset.h"
#include "evaluator/inherit.h"
#include "evaluator/latency.h"
#include "evaluator/proxies.h"
#include "evaluator/sgd_update.h"
#include "evaluator/train_layout.h"
#include "evaluator/user_data.h"
#include "space/graph_net.h"
#include "space/input_error.h"

namespace paretonas::evaluator {
namespace {

using Clock = std::chrono::steady_clock;

/// Trainers hold the gate shared for one step; a latency measurement holds it exclusively, so
/// it runs with no training on the cores. Writers are preferred: a waiting measurement stops
/// new steps from starting.
class CoreGate {
 public:
  void EnterShared() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return writers_waiting_ == 0 && !writer_active_; });
    ++readers_;
  }
  void LeaveShared() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--readers_ == 0) cv_.notify_all();
  }
  void EnterExclusive() {
    std::unique_lock<std::mutex> lock(mu_);
    ++writers_waiting_;
    cv_.wait(lock, [&] { return readers_ == 0 && !writer_active_; });
    --writers_waiting_;
    writer_active_ = true;
  }
  void LeaveExclusive() {
    std::lock_guard<std::mutex> lock(mu_);
    writer_active_ = false;
    cv_.notify_all();
  }

  /// Holds `gate` shared (or exclusively) while alive, also when what it guards throws;
  /// nothing for a null gate.
  class Hold {
   public:
    explicit Hold(CoreGate* gate, bool exclusive = false) : gate_(gate), exclusive_(exclusive) {
      if (gate_) exclusive_ ? gate_->EnterExclusive() : gate_->EnterShared();
    }
    ~Hold() {
      if (gate_) exclusive_ ? gate_->LeaveExclusive() : gate_->LeaveShared();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    CoreGate* gate_;
    bool exclusive_;
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_active_ = false;
};

struct LoopResult {
  bool ok = true;
  std::string failure;
  double loss = 0;
  std::int64_t steps = 0;       ///< steps of the schedule done (a continuation included)
  std::int64_t images = 0;      ///< training images the network has seen, all rungs
  std::int64_t images_run = 0;  ///< of them, processed by this loop
  bool continued = false;       ///< started from a saved state
  std::int64_t graph_steps = 0;    ///< steps replayed as a CUDA graph (TrainOptions::cuda_graphs)
  std::int64_t eager_steps = 0;    ///< steps launched op by op
  std::int64_t skipped_steps = 0;  ///< fp16: updates skipped for inf/NaN gradients
};

/// Says once per process why CUDA graphs were not used for some training (stderr).
void NoteEagerOnce(const std::string& why) {
  static std::mutex mu;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mu);
  if (said.insert(why).second) std::cerr << "paretonas: CUDA graphs not used: " << why << "; these steps run eagerly\n";
}

/// Forward pass and loss in reduced precision (TrainOptions::precision) while alive; nothing for
/// fp32. Autocast's cast cache is off: a cached bf16 copy of a weight would outlive the update
/// (and a captured graph must cast the weights it reads at every replay).
class AutocastScope {
 public:
  explicit AutocastScope(const std::string& precision) : on_(precision != "fp32") {
    if (!on_) return;
    const at::ScalarType dtype = precision == "bf16" ? at::kBFloat16 : at::kHalf;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    was_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
#endif
    was_cache_ = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~AutocastScope() {
    if (!on_) return;
    at::autocast::set_autocast_cache_enabled(was_cache_);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, was_dtype_);
#else
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
#endif
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  bool was_enabled_ = false;
  bool was_cache_ = true;
  at::ScalarType was_dtype_ = at::kFloat;
};

/// fp16's loss scale (TrainOptions::precision): PyTorch's GradScaler arithmetic, on the device.
struct LossScale {
  torch::Tensor scale, growth_tracker;
  explicit LossScale(const torch::Device& device)
      : scale(torch::full({1}, 65536.0, torch::TensorOptions().dtype(torch::kFloat32).device(device))),
        growth_tracker(torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device))) {}
  /// Unscales the gradients of `params` in place; true when they are all finite (reads the
  /// device: the step must be skipped otherwise). Updates the scale.
  bool Unscale(const std::vector<torch::Tensor>& params) {
    std::vector<torch::Tensor> grads;
    for (const auto& p : params)
      if (p.grad().defined()) grads.push_back(p.grad());
    torch::Tensor found_inf = torch::zeros({1}, scale.options());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, scale.reciprocal());
    const bool finite = found_inf.item<float>() == 0.0f;
    at::_amp_update_scale_(scale, growth_tracker, found_inf, 2.0, 0.5, 2000);
    return finite;
  }
};

/// An SGD training step (momentum, Nesterov, weight decay: torch::optim::SGD's update) whose
/// learning rate lives in a device tensor, captured once as a CUDA graph and replayed
/// (TrainOptions::cuda_graphs). Full batches replay the graph; a batch of another size (the
/// last of an epoch) runs the same code eagerly. Built only where capture succeeded: on failure
/// the network is as it was and `why_not` says why.
class GraphedSgd {
 public:
  GraphedSgd(space::GraphNet& net, const TrainOptions& o, torch::MemoryFormat layout,
             const torch::Tensor& first_x, const torch::Tensor& first_y, const torch::Device& device)
      : net_(net), o_(o), params_(net->parameters()) {
    loss_opts_.label_smoothing(o.label_smoothing);
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    neg_lr_ = torch::zeros({}, f32);
    if (o.momentum > 0)
      for (const auto& p : params_) bufs_.push_back(torch::zeros_like(p));
    static_x_ = InLayout(first_x.to(device).clone(), layout);
    static_y_ = first_y.to(device).clone();
    batch_ = static_x_.size(0);
    // Warm-up (cuDNN and cuBLAS handles and workspaces, autograd's first pass) on this stream,
    // then everything the warm-up changed is put back, so that training starts where eager
    // training would.
    std::vector<torch::Tensor> state = params_;
    for (const auto& b : net->buffers()) state.push_back(b);
    std::vector<torch::Tensor> saved;
    {
      torch::NoGradGuard no_grad;
      for (const auto& t : state) saved.push_back(t.clone());
    }
    for (int i = 0; i < 2; ++i) Body(static_x_, static_y_);
    auto restore = [&] {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < state.size(); ++i) state[i].copy_(saved[i]);
      for (auto& b : bufs_) b.zero_();
      for (auto& p : params_) p.mutable_grad().reset();
    };
    restore();
    // Gradients are unset, so the captured backward writes them fresh (no accumulation) into
    // the graph's own memory at every replay.
    graph_ = CapturedStep::Capture([&] { static_loss_ = Body(static_x_, static_y_); }, &why_not_);
    if (graph_)
      for (const auto& p : params_) graph_grads_.push_back(p.grad());
    restore();
  }
  ~GraphedSgd() {
    for (auto& p : params_) p.mutable_grad().reset();
  }
  GraphedSgd(const GraphedSgd&) = delete;
  GraphedSgd& operator=(const GraphedSgd&) = delete;
  bool ok() const { return graph_ != nullptr; }
  const std::string& why_not() const { return why_not_; }

  /// One step on (bx, by) at learning rate `lr`; the loss (a device tensor). Counts the step.
  torch::Tensor Step(const torch::Tensor& bx, const torch::Tensor& by, double lr, LoopResult& r) {
    neg_lr_.fill_(-lr);
    if (bx.size(0) == batch_) {
      static_x_.copy_(bx);
      static_y_.copy_(by);
      graph_->Replay();
      ++r.graph_steps;
      return static_loss_;
    }
    // The graph's gradient tensors stay alive in graph_grads_; the eager step makes its own.
    for (auto& p : params_) p.mutable_grad().reset();
    torch::Tensor loss = Body(bx, by);  // TrainLoop passes batches in the training layout
    for (auto& p : params_) p.mutable_grad().reset();
    ++r.eager_steps;
    return loss;
  }

 private:
  torch::Tensor Body(const torch::Tensor& x, const torch::Tensor& y) {
    torch::Tensor loss;
    {
      AutocastScope autocast(o_.precision);
      loss = torch::nn::functional::cross_entropy(net_->forward(x), y, loss_opts_);
    }
    loss.backward();
    // Nesterov, as TrainLoop's torch::optim::SGD (nesterov = momentum > 0).
    SgdUpdate(params_, bufs_, neg_lr_, o_.momentum, o_.weight_decay, o_.momentum > 0);
    return loss.detach();
  }

  space::GraphNet& net_;
  const TrainOptions& o_;
  std::vector<torch::Tensor> params_, bufs_, graph_grads_;
  torch::nn::functional::CrossEntropyFuncOptions loss_opts_;
  torch::Tensor neg_lr_, static_x_, static_y_, static_loss_;
  std::int64_t batch_ = 0;
  std::unique_ptr<CapturedStep> graph_;
  std::string why_not_;
};

/// Why a training that asks for CUDA graphs (TrainOptions::UseCudaGraphs) runs eagerly ("" when
/// it can be captured).
std::string WhyEager(const TrainOptions& o, bool rungs) {
  if (!CudaGraphsBuilt()) return "this build's LibTorch has no CUDA graphs";
  if (o.optimizer != "sgd") return "training.optimizer " + o.optimizer + " (graphs capture SGD)";
  if (o.precision == "fp16") return "training.precision fp16 (a skipped step needs the host)";
  if (rungs) return "multi-fidelity rungs (their saved states hold torch::optim's state)";
  return "";
}

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

/// A part of a training: steps [done in `state_in`, `stop`) of a cosine schedule over `total`
/// steps (multi-fidelity rungs). Without one a loop trains its whole budget.
struct TrainSpan {
  std::int64_t total = 0;
  std::int64_t stop = 0;
  std::string state_in;   ///< continue from this saved state (when the file exists)
  std::string state_out;  ///< save the state reached here (when set)
};

/// Writes `archive` to `path` atomically: to a temporary file, then renamed.
void SaveAtomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  }
}

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

LoopResult TrainLoop(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                     const TrainOptions& o, int epochs, bool augment, at::Generator& gen,
                     const torch::Device& device, CoreGate* gate,
                     const TrainProgress& progress = {}, const TrainSpan* span = nullptr) {
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

/// Top-1 accuracy (%) on (x, y), counted with the network and each chunk in `layout` (the search
/// passes the training layout: channels-last on CPU, where NCHW took 1.6x as long and most of a
/// low rung's time, bench/RESULTS.md); the network is back in NCHW afterwards.
double Accuracy(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                const torch::Device& device, torch::MemoryFormat layout = torch::MemoryFormat::Contiguous) {
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

/// A copy of `net` whose BatchNorm running statistics are recomputed, as a plain average, from
/// the first `batches` training batches in order (no augmentation, no gradients): what the
/// weights of this moment would have as statistics, not the lagging average of training.
space::GraphNet WithPreciseBatchNorm(space::GraphNet& net, const torch::Tensor& x, int batch_size,
                                     int batches, const torch::Device& device,
                                     torch::MemoryFormat layout = torch::MemoryFormat::Contiguous) {
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

/// Saves the network's parameters and buffers to `path` atomically (rename), as trained weights
/// a child can inherit.
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


}  // namespace

namespace {

/// On a CUDA device each evaluation runs on a stream of its own from LibTorch's pool, so that
/// several workers' candidates train concurrently on one GPU (the device-generic c10 API keeps
/// this free of CUDA headers, so the CPU build compiles the same code).
void UseOwnStream(const torch::Device& device, c10::OptionalStreamGuard& guard) {
  if (!device.is_cuda()) return;
  c10::impl::VirtualGuardImpl impl(device.type());
  guard.reset_stream(impl.getStreamFromGlobalPool(device, /*isHighPriority=*/false));
}

/// On CUDA, unaugmented data moves to the GPU once and batches are sliced there; augmented data
/// stays on the host, where the crops and flips are drawn.
torch::Tensor PlaceForTraining(const torch::Tensor& t, const torch::Device& device, bool augment) {
  return device.is_cuda() && !augment ? t.to(device) : t;
}

/// Deterministic cuDNN kernels: same seed, same metrics, whatever the worker count.
void UseDeterministicKernels(const torch::Device& device) {
  if (!device.is_cuda()) return;
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
}

}  // namespace

struct TrainEvaluator::Impl {
  const space::SearchSpace& space;
  DatasetOptions data_options;
  TrainOptions options;
  Dataset data;
  torch::Device device{torch::kCPU};
  CoreGate gate;
  // Training and validation tensors on the device, copied once and shared read-only by the
  // workers (on the CPU these alias `data`). Augmented datasets stay on the host, where the
  // crops and flips are drawn.
  torch::Tensor train_x, train_y, val_x, val_y;
  // The sample of the held-out images that rungs below the top validate on
  // (TrainOptions::rung_validation); undefined when they use all.
  torch::Tensor rung_val_x, rung_val_y;
};

TrainEvaluator::TrainEvaluator(const space::SearchSpace& space, const DatasetOptions& data,
                               const TrainOptions& train)
    : impl_(new Impl{space, data, train, {}, torch::Device(torch::kCPU), {}}) {
  const std::string problem = train.Validate();
  if (!problem.empty()) throw InputError(problem);
  impl_->device = ResolveDevice(train.device);
  impl_->data = LoadDataset(data, false, false);
  if (!impl_->data.val_x.defined())
    throw InputError("dataset.validation: 0 leaves no validation images to select with");
  UseDeterministicKernels(impl_->device);
  const auto place = [&](const torch::Tensor& t) { return PlaceForTraining(t, impl_->device, data.augment); };
  impl_->train_x = place(impl_->data.train_x);
  impl_->train_y = place(impl_->data.train_y);
  impl_->val_x = place(impl_->data.val_x);
  impl_->val_y = place(impl_->data.val_y);
  const std::int64_t n_val = impl_->data.val_x.size(0);
  if (train.rung_validation > 0 && train.rung_validation < n_val) {
    // A fixed sample, stratified by class, in the held-out set's order.
    const torch::Tensor labels = impl_->data.val_y.to(torch::kCPU).to(torch::kInt64).contiguous();
    std::vector<std::int64_t> y(labels.data_ptr<std::int64_t>(), labels.data_ptr<std::int64_t>() + n_val);
    std::vector<std::int64_t> pick, rest;
    StratifiedSplit(y, train.rung_validation, 0, 0x7a11da7eULL, &rest, &pick);
    const torch::Tensor idx = torch::tensor(pick, torch::kInt64);
    impl_->rung_val_x = place(impl_->data.val_x.index_select(0, idx));
    impl_->rung_val_y = place(impl_->data.val_y.index_select(0, idx));
  }
}

TrainEvaluator::~TrainEvaluator() = default;

void TrainEvaluator::PrepareWorkerThread() {
  at::init_num_threads();
  at::set_num_threads(impl_->options.threads_per_worker);
}

std::string TrainEvaluator::Describe() const {
  std::ostringstream s;
  s << "train " << impl_->data.description << " (" << impl_->data.train_x.size(0) << " train / "
    << impl_->data.val_x.size(0) << " val), " << impl_->options.device << ", "
    << impl_->options.threads_per_worker << " thread(s) per worker";
  return s.str();
}

EvalResult TrainEvaluator::Evaluate(const EvalRequest& request) {
  const auto start = Clock::now();
  EvalResult r;
  r.trial_id = request.trial_id;
  const TrainOptions& o = impl_->options;
  const std::string bad = impl_->space.CheckGenotype(request.genotype);
  if (!bad.empty()) {
    r.failure = bad;
    return r;
  }
  const space::StaticCosts costs = impl_->space.Costs(request.genotype);
  r.metrics["macs"] = static_cast<double>(costs.macs_pruned);
  r.metrics["activation_bytes"] = static_cast<double>(costs.activation_bytes);
  r.metrics["params"] = static_cast<double>(costs.params_pruned);
  const std::string reject = RejectReason(costs, o);
  if (!reject.empty()) {
    r.failure = reject;
    return r;
  }
  c10::OptionalStreamGuard stream_guard;  // restores the thread's stream when the evaluation ends
  UseOwnStream(impl_->device, stream_guard);
  space::GraphNet net(impl_->space.Plan(request.genotype), space::GraphNetOptions{});
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(request.seed);
  space::InitializeParameters(*net, gen);
  net->to(impl_->device);
  // Zero-cost proxies score the initialised network (a copy each), before its first training.
  if (!o.proxies.empty() && request.rung <= 0) {
    const auto p0 = Clock::now();
    // The batch comes from a generator of its own, so that the training's stays untouched.
    at::Generator batch_gen = at::make_generator<at::CPUGeneratorImpl>(request.seed ^ 0x9e3779b97f4a7c15ULL);
    const std::int64_t n = impl_->train_x.size(0);
    const torch::Tensor idx =
        torch::randperm(n, batch_gen, torch::kInt64).narrow(0, 0, std::min<std::int64_t>(n, o.proxy_batch));
    const torch::Tensor bx = impl_->train_x.index_select(0, idx.to(impl_->train_x.device())).to(impl_->device);
    const torch::Tensor by = impl_->train_y.index_select(0, idx.to(impl_->train_y.device())).to(impl_->device);
    auto copy = [&]() -> std::pair<std::shared_ptr<torch::nn::Module>, Forward> {
      auto c = std::dynamic_pointer_cast<space::GraphNetImpl>(net->clone(impl_->device));
      return {c, [c](const torch::Tensor& t) { return c->forward(t); }};
    };
    try {
      CoreGate::Hold hold(&impl_->gate);
      for (const auto& [name, value] : ComputeProxies(o.proxies, copy, bx, by)) r.metrics[name] = value;
    } catch (const c10::Error& e) {
      r.failure = std::string("zero-cost proxies: ") + e.what_without_backtrace();
      return r;
    }
    r.metrics["proxy_seconds"] = std::chrono::duration<double>(Clock::now() - p0).count();
  }
  if (request.rung == search::kPrescreenRung) {  // the pre-screen: no training
    r.ok = true;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return r;
  }
  if (!request.parent_weights.empty()) {
    // Inheritance: the tensors of every operation a parent shares with this network (a later
    // rung's saved state, when there is one, replaces them, as it holds them already trained on).
    Inherited inherited;
    for (size_t i = 0; i < request.parent_weights.size() && i < request.parent_genotypes.size(); ++i) {
      const std::string& path = request.parent_weights[i];
      if (!std::ifstream(path).good()) continue;  // the search only names files it has
      try {
        space::GraphNet parent(impl_->space.Plan(request.parent_genotypes[i]), space::GraphNetOptions{});
        torch::serialize::InputArchive archive;
        archive.load_from(path, impl_->device);
        parent->load(archive);
        parent->to(impl_->device);
        const Inherited got = InheritShared(*net, *parent, inherited.edges);
        inherited.tensors += got.tensors;
        inherited.elements += got.elements;
        inherited.edges.insert(got.edges.begin(), got.edges.end());
      } catch (const c10::Error& e) {
        r.failure = "inherited weights " + path + ": " + e.what_without_backtrace();
        return r;
      }
    }
    r.metrics["inherited_tensors"] = inherited.tensors;
    r.metrics["inherited_params"] = static_cast<double>(inherited.elements);
    const std::int64_t total = net->NumParameters();
    r.metrics["inherited_share"] = total > 0 ? static_cast<double>(inherited.elements) / static_cast<double>(total) : 0.0;
  }
  TrainSpan span;
  if (request.rung >= 0) {
    // Multi-fidelity: the rung's resource in steps of a schedule over the top rung's.
    const std::int64_t n = impl_->train_x.size(0);
    const std::int64_t per_epoch = std::max<std::int64_t>(1, (n + o.batch_size - 1) / o.batch_size);
    auto steps = [&](double resource) -> std::int64_t {
      if (request.resource_unit == "epochs") return std::llround(resource * static_cast<double>(per_epoch));
      if (request.resource_unit == "images")
        return static_cast<std::int64_t>(std::ceil(resource / static_cast<double>(o.batch_size)));
      return std::llround(resource);
    };
    span.total = steps(request.max_resource);
    span.stop = std::min(span.total, steps(request.resource));
    span.state_in = request.state_in;
    span.state_out = request.state_out;
    if (span.stop < 1) {
      r.failure = "rung " + std::to_string(request.rung) + " (" + std::to_string(request.resource) +
                  " " + request.resource_unit + ") is less than one training step of " +
                  std::to_string(o.batch_size) + " images";
      return r;
    }
  }
  const auto t0 = Clock::now();
  LoopResult loop;
  try {
    loop = TrainLoop(net, impl_->train_x, impl_->train_y, o, o.epochs, impl_->data_options.augment,
                     gen, impl_->device, &impl_->gate, {}, request.rung >= 0 ? &span : nullptr);
  } catch (const c10::Error& e) {
    if (request.rung < 0) throw;
    // A damaged or unreadable saved state: record it as the trial's failure, with the file.
    r.failure = "training state " + span.state_in + " or " + span.state_out + ": " + e.what_without_backtrace();
    return r;
  }
  r.metrics["train_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!loop.ok) {
    r.failure = loop.failure;
    return r;
  }
  r.metrics["train_loss"] = loop.loss;
  r.metrics["train_images"] = static_cast<double>(loop.images);
  const bool below_top = request.rung >= 0 && span.stop < span.total;
  r.metrics["train_images_run"] = static_cast<double>(loop.images_run);
  if (impl_->device.is_cuda()) {  // how the steps ran (TrainOptions::cuda_graphs)
    r.metrics["graph_steps"] = static_cast<double>(loop.graph_steps);
    r.metrics["eager_steps"] = static_cast<double>(loop.eager_steps);
  }
  if (o.precision == "fp16") r.metrics["skipped_steps"] = static_cast<double>(loop.skipped_steps);
  if (request.rung >= 0) {
    r.metrics["train_steps"] = static_cast<double>(loop.steps);
    r.metrics["continued"] = loop.continued ? 1.0 : 0.0;
  }
  double acc = 0;
  const bool sample = below_top && impl_->rung_val_x.defined();
  const torch::Tensor& vx = sample ? impl_->rung_val_x : impl_->val_x;
  const torch::Tensor& vy = sample ? impl_->rung_val_y : impl_->val_y;
  if (sample) r.metrics["val_images"] = static_cast<double>(vx.size(0));
  const auto v0 = Clock::now();
  // Validation counts in the layout the network trained in (channels-last on CPU: NCHW made it
  // the larger part of a low rung's time); the network returns to NCHW for what follows.
  const torch::MemoryFormat layout = TrainingLayout(impl_->device, o.layout);
  if (below_top && o.rung_bn_batches > 0) {
    space::GraphNet probe = WithPreciseBatchNorm(net, impl_->train_x, o.batch_size, o.rung_bn_batches,
                                                 impl_->device, layout);
    acc = Accuracy(probe, vx, vy, impl_->device, layout);
  } else {
    acc = Accuracy(net, vx, vy, impl_->device, layout);
  }
  // Validation's share of the evaluation (a low rung's recomputed BatchNorm statistics included).
  r.metrics["val_seconds"] = std::chrono::duration<double>(Clock::now() - v0).count();
  r.metrics["val_accuracy"] = acc;
  r.metrics["val_error"] = 100.0 - acc;
  r.metrics["params"] = static_cast<double>(net->NumParameters());
  // Latency does not depend on training: a multi-fidelity trial measures it at its first rung
  // and the search carries it to the later ones.
  const bool first_rung = request.rung <= 0;
  if (first_rung && o.measure_latency) {
    Latency lat;
    Clock::time_point held;
    {
      CoreGate::Hold hold(&impl_->gate, /*exclusive=*/true);
      held = Clock::now();  // from here no trainer of this evaluator launches a step
      lat = MeasureLatency(net, impl_->data.input,
                           LatencyOptions{o.latency_threads, o.latency_warmup, o.latency_repeats},
                           impl_->device);
    }
    // The time training was held for this measurement: summed over trials and divided by the
    // search's wall time, the share of the device's time that measurement takes.
    r.metrics["latency_seconds"] = std::chrono::duration<double>(Clock::now() - held).count();
    r.metrics["latency_ms"] = lat.median_ms;
    r.metrics["latency_iqr_ms"] = lat.iqr_ms;
    r.metrics["peak_activation_bytes"] = static_cast<double>(lat.peak_bytes);
  } else if (first_rung) {
    net->eval();
    const auto& s = impl_->data.input.shape;
    r.metrics["peak_activation_bytes"] = static_cast<double>(
        PeakForwardBytes(net, torch::zeros({1, s.c, s.h, s.w}).to(impl_->device)));
  }
  r.metrics["model_bytes"] = static_cast<double>(ModelBytes(net));
  if (!request.weights_out.empty() && !below_top) SaveWeights(net, request.weights_out);
  r.ok = true;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

FinalTraining TrainFinal(const space::SearchSpace& space, const space::Genotype& genotype,
                         const DatasetOptions& data_options, TrainOptions train, int epochs,
                         std::uint64_t seed, const std::string& weights_path,
                         const TrainProgress& progress) {
  FinalTraining f;
  const torch::Device device = ResolveDevice(train.device);
  UseDeterministicKernels(device);
  c10::OptionalStreamGuard stream_guard;  // several retrainings may share one GPU (export --jobs)
  UseOwnStream(device, stream_guard);
  const Dataset data = LoadDataset(data_options, true, true);
  space::GraphNet net(space.Plan(genotype), space::GraphNetOptions{});
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  space::InitializeParameters(*net, gen);
  net->to(device);
  train.steps = 0;
  const auto t0 = Clock::now();
  const LoopResult loop = TrainLoop(net, PlaceForTraining(data.train_x, device, data_options.augment),
                                    PlaceForTraining(data.train_y, device, data_options.augment),
                                    train, epochs, data_options.augment, gen, device, nullptr,
                                    progress);
  f.train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!loop.ok) {
    f.failure = loop.failure;
    return f;
  }
  f.test_accuracy = Accuracy(net, data.test_x, data.test_y, device);
  f.params = net->NumParameters();
  net->to(torch::kCPU);
  torch::save(net, weights_path);
  f.weights_path = weights_path;
  f.ok = true;
  return f;
}

}  // namespace paretonas::evaluator
