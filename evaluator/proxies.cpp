#include "evaluator/proxies.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "space/graph_net.h"

namespace paretonas::evaluator {
namespace {

/// The weights the papers score: those of every Conv2d and Linear (not biases, not BatchNorm).
std::vector<torch::Tensor> LayerWeights(torch::nn::Module& net) {
  std::vector<torch::Tensor> out;
  for (const auto& m : net.modules(/*include_self=*/true)) {
    if (auto* c = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) out.push_back(c->weight);
    else if (auto* l = dynamic_cast<torch::nn::LinearImpl*>(m.get())) out.push_back(l->weight);
  }
  return out;
}

void ZeroGrads(torch::nn::Module& net) {
  for (auto& p : net.parameters())
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

}  // namespace

double Synflow(torch::nn::Module& net, const Forward& forward, std::vector<std::int64_t> input_shape) {
  net.to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    // The identity: unit statistics, unit scale, no shift, no epsilon, in eval mode.
    auto identity = [](auto* bn) {
      bn->options.eps(0.0);
      if (bn->running_mean.defined()) bn->running_mean.zero_();
      if (bn->running_var.defined()) bn->running_var.fill_(1.0);
      if (bn->weight.defined()) bn->weight.fill_(1.0);
      if (bn->bias.defined()) bn->bias.zero_();
    };
    for (const auto& m : net.modules(/*include_self=*/true)) {
      if (auto* b2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get())) identity(b2);
      else if (auto* b1 = dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get())) identity(b1);
      else if (auto* b3 = dynamic_cast<torch::nn::BatchNorm3dImpl*>(m.get())) identity(b3);
    }
    for (auto& p : net.parameters()) p.abs_();
  }
  net.eval();
  ZeroGrads(net);
  input_shape[0] = 1;
  const torch::Tensor ones = torch::ones(input_shape, torch::TensorOptions().dtype(torch::kDouble));
  const torch::Tensor out = forward(ones);
  if (!out.requires_grad()) return 0;  // no weight reaches the output (e.g. an unconnected cell)
  out.sum().backward();
  double score = 0;
  torch::NoGradGuard no_grad;
  for (const auto& w : LayerWeights(net))
    if (w.grad().defined()) score += (w * w.grad()).abs().sum().item<double>();
  return score;
}

double Naswot(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x) {
  const std::int64_t n = x.size(0);
  torch::Tensor k = torch::zeros({n, n}, torch::TensorOptions().dtype(torch::kDouble));
  {
    // Per ReLU the counts are integers below 2^24: exact in float.
    space::ReluProbe probe([&](const torch::Tensor& pre) {
      const torch::Tensor c = (pre.reshape({n, -1}) > 0).to(torch::kFloat);
      const torch::Tensor off = 1 - c;
      k += (c.mm(c.t()) + off.mm(off.t())).to(torch::kDouble);
    });
    torch::NoGradGuard no_grad;
    net.train();
    forward(x);
  }
  const auto sign_logdet = torch::slogdet(k);
  if (std::get<0>(sign_logdet).item<double>() == 0) return -std::numeric_limits<double>::infinity();
  return std::get<1>(sign_logdet).item<double>();
}

GradientScores SnipAndGradNorm(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x,
                               const torch::Tensor& y) {
  net.train();
  ZeroGrads(net);
  GradientScores s;
  const torch::Tensor loss = torch::nn::functional::cross_entropy(forward(x), y);
  if (!loss.requires_grad()) return s;  // no weight reaches the output
  loss.backward();
  torch::NoGradGuard no_grad;
  for (const auto& w : LayerWeights(net)) {
    if (!w.grad().defined()) continue;
    s.snip += (w * w.grad()).abs().sum().item<double>();
    s.grad_norm += w.grad().norm().item<double>();
  }
  return s;
}

double JacobCov(torch::nn::Module& net, const Forward& forward, const torch::Tensor& x) {
  net.train();
  ZeroGrads(net);
  torch::Tensor input = x.detach().clone().set_requires_grad(true);
  torch::Tensor out = forward(input);
  if (!out.requires_grad()) return -std::numeric_limits<double>::infinity();  // input-independent
  out.backward(torch::ones_like(out));
  torch::NoGradGuard no_grad;
  const torch::Tensor j = input.grad().reshape({x.size(0), -1}).to(torch::kDouble);
  const torch::Tensor centred = j - j.mean(1, /*keepdim=*/true);
  const torch::Tensor norms = centred.norm(2, 1);
  const torch::Tensor corr = centred.mm(centred.t()) / norms.unsqueeze(1).mm(norms.unsqueeze(0));
  const torch::Tensor v = torch::linalg::eigvalsh(corr, "L");
  constexpr double kK = 1e-5;
  return -(torch::log(v + kK) + 1.0 / (v + kK)).sum().item<double>();
}

std::map<std::string, double> ComputeProxies(
    const std::vector<std::string>& names,
    const std::function<std::pair<std::shared_ptr<torch::nn::Module>, Forward>()>& copy,
    const torch::Tensor& x, const torch::Tensor& y) {
  std::map<std::string, double> out;
  for (const std::string& name : names) {
    if (out.count(name)) continue;  // listed twice, or grad_norm given with snip's pass
    const auto t0 = std::chrono::steady_clock::now();
    auto [net, forward] = copy();
    if (name == "synflow") {
      out[name] = Synflow(*net, forward, x.sizes().vec());
    } else if (name == "naswot") {
      out[name] = Naswot(*net, forward, x);
    } else if (name == "snip" || name == "grad_norm") {
      const GradientScores s = SnipAndGradNorm(*net, forward, x, y);
      for (const std::string& n : names) {
        if (n == "snip") out[n] = s.snip;
        if (n == "grad_norm") out[n] = s.grad_norm;
      }
    } else if (name == "jacob_cov") {
      out[name] = JacobCov(*net, forward, x);
    } else {
      throw std::invalid_argument("unknown zero-cost proxy '" + name + "'");
    }
    // snip and grad_norm share one pass: its time is given to the first of them asked for.
    out[name + "_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return out;
}

}  // namespace paretonas::evaluator
