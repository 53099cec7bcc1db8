// GraphedSgd: an SGD step captured once as a CUDA graph and replayed (TrainOptions::cuda_graphs),
// and why a training runs eagerly instead. Internal to evaluator/.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "evaluator/cuda_graph.h"
#include "evaluator/reduced_precision.h"
#include "evaluator/sgd_update.h"
#include "evaluator/train_layout.h"
#include "evaluator/train_loop.h"
#include "space/graph_net.h"

namespace paretonas::evaluator {

/// Says once per process why CUDA graphs were not used for some training (stderr).
void NoteEagerOnce(const std::string& why);

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
std::string WhyEager(const TrainOptions& o, bool rungs);

}  // namespace paretonas::evaluator
