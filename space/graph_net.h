// GraphNet: a LibTorch module that runs a NetworkPlan in topological order.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "space/network_plan.h"

namespace paretonas::space {

struct GraphNetOptions {
  /// Build edges that cannot reach the output or be reached (NB201's PyTorch code does).
  bool keep_dead_edges = false;
};

/// Each edge's operation is a submodule named "e<edge id>", registered in reset() so that clone()
/// works. A vertex is the sum of its incoming edges; a vertex with none is zero.
class GraphNetImpl : public torch::nn::Cloneable<GraphNetImpl> {
 public:
  GraphNetImpl(NetworkPlan plan, GraphNetOptions options);
  void reset() override;
  /// x: [batch, c, h, w] -> logits [batch, classes].
  torch::Tensor forward(torch::Tensor x);

  const NetworkPlan& plan() const { return plan_; }
  /// Number of elements of all parameters.
  std::int64_t NumParameters() const;

 private:
  bool Built(const PlanEdge& e) const;
  NetworkPlan plan_;
  GraphNetOptions options_;
  std::vector<torch::nn::AnyModule> ops_;  // parallel to plan_.edges; empty for skip/none/dead
};
TORCH_MODULE(GraphNet);

/// While one lives, every ReLU (and ReLU6) of a GraphNet that runs on this thread hands its input
/// to `fn` before applying itself: how the NASWOT proxy reads the activation patterns of a batch.
/// One per thread at a time; GraphNets on other threads are not affected.
class ReluProbe {
 public:
  explicit ReluProbe(std::function<void(const torch::Tensor&)> fn);
  ~ReluProbe();
  ReluProbe(const ReluProbe&) = delete;
  ReluProbe& operator=(const ReluProbe&) = delete;

 private:
  std::function<void(const torch::Tensor&)> fn_;
  const std::function<void(const torch::Tensor&)>* previous_;
};

/// relu(x), showing x to this thread's ReluProbe first (what the GraphNet's ReLUs do).
torch::Tensor ProbedReluFn(const torch::Tensor& x);

/// Re-draws every parameter from `generator` (conv: Kaiming normal, fan-out; linear: N(0, 0.01);
/// BN weight 1, every bias 0). Deterministic, unlike the constructors' global-generator init.
void InitializeParameters(torch::nn::Module& module, at::Generator generator);

}  // namespace paretonas::space
