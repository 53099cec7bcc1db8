// Zero-cost proxies: scores of an untrained network from one minibatch (or no data), computed
// in milliseconds to rank architectures before (or instead of) training them.
//
// Each function works on the module it is given and may change it (absolute weights, double
// precision, gradients): pass a copy. `forward` runs the module. BatchNorm is handled as
// Abdelfattah et al. ("Zero-Cost Proxies for Lightweight NAS", ICLR 2021) and their code do:
// synflow runs with every BatchNorm turned into the identity (their `bn=False`), the others in
// training mode, normalising with the batch's own statistics.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace paretonas::evaluator {

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

/// Sum over the weights θ of every Conv2d and Linear of |θ · ∂R/∂θ|, where R is the sum of the
/// outputs for an all-ones input of `input_shape` ([1, c, h, w]) with every parameter replaced
/// by its absolute value; in double precision, BatchNorm as the identity. Data-free. 0 when no
/// weight reaches the output (snip and grad_norm too).
double Synflow(torch::nn::Module& net, const Forward& forward, std::vector<std::int64_t> input_shape);

/// NASWOT (Mellor et al., ICML 2021): log |det K| where K[i][j] counts the ReLU units on which
/// images i and j of the batch agree (both active or both inactive), over every ReLU that
/// `forward` passes through a space::ReluProbe. -inf when K is singular (identical codes).
double Naswot(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x);

/// snip: Σ |θ · ∂L/∂θ|; grad_norm: Σ over layers of ‖∂L/∂θ‖₂; over the weights of every Conv2d
/// and Linear, L the cross-entropy of the batch. One backward pass gives both.
struct GradientScores {
  double snip = 0;
  double grad_norm = 0;
};
GradientScores SnipAndGradNorm(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x,
                               const torch::Tensor& y);

/// jacob_cov (Mellor et al. v1, as scored by Abdelfattah et al.): the Jacobians J_i of the
/// summed outputs with respect to each image; with λ the eigenvalues of their correlation
/// matrix and k = 1e-5, −Σ (log(λ + k) + 1/(λ + k)). NaN when some J_i is constant; −inf when
/// the output does not depend on the input at all.
double JacobCov(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x);

/// Computes `names` (of search::ProxyNames()) for `net`, each on a fresh copy made by `copy`,
/// so that `net` itself is unchanged. `x`, `y`: the batch (x's shape also gives synflow's input).
/// Also gives each computation's wall time as "<name>_seconds" (snip and grad_norm share one
/// backward pass, timed under the first of the two in `names`).
std::map<std::string, double> ComputeProxies(
    const std::vector<std::string>& names,
    const std::function<std::pair<std::shared_ptr<torch::nn::Module>, Forward>()>& copy,
    const torch::Tensor& x, const torch::Tensor& y);

}  // namespace paretonas::evaluator
