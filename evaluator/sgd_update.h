// The SGD update of a captured training step (TrainOptions::cuda_graphs). Needs LibTorch
// (include only in torch units).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace paretonas::evaluator {

/// torch::optim::SGD's update (weight decay, then momentum, Nesterov when `nesterov`, no
/// dampening) with the learning rate in a tensor: `neg_lr` holds -lr (0-dim, on the parameters'
/// device), so that a captured CUDA graph reads the schedule's current value at every replay
/// instead of the value it was captured with. `bufs` are the momentum buffers, parallel to
/// `params` and zero before the first step (then buf = grad, as torch::optim's first step sets
/// it); unused when momentum is 0. Parameters without a gradient are skipped, as torch::optim
/// skips them. Equal to torch::optim::SGD to float rounding (torch_test checks it on the CPU).
inline void SgdUpdate(std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& bufs,
                      const torch::Tensor& neg_lr, double momentum, double weight_decay,
                      bool nesterov) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor& p = params[i];
    torch::Tensor d = p.grad();
    if (!d.defined()) continue;
    if (weight_decay != 0) d = d.add(p, weight_decay);
    if (momentum > 0) {
      bufs[i].mul_(momentum).add_(d);
      d = nesterov ? d.add(bufs[i], momentum) : bufs[i];
    }
    p.addcmul_(d, neg_lr);
  }
}

}  // namespace paretonas::evaluator
