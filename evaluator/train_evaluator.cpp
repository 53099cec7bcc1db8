#include "evaluator/train_evaluator.h"
#include "evaluator/quantize.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include "evaluator/core_gate.h"
#include "evaluator/dataset.h"
#include "evaluator/inherit.h"
#include "evaluator/latency.h"
#include "evaluator/proxies.h"
#include "evaluator/supernet_train.h"
#include "evaluator/train_layout.h"
#include "evaluator/train_loop.h"
#include "evaluator/user_data.h"
#include "space/graph_net.h"
#include "space/input_error.h"

namespace paretonas::evaluator {
namespace {

using Clock = std::chrono::steady_clock;

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
  // The deploy stage's calibration images (TrainOptions::Int8), on the CPU.
  torch::Tensor calibration;
  // evaluator.kind: supernet: the weights every candidate inherits (read-only once loaded).
  std::unique_ptr<Supernet> supernet;
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
  if (!train.supernet.empty()) {
    impl_->supernet = std::make_unique<Supernet>(space);
    LoadSupernet(**impl_->supernet, train.supernet);
  }
  if (train.Int8()) {
    if (Int8Engine().empty())
      throw InputError("deploy.precision: int8, but this LibTorch has no quantized engine (int8 kernels)");
    impl_->calibration = CalibrationImages(impl_->data.train_x, train.calibration_images);
  }
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

bool TrainEvaluator::CanMeasureLatencies() const { return impl_->options.measure_latency; }

std::int64_t TrainEvaluator::CalibrationImagesUsed() const {
  return impl_->calibration.defined() ? impl_->calibration.size(0) : 0;
}

std::vector<EvalResult> TrainEvaluator::MeasureLatencies(const std::vector<EvalRequest>& requests) {
  CoreGate::Hold hold(&impl_->gate, /*exclusive=*/true);  // no trainer runs; nor may one start
  return MeasureRequests(impl_->space, requests, impl_->options, impl_->device);
}

std::string TrainEvaluator::Describe() const {
  std::ostringstream s;
  s << "train " << impl_->data.description << " (" << impl_->data.train_x.size(0) << " train / "
    << impl_->data.val_x.size(0) << " val), " << impl_->options.device << ", "
    << impl_->options.threads_per_worker << " thread(s) per worker";
  if (impl_->options.Int8())
    s << ", deployed as int8 (" << Int8Engine() << " kernels, " << impl_->options.calibration << " calibration on "
      << impl_->calibration.size(0) << " images)";
  return s.str();
}

namespace {

/// Quantization-aware fine-tuning (TrainOptions::finetune_epochs) of `net` on (x, y) with the
/// order of `seed`: the weights change in place; the int8 model is then quantized from them anew
/// (Int8Net::FineTune). Returns the last epoch's mean loss.
double FineTuneInt8(space::GraphNet& net, const torch::Tensor& calibration, const QuantizeOptions& qo,
                    const torch::Tensor& x, const torch::Tensor& y, const TrainOptions& o, std::uint64_t seed) {
  const Int8Net before(net, calibration, qo);
  FineTuneOptions f;
  f.epochs = o.finetune_epochs;
  f.batch = o.batch_size;
  // A thousandth of training's: with batch norm folded and frozen nothing renormalises the
  // activations, and on Fashion-MNIST (training.lr 0.2) a tenth diverged (loss 6.9 against 0.7)
  // and a hundredth cost up to 7 points on some networks (bench/RESULTS.md, 2026-12-06).
  f.lr = o.lr / 1000;
  f.momentum = o.momentum;
  f.seed = seed ^ 0x51ed270b27d1a3c5ULL;
  return before.FineTune(net, x, y, f);
}

/// The deploy stage (TrainOptions::Int8) of a trained `net` (on the CPU), calibrated on
/// `calibration`, fine-tuned first on (train_x, train_y) when TrainOptions::finetune_epochs: its
/// int8 metrics into `metrics`, the latency (holding `gate` as the fp32 latency does) and peak
/// memory only `with_latency`. Returns why it failed, or "".
std::string DeployInt8(space::GraphNet& net, const torch::Tensor& vx, const torch::Tensor& vy, bool with_latency,
                       const TrainOptions& o, const torch::Tensor& calibration, const space::InputSpec& input,
                       CoreGate* gate, std::map<std::string, double>* metrics, const torch::Tensor& train_x,
                       const torch::Tensor& train_y, std::uint64_t seed) {
  const auto q0 = Clock::now();
  net->eval();
  try {
    QuantizeOptions qo;
    qo.calibration = o.calibration;
    if (o.finetune_epochs > 0) {
      const auto f0 = Clock::now();
      (*metrics)["int8_finetune_loss"] = FineTuneInt8(net, calibration, qo, train_x, train_y, o, seed);
      (*metrics)["int8_finetune_seconds"] = std::chrono::duration<double>(Clock::now() - f0).count();
      net->eval();
    }
    const Int8Net q(net, calibration, qo);
    const double acc = Int8Accuracy(q, vx, vy);
    (*metrics)["int8_val_accuracy"] = acc;
    (*metrics)["int8_val_error"] = search::ErrorPercent(acc);
    (*metrics)["int8_model_bytes"] = static_cast<double>(q.ModelBytes());
    if (o.file_bytes) o.file_bytes(net, &q, metrics);
    (*metrics)["int8_seconds"] = std::chrono::duration<double>(Clock::now() - q0).count();
    if (!with_latency) return "";
    // Timed on weights packed anew: the validation's batches left the kernels' cache on their shape.
    const Int8Net timed = q.Repacked();
    const ForwardFn forward = [&timed](const torch::Tensor& x) { return timed.Forward(x); };
    if (!o.measure_latency) {
      const auto& s = input.shape;
      (*metrics)["int8_peak_memory_bytes"] = static_cast<double>(PeakForwardBytes(forward, torch::zeros({1, s.c, s.h, s.w})));
      return "";
    }
    Latency lat;
    {
      CoreGate::Hold hold(gate, /*exclusive=*/true);  // as the fp32 latency
      lat = MeasureLatency(forward, input, LatencyOptions{o.latency_threads, o.LatencyPolicy()},
                           torch::Device(torch::kCPU));
    }
    std::map<std::string, double> m;
    AddLatencyMetrics(lat.estimate, &m);
    for (const auto& [k, v] : m) (*metrics)["int8_" + k] = v;
    (*metrics)["int8_peak_memory_bytes"] = static_cast<double>(lat.peak_bytes);
  } catch (const c10::Error& e) {
    return std::string("int8 deploy stage: ") + e.what_without_backtrace();
  } catch (const std::exception& e) {
    return std::string("int8 deploy stage: ") + e.what();
  }
  return "";
}

}  // namespace

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
  if (impl_->supernet) {
    // No training: the weights of the supernet, BatchNorm statistics recomputed (deterministic).
    const auto c0 = Clock::now();
    net = CalibratedSubNetwork(**impl_->supernet, request.genotype, impl_->data.train_x, o.supernet_calibration_images);
    net->to(impl_->device);
    r.metrics["train_seconds"] = 0;
    r.metrics["calibration_seconds"] = std::chrono::duration<double>(Clock::now() - c0).count();
    r.metrics["supernet"] = 1;
  }
  const bool below_top = request.rung >= 0 && span.stop < span.total;
  if (!impl_->supernet) {
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
  space::GraphNet probe{nullptr};  // the network validated below the top rung, when not `net`
  if (below_top && o.rung_bn_batches > 0) {
    probe = WithPreciseBatchNorm(net, impl_->train_x, o.batch_size, o.rung_bn_batches, impl_->device, layout);
    acc = Accuracy(probe, vx, vy, impl_->device, layout);
  } else {
    acc = Accuracy(net, vx, vy, impl_->device, layout);
  }
  // Validation's share of the evaluation (a low rung's recomputed BatchNorm statistics included).
  r.metrics["val_seconds"] = std::chrono::duration<double>(Clock::now() - v0).count();
  r.metrics["val_accuracy"] = acc;
  r.metrics["val_error"] = search::ErrorPercent(acc);
  r.metrics["params"] = static_cast<double>(net->NumParameters());
  // Latency does not depend on training: a multi-fidelity trial measures it at its first rung
  // and the search carries it to the later ones.
  const bool first_rung = request.rung <= 0;
  if (first_rung && o.measure_latency && request.measure_latency) {
    Latency lat;
    Clock::time_point held;
    {
      CoreGate::Hold hold(&impl_->gate, /*exclusive=*/true);
      held = Clock::now();  // from here no trainer of this evaluator launches a step
      lat = MeasureLatency(net, impl_->data.input, LatencyOptions{o.latency_threads, o.LatencyPolicy()},
                           impl_->device);
    }
    // The time training was held for this measurement: summed over trials and divided by the
    // search's wall time, the share of the device's time that measurement takes.
    r.metrics["latency_seconds"] = std::chrono::duration<double>(Clock::now() - held).count();
    AddLatencyMetrics(lat.estimate, &r.metrics);
    r.metrics["peak_activation_bytes"] = static_cast<double>(lat.peak_bytes);
  } else if (first_rung && request.measure_latency) {
    net->eval();
    const auto& s = impl_->data.input.shape;
    r.metrics["peak_activation_bytes"] = static_cast<double>(
        PeakForwardBytes(net, torch::zeros({1, s.c, s.h, s.w}).to(impl_->device)));
  }
  r.metrics["model_bytes"] = static_cast<double>(ModelBytes(net));
  if (o.file_bytes) o.file_bytes(net, nullptr, &r.metrics);
  if (o.Int8()) {
    // Quantized as validated: below the top rung, the copy with recomputed BatchNorm statistics.
    // Its latency with the fp32 one: in the latency stage (journaled) when there is one.
    const std::string failure =
        DeployInt8(probe ? probe : net, vx, vy, first_rung && request.measure_latency, o, impl_->calibration,
                   impl_->data.input, &impl_->gate, &r.metrics, impl_->data.train_x, impl_->data.train_y, request.seed);
    if (!failure.empty()) {
      r.failure = failure;
      return r;
    }
  }
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
  if (train.Int8()) {
    net->eval();
    QuantizeOptions qo;
    qo.calibration = train.calibration;
    const torch::Tensor calibration = CalibrationImages(data.train_x, train.calibration_images);
    // Fine-tuned as the search does; the saved weights are the fine-tuned ones, which an int8
    // export quantizes on the same calibration images into this very model.
    if (train.finetune_epochs > 0) {
      FineTuneInt8(net, calibration, qo, data.train_x, data.train_y, train, seed);
      net->eval();
    }
    const Int8Net q(net, calibration, qo);
    f.int8_test_accuracy = Int8Accuracy(q, data.test_x, data.test_y);
  }
  torch::save(net, weights_path);
  f.weights_path = weights_path;
  f.ok = true;
  return f;
}

}  // namespace paretonas::evaluator
