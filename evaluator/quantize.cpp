#include "evaluator/quantize.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "evaluator/train_evaluator.h"
#include "space/op_lowering.h"

namespace paretonas::evaluator {

const char* CalibrationNames() { return "minmax, percentile"; }

std::string QuantizeOptions::Validate() const {
  if (calibration != "minmax" && calibration != "percentile")
    return "deploy.calibration: '" + calibration + "' (allowed: " + CalibrationNames() + ")";
  if (!(percentile > 50 && percentile <= 100))
    return "deploy.percentile: " + std::to_string(percentile) + " (allowed: above 50, at most 100)";
  if (batch < 1) return "calibration batch: " + std::to_string(batch) + " (allowed: at least 1)";
  if (weight_bits != 7 && weight_bits != 8)
    return "int8 weight bits: " + std::to_string(weight_bits) + " (allowed: 7, 8)";
  return "";
}

std::vector<std::pair<std::string, std::string>> Int8Arithmetic(int weight_bits) {
  const int q = WeightQMax(weight_bits);
  return {{"engine", Int8Engine()},
          {"weights", "int8 per channel, symmetric, " + std::to_string(weight_bits) + " bits [-" + std::to_string(q) +
                          ", " + std::to_string(q) + "]"},
          {"activations", "uint8 per tensor, 8 bits [0, 255]"}};
}

std::string Int8Engine() {
  static std::once_flag once;
  static std::string chosen;
  std::call_once(once, [] {
    const auto& supported = at::globalContext().supportedQEngines();
    for (const char* want : {"x86", "fbgemm", "onednn", "qnnpack"}) {
      for (const at::QEngine e : supported) {
        std::string name = c10::toString(e);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (name == want) {
          at::globalContext().setQEngine(e);
          chosen = name;
          return;
        }
      }
    }
  });
  return chosen;
}

std::string Int8EngineName() { return Int8Engine(); }

std::vector<std::pair<std::string, std::string>> Int8ArithmeticOfThisProcess() { return Int8Arithmetic(); }

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      std::string v = line.substr(line.find(':') + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
  return "";
}

bool CpuInt8HasVnni() {
  std::ifstream in("/proc/cpuinfo");
  std::string word;
  bool cpu = false;
  while (in >> word)
    if (word == "avx512_vnni" || word == "avx_vnni") cpu = true;
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!cap) cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (!cpu || !cap) return cpu;
  const std::string c = cap;
  return c.find("VNNI") != std::string::npos || c.find("BF16") != std::string::npos ||
         c.find("AMX") != std::string::npos || c == "ALL";
}

namespace {

enum class Kind { kInput, kConv, kBn, kRelu, kRelu6, kAdd, kAvgPool3, kMaxPool3, kMaxPool2, kAvgPool2Ceil, kClassifier };

/// Whether an instruction's output gets quantization parameters of its own (the others keep
/// their input's: ReLU, pooling).
bool Requantizes(Kind k) {
  return k == Kind::kInput || k == Kind::kConv || k == Kind::kBn || k == Kind::kAdd || k == Kind::kClassifier;
}

struct Instr {
  Kind kind = Kind::kInput;
  int a = -1, b = -1;  // operands (instruction indices)
  // kConv (also Dense) and kClassifier: float weights with batch norm folded in, and a bias.
  torch::Tensor w, bias;
  std::int64_t kernel_h = 1, kernel_w = 1, stride = 1, padding = 0, groups = 1;
  bool relu = false, relu6 = false;
  // kBn that could not be folded: y = x * bn_scale + bn_shift, and the raw parameters the
  // quantized kernel takes.
  torch::Tensor bn_scale, bn_shift, bn_w, bn_b, bn_mean, bn_var;
  // After calibration: the output's quantization, and the prepacked int8 weights.
  double scale = 1.0;
  std::int64_t zero_point = 0;
  c10::IValue packed;
  torch::Tensor wq;  // the int8 weight that `packed` holds
  // Where the float values came from in the GraphNet (quantization-aware fine-tuning writes them
  // back): kConv/kClassifier: `param`.weight (and `param`.bias when own_bias); a folded or
  // unfolded batch norm: `bn`.weight, .bias, .running_mean, .running_var.
  std::string param, bn;
  bool own_bias = false;
};

constexpr double kBnEps = 1e-5;  // GraphNet's BatchNorm2d
constexpr double kMinScale = 1.1920928955078125e-07;  // float32 epsilon, as PyTorch's observers

c10::OperatorHandle Op(const char* name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
}

c10::IValue Call(const c10::OperatorHandle& op, torch::jit::Stack stack) {
  op.callBoxed(&stack);
  return std::move(stack.at(0));
}

c10::IValue Ints(std::int64_t a, std::int64_t b) { return c10::IValue(c10::List<std::int64_t>({a, b})); }

c10::IValue Maybe(const torch::Tensor& t) { return t.defined() ? c10::IValue(t) : c10::IValue(); }

/// Records LowerOp's primitives as instructions, folding each batch norm into the convolution
/// just before it and each ReLU/ReLU6 into the convolution (or batch norm) just before it, when
/// both belong to the same operation (inside one, every intermediate has one reader; a vertex
/// may have several, so nothing is fused across operations).
class Recorder {
 public:
  explicit Recorder(const space::GraphNetImpl& net) {
    for (const auto& p : net.named_parameters()) tensors_[p.key()] = p.value().detach().to(torch::kCPU).contiguous();
    for (const auto& b : net.named_buffers()) tensors_[b.key()] = b.value().detach().to(torch::kCPU).contiguous();
    code.push_back(Instr{});  // 0: the input
  }
  void BeginOp() { op_start_ = static_cast<int>(code.size()); }

  std::string Conv(const std::string& x, const std::string& prefix, int kernel, int stride, int groups) {
    Instr i;
    i.kind = Kind::kConv;
    i.a = Id(x);
    i.w = T(prefix + ".weight").clone();
    i.param = prefix;
    i.kernel_h = i.kernel_w = kernel;
    i.stride = stride;
    i.padding = kernel / 2;
    i.groups = groups;
    return Push(std::move(i));
  }
  std::string Dense(const std::string& x, const std::string& prefix, int h, int w) {
    Instr i;
    i.kind = Kind::kConv;
    i.a = Id(x);
    i.w = T(prefix + ".weight").clone();
    i.bias = T(prefix + ".bias").clone();
    i.param = prefix, i.own_bias = true;
    i.kernel_h = h;
    i.kernel_w = w;
    return Push(std::move(i));
  }
  std::string Bn(const std::string& x, const std::string& prefix) {
    const torch::Tensor gamma = T(prefix + ".weight"), beta = T(prefix + ".bias");
    const torch::Tensor mean = T(prefix + ".running_mean"), var = T(prefix + ".running_var");
    const torch::Tensor scale = gamma / torch::sqrt(var + kBnEps);
    const torch::Tensor shift = beta - mean * scale;
    const int h = Id(x);
    Instr& last = code.back();
    if (Fusable(h) && last.kind == Kind::kConv && !last.relu && !last.relu6) {
      last.w = last.w * scale.view({-1, 1, 1, 1});
      last.bias = (last.bias.defined() ? last.bias * scale : torch::zeros_like(scale)) + shift;
      last.bn = prefix;
      return x;
    }
    Instr i;
    i.kind = Kind::kBn;
    i.a = h;
    i.bn_scale = scale, i.bn_shift = shift, i.bn_w = gamma, i.bn_b = beta, i.bn_mean = mean, i.bn_var = var;
    i.bn = prefix;
    return Push(std::move(i));
  }
  std::string Relu(const std::string& x) {
    const int h = Id(x);
    Instr& last = code.back();
    if (Fusable(h) && (last.kind == Kind::kConv || last.kind == Kind::kBn) && !last.relu && !last.relu6) {
      last.relu = true;
      return x;
    }
    return Unary(Kind::kRelu, x);
  }
  std::string Relu6(const std::string& x) {
    const int h = Id(x);
    Instr& last = code.back();
    if (Fusable(h) && last.kind == Kind::kConv && !last.relu && !last.relu6) {
      last.relu6 = true;
      return x;
    }
    return Unary(Kind::kRelu6, x);
  }
  std::string Add(const std::string& a, const std::string& b) {
    Instr i;
    i.kind = Kind::kAdd;
    i.a = Id(a);
    i.b = Id(b);
    return Push(std::move(i));
  }
  std::string AvgPool3(const std::string& x) { return Unary(Kind::kAvgPool3, x); }
  std::string MaxPool3(const std::string& x) { return Unary(Kind::kMaxPool3, x); }
  std::string MaxPool2(const std::string& x) { return Unary(Kind::kMaxPool2, x); }
  std::string AvgPool2Ceil(const std::string& x) { return Unary(Kind::kAvgPool2Ceil, x); }
  std::string Classifier(const std::string& x, const std::string& prefix) {
    Instr i;
    i.kind = Kind::kClassifier;
    i.a = Id(x);
    i.w = T(prefix + ".weight").clone();
    i.bias = T(prefix + ".bias").clone();
    i.param = prefix, i.own_bias = true;
    return Push(std::move(i));
  }

  std::vector<Instr> code;

 private:
  static int Id(const std::string& h) { return std::stoi(h); }
  bool Fusable(int h) const { return h == static_cast<int>(code.size()) - 1 && h >= op_start_; }
  std::string Push(Instr i) {
    code.push_back(std::move(i));
    return std::to_string(code.size() - 1);
  }
  std::string Unary(Kind k, const std::string& x) {
    Instr i;
    i.kind = k;
    i.a = Id(x);
    return Push(std::move(i));
  }
  const torch::Tensor& T(const std::string& name) const {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::logic_error("int8 lowering: the network has no tensor " + name);
    return it->second;
  }

  std::map<std::string, torch::Tensor> tensors_;
  int op_start_ = 0;
};

/// One instruction in float (calibration: the trained network's eval-mode arithmetic, batch
/// norm folded).
torch::Tensor RunFloat(const Instr& i, const std::vector<torch::Tensor>& v) {
  const torch::Tensor& x = v[i.a];
  switch (i.kind) {
    case Kind::kInput: break;
    case Kind::kConv: {
      torch::Tensor y = at::conv2d(x, i.w, i.bias, {i.stride, i.stride}, {i.padding, i.padding}, {1, 1}, i.groups);
      if (i.relu) y = torch::relu(y);
      if (i.relu6) y = torch::clamp(y, 0, 6);
      return y;
    }
    case Kind::kBn: {
      torch::Tensor y = x * i.bn_scale.view({1, -1, 1, 1}) + i.bn_shift.view({1, -1, 1, 1});
      return i.relu ? torch::relu(y) : y;
    }
    case Kind::kRelu: return torch::relu(x);
    case Kind::kRelu6: return torch::clamp(x, 0, 6);
    case Kind::kAdd: return x + v[i.b];
    case Kind::kAvgPool3: return at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, false, false);
    case Kind::kMaxPool3: return at::max_pool2d(x, {3, 3}, {1, 1}, {1, 1}, {1, 1});
    case Kind::kMaxPool2: return at::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1});
    case Kind::kAvgPool2Ceil: return at::avg_pool2d(x, {2, 2}, {2, 2}, {0, 0}, true, true);
    case Kind::kClassifier: return at::linear(x.mean({2, 3}), i.w, i.bias);
  }
  throw std::logic_error("int8: no float form of an input instruction");
}

/// [lo, hi] widened to hold 0 -> (scale, zero point) of uint8.
void SetQParams(double lo, double hi, Instr* i) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  i->scale = std::max((hi - lo) / 255.0, kMinScale);
  i->zero_point = std::clamp<std::int64_t>(std::llround(-lo / i->scale), 0, 255);
}

/// Per-channel symmetric int8 of a weight [out, ...]: scale max|w| / qmax per output channel, so
/// that every value lies in [-qmax, qmax] (QuantizeOptions::weight_bits).
torch::Tensor QuantizeWeight(const torch::Tensor& w, int qmax) {
  const torch::Tensor amax = w.abs().reshape({w.size(0), -1}).amax(1).to(torch::kDouble);
  const torch::Tensor scales = torch::clamp_min(amax / static_cast<double>(qmax), kMinScale);
  const torch::Tensor zeros = torch::zeros({w.size(0)}, torch::kLong);
  return at::quantize_per_channel(w, scales, zeros, 0, at::kQInt8);
}

/// The engine's prepacked form of an instruction's int8 weight (conv, linear).
void Prepack(Instr& i) {
  if (i.kind == Kind::kConv)
    i.packed = Call(Op("quantized::conv2d_prepack"), {i.wq, Maybe(i.bias), Ints(i.stride, i.stride),
                                                      Ints(i.padding, i.padding), Ints(1, 1), i.groups});
  else if (i.kind == Kind::kClassifier)
    i.packed = Call(Op("quantized::linear_prepack"), {i.wq, Maybe(i.bias)});
}

}  // namespace

struct Int8Net::Program {
  std::vector<Instr> code;
  int weight_bits = 7;
  int output = -1;  // instruction whose value is the logits; -1: unreachable output (zeros)
  std::int64_t classes = 0;
};

Int8Net::Int8Net(space::GraphNet& net, const torch::Tensor& calibration, const QuantizeOptions& options)
    : p_(std::make_unique<Program>()) {
  if (Int8Engine().empty()) throw std::runtime_error("this LibTorch has no quantized engine (int8 kernels)");
  const std::string bad = options.Validate();
  if (!bad.empty()) throw std::invalid_argument(bad);
  torch::NoGradGuard no_grad;
  const space::NetworkPlan& plan = net->plan();
  Recorder rec(*net);
  // As LowerPlan, with each operation's start marked for the recorder's fusion.
  std::vector<std::string> value(plan.vertices.size());
  value[plan.input] = "0";
  for (const auto& edge : plan.edges) {
    if (!edge.live || edge.op.kind == space::OpKind::kNone || value[edge.src].empty()) continue;
    rec.BeginOp();
    const std::string out = space::LowerOp(rec, edge, value[edge.src]);
    if (value[edge.dst].empty()) {
      value[edge.dst] = out;
    } else {
      rec.BeginOp();
      value[edge.dst] = rec.Add(value[edge.dst], out);
    }
  }
  p_->code = std::move(rec.code);
  p_->output = value[plan.output].empty() ? -1 : std::stoi(value[plan.output]);
  p_->classes = plan.vertices[plan.output].c;
  std::vector<Instr>& code = p_->code;

  // Calibration: the float program over the images, keeping each requantized value's range
  // (and, for "percentile", a histogram over that range in a second pass).
  const torch::Tensor images = calibration.to(torch::kCPU, torch::kFloat).contiguous();
  const std::int64_t n = images.size(0);
  if (n < 1) throw std::invalid_argument("int8 calibration needs at least one image");
  auto run_batches = [&](const std::function<void(std::size_t, const torch::Tensor&)>& see) {
    for (std::int64_t s = 0; s < n; s += options.batch) {
      std::vector<torch::Tensor> v(code.size());
      v[0] = images.narrow(0, s, std::min<std::int64_t>(options.batch, n - s));
      see(0, v[0]);
      for (std::size_t k = 1; k < code.size(); ++k) {
        v[k] = RunFloat(code[k], v);
        if (Requantizes(code[k].kind)) see(k, v[k]);
      }
    }
  };
  std::vector<double> lo(code.size(), 0.0), hi(code.size(), 0.0);
  std::vector<bool> seen(code.size(), false);
  run_batches([&](std::size_t k, const torch::Tensor& t) {
    const double a = t.min().item<double>(), b = t.max().item<double>();
    lo[k] = seen[k] ? std::min(lo[k], a) : a;
    hi[k] = seen[k] ? std::max(hi[k], b) : b;
    seen[k] = true;
  });
  if (options.calibration == "percentile") {
    constexpr int kBins = 2048;
    std::vector<torch::Tensor> hist(code.size());
    run_batches([&](std::size_t k, const torch::Tensor& t) {
      if (!(hi[k] > lo[k])) return;
      const torch::Tensor h = torch::histc(t.flatten(), kBins, lo[k], hi[k]).to(torch::kDouble);
      hist[k] = hist[k].defined() ? hist[k] + h : h;
    });
    const double tail = (100.0 - options.percentile) / 100.0;
    for (std::size_t k = 0; k < code.size(); ++k) {
      if (!hist[k].defined()) continue;
      const torch::Tensor cum = hist[k].cumsum(0);
      const double total = cum[-1].item<double>();
      const auto c = cum.accessor<double, 1>();
      const double width = (hi[k] - lo[k]) / kBins;
      int first = 0, last = kBins - 1;
      while (first < kBins - 1 && c[first] <= tail * total) ++first;
      while (last > 0 && c[last - 1] >= (1.0 - tail) * total) --last;
      if (first <= last) {
        const double new_lo = lo[k] + first * width, new_hi = lo[k] + (last + 1) * width;
        lo[k] = std::max(lo[k], new_lo);
        hi[k] = std::min(hi[k], new_hi);
      }
    }
  }
  for (std::size_t k = 0; k < code.size(); ++k)
    if (Requantizes(code[k].kind)) SetQParams(lo[k], hi[k], &code[k]);
  // Weights to int8, prepacked for the engine.
  p_->weight_bits = options.weight_bits;
  for (Instr& i : code) {
    if (i.kind == Kind::kConv || i.kind == Kind::kClassifier) i.wq = QuantizeWeight(i.w, WeightQMax(options.weight_bits));
    Prepack(i);
  }
}

Int8Net Int8Net::Repacked() const {
  Int8Net copy;
  copy.p_ = std::make_unique<Program>(*p_);
  for (Instr& i : copy.p_->code) Prepack(i);
  return copy;
}

Int8Net::~Int8Net() = default;
Int8Net::Int8Net(Int8Net&&) noexcept = default;
Int8Net& Int8Net::operator=(Int8Net&&) noexcept = default;

torch::Tensor Int8Net::Forward(const torch::Tensor& x) const {
  torch::NoGradGuard no_grad;
  const std::vector<Instr>& code = p_->code;
  if (p_->output < 0) return torch::zeros({x.size(0), p_->classes});
  static const c10::OperatorHandle conv = Op("quantized::conv2d", "new");
  static const c10::OperatorHandle conv_relu = Op("quantized::conv2d_relu", "new");
  static const c10::OperatorHandle add = Op("quantized::add");
  static const c10::OperatorHandle linear = Op("quantized::linear");
  static const c10::OperatorHandle bn = Op("quantized::batch_norm2d");
  static const c10::OperatorHandle bn_relu = Op("quantized::batch_norm2d_relu");
  std::vector<torch::Tensor> v(code.size());
  v[0] = at::quantize_per_tensor(x.to(torch::kFloat).contiguous(), code[0].scale, code[0].zero_point, at::kQUInt8);
  for (std::size_t k = 1; k < code.size(); ++k) {
    const Instr& i = code[k];
    const torch::Tensor& a = v[i.a];
    switch (i.kind) {
      case Kind::kInput: break;
      case Kind::kConv:
        v[k] = Call(i.relu || i.relu6 ? conv_relu : conv, {a, i.packed, i.scale, i.zero_point}).toTensor();
        break;  // ReLU6: the output range calibrated on [0, 6] saturates where the clamp would
      case Kind::kBn:
        v[k] = Call(i.relu ? bn_relu : bn, {a, i.bn_w, i.bn_b, i.bn_mean, i.bn_var, kBnEps, i.scale, i.zero_point})
                   .toTensor();
        break;
      case Kind::kRelu: v[k] = at::relu(a); break;
      case Kind::kRelu6: v[k] = at::clamp(a, 0, 6); break;
      case Kind::kAdd: v[k] = Call(add, {a, v[i.b], i.scale, i.zero_point}).toTensor(); break;
      case Kind::kAvgPool3: v[k] = at::avg_pool2d(a, {3, 3}, {1, 1}, {1, 1}, false, false); break;
      case Kind::kMaxPool3: v[k] = at::max_pool2d(a, {3, 3}, {1, 1}, {1, 1}, {1, 1}); break;
      case Kind::kMaxPool2: v[k] = at::max_pool2d(a, {2, 2}, {2, 2}, {0, 0}, {1, 1}); break;
      case Kind::kAvgPool2Ceil: v[k] = at::avg_pool2d(a, {2, 2}, {2, 2}, {0, 0}, true, true); break;
      case Kind::kClassifier: {
        const torch::Tensor pooled = at::adaptive_avg_pool2d(a, {1, 1}).flatten(1).contiguous();
        v[k] = Call(linear, {pooled, i.packed, i.scale, i.zero_point}).toTensor();
        break;
      }
    }
  }
  const torch::Tensor& out = v[p_->output];
  return out.is_quantized() ? out.dequantize() : out;
}

std::string FineTuneOptions::Validate() const {
  if (epochs < 0) return "deploy.finetune_epochs: " + std::to_string(epochs) + " (allowed: 0 or more)";
  if (!(lr > 0)) return "fine-tuning lr: " + std::to_string(lr) + " (allowed: above 0)";
  if (batch < 1) return "fine-tuning batch: " + std::to_string(batch) + " (allowed: at least 1)";
  return "";
}

double Int8Net::FineTune(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                         const FineTuneOptions& f) const {
  const std::string bad = f.Validate();
  if (!bad.empty()) throw std::invalid_argument(bad);
  const std::vector<Instr>& code = p_->code;
  if (p_->output < 0 || f.epochs == 0 || x.size(0) == 0) return 0.0;  // nothing computes the output
  // Trainable float copies of the program's weights (batch norm folded, as the int8 model has them).
  const std::size_t n_code = code.size();
  std::vector<torch::Tensor> w(n_code), b(n_code), bn_scale(n_code), bn_shift(n_code), params;
  auto leaf = [&](const torch::Tensor& t) {
    torch::Tensor c = t.detach().clone().requires_grad_(true);
    params.push_back(c);
    return c;
  };
  for (std::size_t k = 0; k < n_code; ++k) {
    const Instr& i = code[k];
    if (i.kind == Kind::kConv || i.kind == Kind::kClassifier) {
      w[k] = leaf(i.w);
      if (i.bias.defined()) b[k] = leaf(i.bias);
    } else if (i.kind == Kind::kBn) {
      bn_scale[k] = leaf(i.bn_scale);
      bn_shift[k] = leaf(i.bn_shift);
    }
  }
  // Every value's grid: its own quantization, or its input's (ReLU and pooling keep it).
  std::vector<double> scale(n_code);
  std::vector<std::int64_t> zero(n_code);
  for (std::size_t k = 0; k < n_code; ++k) {
    const bool own = Requantizes(code[k].kind);
    scale[k] = own ? code[k].scale : scale[code[k].a];
    zero[k] = own ? code[k].zero_point : zero[code[k].a];
  }
  auto fq = [&](const torch::Tensor& t, std::size_t k) {
    return at::fake_quantize_per_tensor_affine(t, scale[k], zero[k], 0, 255);
  };
  const int qmax = WeightQMax(p_->weight_bits);
  auto fq_weight = [qmax](const torch::Tensor& t) {  // per-channel symmetric, as QuantizeWeight
    const torch::Tensor s = torch::clamp_min(t.detach().abs().reshape({t.size(0), -1}).amax(1) / static_cast<double>(qmax),
                                             kMinScale)
                                .to(torch::kFloat);
    return at::fake_quantize_per_channel_affine(t, s, torch::zeros({t.size(0)}, torch::kInt), 0, -qmax, qmax);
  };
  // The int8 program in float with every rounding the int8 kernels make (straight-through
  // gradients): the input, each requantized output, each average pool on its input's grid, and
  // the weights per channel.
  auto forward = [&](const torch::Tensor& xb) {
    std::vector<torch::Tensor> v(n_code);
    v[0] = fq(xb, 0);
    for (std::size_t k = 1; k < n_code; ++k) {
      const Instr& i = code[k];
      const torch::Tensor& a = v[i.a];
      switch (i.kind) {
        case Kind::kInput: break;
        case Kind::kConv: {
          torch::Tensor t = at::conv2d(a, fq_weight(w[k]), b[k], {i.stride, i.stride}, {i.padding, i.padding}, {1, 1}, i.groups);
          if (i.relu) t = torch::relu(t);
          if (i.relu6) t = torch::clamp(t, 0, 6);
          v[k] = fq(t, k);
          break;
        }
        case Kind::kBn: {
          torch::Tensor t = a * bn_scale[k].view({1, -1, 1, 1}) + bn_shift[k].view({1, -1, 1, 1});
          v[k] = fq(i.relu ? torch::relu(t) : t, k);
          break;
        }
        case Kind::kRelu: v[k] = torch::relu(a); break;
        case Kind::kRelu6: v[k] = fq(torch::clamp(a, 0, 6), k); break;
        case Kind::kAdd: v[k] = fq(a + v[i.b], k); break;
        case Kind::kAvgPool3: v[k] = fq(at::avg_pool2d(a, {3, 3}, {1, 1}, {1, 1}, false, false), k); break;
        case Kind::kMaxPool3: v[k] = at::max_pool2d(a, {3, 3}, {1, 1}, {1, 1}, {1, 1}); break;
        case Kind::kMaxPool2: v[k] = at::max_pool2d(a, {2, 2}, {2, 2}, {0, 0}, {1, 1}); break;
        case Kind::kAvgPool2Ceil: v[k] = fq(at::avg_pool2d(a, {2, 2}, {2, 2}, {0, 0}, true, true), k); break;
        case Kind::kClassifier:
          v[k] = fq(at::linear(fq(a.mean({2, 3}), i.a), fq_weight(w[k]), b[k]), k);
          break;
      }
    }
    return v[p_->output];
  };
  torch::optim::SGD opt(params, torch::optim::SGDOptions(f.lr).momentum(f.momentum));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(f.seed);
  const torch::Tensor xc = x.to(torch::kCPU, torch::kFloat), yc = y.to(torch::kCPU, torch::kLong);
  const std::int64_t n = xc.size(0);
  double last_loss = 0, sum = 0;
  std::int64_t steps = 0;
  for (int e = 0; e < f.epochs; ++e) {
    const torch::Tensor order = torch::randperm(n, gen, torch::kInt64);
    sum = 0, steps = 0;
    for (std::int64_t s = 0; s < n; s += f.batch) {
      const torch::Tensor idx = order.narrow(0, s, std::min<std::int64_t>(f.batch, n - s));
      const torch::Tensor loss = torch::nn::functional::cross_entropy(forward(xc.index_select(0, idx)), yc.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      opt.step();
      sum += loss.item<double>(), ++steps;
    }
    last_loss = steps ? sum / static_cast<double>(steps) : 0.0;
    if (!std::isfinite(last_loss))
      throw std::runtime_error("quantization-aware fine-tuning diverged (loss " + std::to_string(last_loss) +
                               " in epoch " + std::to_string(e + 1) + "); lower the learning rate");
  }
  // Back into the network's own parameters: unfold each batch norm (its running statistics stay).
  torch::NoGradGuard no_grad;
  auto named = net->named_parameters(true);
  auto buffers = net->named_buffers(true);
  auto param = [&](const std::string& name) -> torch::Tensor {
    if (const torch::Tensor* t = named.find(name)) return *t;
    if (const torch::Tensor* t = buffers.find(name)) return *t;
    throw std::logic_error("int8 fine-tuning: the network has no tensor " + name);
  };
  for (std::size_t k = 0; k < n_code; ++k) {
    const Instr& i = code[k];
    if (i.kind == Kind::kConv || i.kind == Kind::kClassifier) {
      torch::Tensor weight = param(i.param + ".weight");
      const torch::Tensor own_bias = i.own_bias ? param(i.param + ".bias") : torch::Tensor();
      if (i.bn.empty()) {
        weight.copy_(w[k].detach());
        if (own_bias.defined()) own_bias.copy_(b[k].detach());
        continue;
      }
      torch::Tensor gamma = param(i.bn + ".weight"), beta = param(i.bn + ".bias");
      const torch::Tensor mean = param(i.bn + ".running_mean").to(torch::kCPU), var = param(i.bn + ".running_var").to(torch::kCPU);
      const torch::Tensor s = gamma.detach().to(torch::kCPU) / torch::sqrt(var + kBnEps);
      const torch::Tensor keep = s.abs() > 1e-12;
      const torch::Tensor unfolded = w[k].detach() / torch::where(keep, s, torch::ones_like(s)).view({-1, 1, 1, 1});
      weight.copy_(torch::where(keep.view({-1, 1, 1, 1}), unfolded, weight.detach().to(torch::kCPU)));
      const torch::Tensor b_own = own_bias.defined() ? own_bias.detach().to(torch::kCPU) : torch::zeros_like(s);
      beta.copy_(b[k].detach() - b_own * s + mean * s);
    } else if (i.kind == Kind::kBn) {
      torch::Tensor gamma = param(i.bn + ".weight"), beta = param(i.bn + ".bias");
      const torch::Tensor mean = param(i.bn + ".running_mean").to(torch::kCPU), var = param(i.bn + ".running_var").to(torch::kCPU);
      gamma.copy_(bn_scale[k].detach() * torch::sqrt(var + kBnEps));
      beta.copy_(bn_shift[k].detach() + mean * bn_scale[k].detach());
    }
  }
  return last_loss;
}

std::vector<Int8Op> Int8Net::Ops() const {
  static const char* names[] = {"input", "conv", "batch_norm", "relu", "relu6", "add",
                                "avg_pool3", "max_pool3", "max_pool2", "avg_pool2_ceil", "linear"};
  std::vector<Int8Op> out;
  for (const Instr& i : p_->code) {
    Int8Op o;
    o.kind = names[static_cast<int>(i.kind)];
    o.a = i.a, o.b = i.b, o.relu = i.relu || i.relu6, o.relu6 = i.relu6;
    o.scale = i.scale, o.zero_point = i.zero_point;
    o.packed = i.packed, o.weight_q = i.wq, o.bias = i.bias;
    o.kernel_h = i.kernel_h, o.kernel_w = i.kernel_w, o.stride = i.stride, o.padding = i.padding, o.groups = i.groups;
    o.bn_weight = i.bn_w, o.bn_bias = i.bn_b, o.bn_mean = i.bn_mean, o.bn_var = i.bn_var;
    out.push_back(std::move(o));
  }
  return out;
}

int Int8Net::Output() const { return p_->output; }
int Int8Net::WeightBits() const { return p_->weight_bits; }
std::int64_t Int8Net::Classes() const { return p_->classes; }

std::int64_t Int8Net::ModelBytes() const {
  std::int64_t bytes = 0;
  for (const Instr& i : p_->code) {
    if (Requantizes(i.kind)) bytes += 8;  // the output's scale and zero point
    if (i.w.defined()) bytes += i.w.numel() + 8 * i.w.size(0);  // int8 weights, per-channel scale and zero point
    if (i.bias.defined()) bytes += 4 * i.bias.numel();
    if (i.kind == Kind::kBn) bytes += 4 * 4 * i.bn_w.numel();
  }
  return bytes;
}

std::string Int8Net::Describe() const {
  std::map<std::string, int> count;
  int fused = 0;
  for (std::size_t k = 1; k < p_->code.size(); ++k) {
    const Instr& i = p_->code[k];
    static const char* names[] = {"input", "conv", "batch norm", "relu", "relu6", "add",
                                  "avg pool", "max pool", "max pool", "avg pool", "linear"};
    ++count[names[static_cast<int>(i.kind)]];
    fused += (i.relu || i.relu6) ? 1 : 0;
  }
  std::ostringstream s;
  s << p_->code.size() - 1 << " int8 ops on " << Int8Engine() << " (" << p_->weight_bits << "-bit weights):";
  bool first = true;
  for (const auto& [name, n] : count) s << (first ? " " : ", ") << n << " " << name, first = false;
  s << " (" << fused << " with a fused relu)";
  return s.str();
}

double Int8Accuracy(const Int8Net& net, const torch::Tensor& x, const torch::Tensor& y, int batch) {
  torch::NoGradGuard no_grad;
  const torch::Tensor xc = x.to(torch::kCPU), yc = y.to(torch::kCPU);
  const std::int64_t n = xc.size(0);
  if (n == 0) return 0.0;
  std::int64_t correct = 0;
  for (std::int64_t s = 0; s < n; s += batch) {
    const std::int64_t m = std::min<std::int64_t>(batch, n - s);
    const torch::Tensor logits = net.Forward(xc.narrow(0, s, m));
    correct += logits.argmax(1).eq(yc.narrow(0, s, m)).sum().item<std::int64_t>();
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

torch::Tensor CalibrationImages(const torch::Tensor& train_x, int n) {
  const torch::Tensor x = train_x.to(torch::kCPU, torch::kFloat);
  const std::int64_t total = x.size(0);
  if (n >= total) return x.contiguous();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  const torch::Tensor idx = torch::randperm(total, gen, torch::kInt64).narrow(0, 0, n);
  return x.index_select(0, idx).contiguous();
}

}  // namespace paretonas::evaluator
