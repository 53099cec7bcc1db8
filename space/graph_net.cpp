#include "space/graph_net.h"

#include <cmath>
#include <stdexcept>

namespace paretonas::space {
namespace nn = torch::nn;
namespace {

nn::Conv2d Conv(int in, int out, int kernel, int stride, int groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding(kernel / 2)
                        .groups(groups)
                        .bias(false));
}

nn::BatchNorm2d Bn(int c) { return nn::BatchNorm2d(c); }

thread_local const std::function<void(const torch::Tensor&)>* tls_relu_probe = nullptr;

void Probe(const torch::Tensor& x) {
  if (tls_relu_probe) (*tls_relu_probe)(x);
}

/// nn::ReLU / nn::ReLU6 that show their input to the thread's ReluProbe (no parameters: the
/// saved and exported networks are the same as with the plain modules).
class ProbedReluImpl : public nn::Cloneable<ProbedReluImpl> {
 public:
  explicit ProbedReluImpl(bool six = false) : six_(six) {}
  void reset() override {}
  torch::Tensor forward(torch::Tensor x) {
    Probe(x);
    return six_ ? torch::hardtanh(x, 0, 6) : torch::relu(x);  // as nn::ReLU6 / nn::ReLU
  }

 private:
  bool six_;
};
TORCH_MODULE(ProbedRelu);

// NOTE: AnyModule cannot hold nn::Sequential (its forward is a template); this subclass has a
// concrete forward.
class OpSeqImpl : public nn::SequentialImpl {
 public:
  using nn::SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(OpSeq);

class ResNetBasicImpl : public nn::Cloneable<ResNetBasicImpl> {
 public:
  ResNetBasicImpl(int in, int out, int stride) : in_(in), out_(out), stride_(stride) { reset(); }
  void reset() override {
    conv_a = register_module("conv_a", OpSeq(ProbedRelu(), Conv(in_, out_, 3, stride_), Bn(out_)));
    conv_b = register_module("conv_b", OpSeq(ProbedRelu(), Conv(out_, out_, 3, 1), Bn(out_)));
    down = register_module(
        "down", OpSeq(nn::AvgPool2d(nn::AvgPool2dOptions(2).stride(2).ceil_mode(true)),
                      Conv(in_, out_, 1, 1)));
  }
  torch::Tensor forward(torch::Tensor x) { return down->forward(x) + conv_b->forward(conv_a->forward(x)); }
  OpSeq conv_a{nullptr}, conv_b{nullptr}, down{nullptr};

 private:
  int in_, out_, stride_;
};
TORCH_MODULE(ResNetBasic);

class ClassifierImpl : public nn::Cloneable<ClassifierImpl> {
 public:
  ClassifierImpl(int in, int classes, bool bn_relu) : in_(in), classes_(classes), bn_relu_(bn_relu) {
    reset();
  }
  void reset() override {
    if (bn_relu_) bn = register_module("bn", Bn(in_));
    fc = register_module("fc", nn::Linear(in_, classes_));
  }
  torch::Tensor forward(torch::Tensor x) {
    if (bn_relu_) {
      x = bn->forward(x);
      Probe(x);
      x = torch::relu(x);
    }
    x = x.mean({2, 3});
    return fc->forward(x);
  }
  nn::BatchNorm2d bn{nullptr};
  nn::Linear fc{nullptr};

 private:
  int in_, classes_;
  bool bn_relu_;
};
TORCH_MODULE(Classifier);

nn::AnyModule MakeOp(const PlanEdge& e) {
  const OpSpec& op = e.op;
  const int ci = e.in.c, co = e.out.c;
  switch (op.kind) {
    case OpKind::kNorConv:
      return nn::AnyModule(OpSeq(ProbedRelu(), Conv(ci, co, op.kernel, 1), Bn(co)));
    case OpKind::kAvgPool:
      return nn::AnyModule(nn::AvgPool2d(
          nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)));
    case OpKind::kMaxPool:
      return nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(1).padding(1)));
    case OpKind::kDenseRelu:  // a convolution over the whole map: flatten -> Linear, 4-D kept
      return nn::AnyModule(OpSeq(
          nn::Conv2d(nn::Conv2dOptions(ci, co, {e.in.h, e.in.w}).bias(true)), ProbedRelu()));
    case OpKind::kMaxPoolDown:
      return nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    case OpKind::kConvBn:
      return nn::AnyModule(OpSeq(Conv(ci, co, op.kernel, op.stride), Bn(co)));
    case OpKind::kConvBnRelu:
      return nn::AnyModule(OpSeq(Conv(ci, co, op.kernel, op.stride), Bn(co), ProbedRelu()));
    case OpKind::kResNetBasic:
      return nn::AnyModule(ResNetBasic(ci, co, op.stride));
    case OpKind::kMBConv: {
      const int hid = ci * op.expansion;
      OpSeq seq;
      if (op.expansion != 1) {
        seq->push_back(Conv(ci, hid, 1, 1));
        seq->push_back(Bn(hid));
        seq->push_back(ProbedRelu(true));
      }
      seq->push_back(Conv(hid, hid, op.kernel, op.stride, hid));
      seq->push_back(Bn(hid));
      seq->push_back(ProbedRelu(true));
      seq->push_back(Conv(hid, co, 1, 1));
      seq->push_back(Bn(co));
      return nn::AnyModule(seq);
    }
    case OpKind::kClassifier:
      return nn::AnyModule(Classifier(ci, co, false));
    case OpKind::kBnReluClassifier:
      return nn::AnyModule(Classifier(ci, co, true));
    case OpKind::kNone:
    case OpKind::kSkip:
      break;
  }
  return {};
}

}  // namespace

GraphNetImpl::GraphNetImpl(NetworkPlan plan, GraphNetOptions options)
    : plan_(std::move(plan)), options_(options) {
  reset();
}

bool GraphNetImpl::Built(const PlanEdge& e) const {
  return e.op.kind != OpKind::kNone && (e.live || options_.keep_dead_edges);
}

void GraphNetImpl::reset() {
  ops_.assign(plan_.edges.size(), nn::AnyModule());
  for (size_t i = 0; i < plan_.edges.size(); ++i) {
    const PlanEdge& e = plan_.edges[i];
    if (!Built(e) || e.op.kind == OpKind::kSkip) continue;
    ops_[i] = MakeOp(e);
    register_module("e" + std::to_string(e.id), ops_[i].ptr());
  }
}

torch::Tensor GraphNetImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> value(plan_.vertices.size());
  value[plan_.input] = x;
  const auto batch = x.size(0);
  auto zeros = [&](int v) {
    const TensorShape& s = plan_.vertices[v];
    return s.h == 1 && s.w == 1 && v == plan_.output
               ? torch::zeros({batch, s.c}, x.options())
               : torch::zeros({batch, s.c, s.h, s.w}, x.options());
  };
  for (size_t i = 0; i < plan_.edges.size(); ++i) {
    const PlanEdge& e = plan_.edges[i];
    if (!Built(e)) continue;
    torch::Tensor in = value[e.src];
    if (!in.defined()) {
      if (!options_.keep_dead_edges) continue;
      in = zeros(e.src);  // a dead branch computes on zeros, as NB201's code does
    }
    torch::Tensor out = e.op.kind == OpKind::kSkip ? in : ops_[i].forward(in);
    value[e.dst] = value[e.dst].defined() ? value[e.dst] + out : out;
  }
  return value[plan_.output].defined() ? value[plan_.output] : zeros(plan_.output);
}

std::int64_t GraphNetImpl::NumParameters() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

ReluProbe::ReluProbe(std::function<void(const torch::Tensor&)> fn)
    : fn_(std::move(fn)), previous_(tls_relu_probe) {
  tls_relu_probe = &fn_;
}

ReluProbe::~ReluProbe() { tls_relu_probe = previous_; }

torch::Tensor ProbedReluFn(const torch::Tensor& x) {
  Probe(x);
  return torch::relu(x);
}

void InitializeParameters(nn::Module& module, at::Generator generator) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    torch::Tensor& p = item.value();
    const std::string& name = item.key();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_bias) {
      p.zero_();
    } else if (p.dim() == 4) {
      const double fan_out = static_cast<double>(p.size(0)) * p.size(2) * p.size(3);
      p.normal_(0.0, std::sqrt(2.0 / fan_out), generator);
    } else if (p.dim() == 2) {
      p.normal_(0.0, 0.01, generator);
    } else {
      p.fill_(1.0);
    }
  }
}

}  // namespace paretonas::space
