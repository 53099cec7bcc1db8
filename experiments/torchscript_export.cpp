#include "experiments/torchscript_export.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "evaluator/dataset.h"
#include "evaluator/quantize.h"
#include "experiments/onnx_export.h"
#include "space/op_lowering.h"
#include "space/graph_net.h"

namespace paretonas::experiments {
namespace {

// TorchScript attribute name of a GraphNet weight: "e3.1.weight" -> "e3_1_weight".
std::string AttrName(const std::string& dotted) {
  std::string s = dotted;
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

std::string Attr(const std::string& dotted) { return "self." + AttrName(dotted); }

// The module both exporters write: weights from `weights_path`, else initialised from `seed`.
space::GraphNet ExportedNet(const space::NetworkPlan& plan, const std::string& weights_path,
                            std::uint64_t seed) {
  space::GraphNet net(plan, space::GraphNetOptions{});
  if (!weights_path.empty()) {
    torch::load(net, weights_path);
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    space::InitializeParameters(*net, gen);
  }
  return net;
}

// Emits TorchScript statements ("tN = <aten call>") for LowerPlan.
class TorchScriptEmitter {
 public:
  std::string Conv(const std::string& x, const std::string& p, int kernel, int stride, int groups) {
    std::ostringstream os;
    os << "torch.conv2d(" << x << ", " << Attr(p + ".weight") << ", None, [" << stride << ", "
       << stride << "], [" << kernel / 2 << ", " << kernel / 2 << "], [1, 1], " << groups << ")";
    return Let(os.str());
  }
  std::string Bn(const std::string& x, const std::string& p) {
    return Let("torch.batch_norm(" + x + ", " + Attr(p + ".weight") + ", " + Attr(p + ".bias") + ", " +
               Attr(p + ".running_mean") + ", " + Attr(p + ".running_var") +
               ", self.training, 0.1, 1e-05, False)");
  }
  std::string Relu(const std::string& x) { return Let("torch.relu(" + x + ")"); }
  std::string Relu6(const std::string& x) { return Let("torch.clamp(" + x + ", 0.0, 6.0)"); }
  std::string Add(const std::string& a, const std::string& b) { return Let(a + " + " + b); }
  std::string AvgPool3(const std::string& x) {
    return Let("torch.avg_pool2d(" + x + ", [3, 3], [1, 1], [1, 1], False, False, None)");
  }
  std::string MaxPool3(const std::string& x) {
    return Let("torch.max_pool2d(" + x + ", [3, 3], [1, 1], [1, 1], [1, 1], False)");
  }
  std::string Dense(const std::string& x, const std::string& p, int, int) {
    return Let("torch.conv2d(" + x + ", " + Attr(p + ".weight") + ", " + Attr(p + ".bias") +
               ", [1, 1], [0, 0], [1, 1], 1)");
  }
  std::string MaxPool2(const std::string& x) {
    return Let("torch.max_pool2d(" + x + ", [2, 2], [2, 2], [0, 0], [1, 1], False)");
  }
  std::string AvgPool2Ceil(const std::string& x) {
    return Let("torch.avg_pool2d(" + x + ", [2, 2], [2, 2], [0, 0], True, True, None)");
  }
  std::string Classifier(const std::string& x, const std::string& p) {
    return Let("torch.addmm(" + Attr(p + ".bias") + ", torch.mean(" + x + ", [2, 3]), " +
               Attr(p + ".weight") + ".t())");
  }
  std::string body() const { return body_.str(); }

 private:
  std::string Let(const std::string& expr) {
    const std::string name = "t" + std::to_string(counter_++);
    body_ << "    " << name << " = " << expr << "\n";
    return name;
  }
  std::ostringstream body_;
  int counter_ = 0;
};

std::string ForwardSource(const space::NetworkPlan& plan, bool baked) {
  TorchScriptEmitter emitter;
  const std::string out = LowerPlan(emitter, plan, baked ? "xn" : "x");
  std::ostringstream os;
  os << "def forward(self, x):\n";
  if (baked) os << "    xn = self.normalize(x)\n";
  os << emitter.body();
  if (!out.empty()) {
    os << "    return " << out << "\n";
  } else {
    os << "    return torch.zeros([x.size(0), " << plan.vertices[plan.output].c << "])\n";
  }
  return os.str();
}

}  // namespace

namespace {

/// Registers how to feed the module (`input`: preprocess, normalize, class names, ...) on `m`,
/// and draws the check input (pixels when baked) and the input the engine's network takes for it.
/// `images`, when defined: real images (as the network takes them, normalised) to check with
/// instead of two random ones (an int8 export: its kernels' rounding shows on real activations).
void AddInputMetadata(torch::jit::Module& m, const space::TensorShape& in_shape, std::uint64_t seed,
                      const ExportInput* input, torch::Tensor* check_input_out, torch::Tensor* engine_input_out,
                      const torch::Tensor& images = {}) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0xC0FFEEULL);
  const bool baked = input && input->baked;
  torch::Tensor check_input = images.defined() ? images : torch::randn({2, in_shape.c, in_shape.h, in_shape.w}, gen);
  torch::Tensor engine_input = check_input;
  if (input) {
    // How to feed it, carried by the module: preprocess(pixels) is the documented normalisation.
    const int64_t c = in_shape.c;
    auto per_channel = [&](const std::vector<double>& v, float fill) {
      std::vector<float> f(c, fill);
      for (int64_t i = 0; i < c && i < static_cast<int64_t>(v.size()); ++i) f[i] = static_cast<float>(v[i]);
      return torch::tensor(f, torch::kFloat32).view({1, c, 1, 1});
    };
    const torch::Tensor mean = per_channel(input->mean, 0.0f), sd = per_channel(input->std, 1.0f);
    m.register_buffer("input_mean", mean);
    m.register_buffer("input_std", sd);
    m.register_attribute("pixel_max", c10::FloatType::get(), input->pixel_max);
    m.register_attribute("class_names", c10::ListType::ofStrings(),
                         c10::List<std::string>(input->class_names));
    m.register_attribute("preprocessing", c10::StringType::get(), input->Formula());
    m.register_attribute("normalization_baked", c10::BoolType::get(), input->baked);
    // normalize(pixels) is the formula; preprocess(pixels) is what a caller applies before
    // forward: the formula, or nothing when forward applies it itself (baked), so that the
    // README's m(m.preprocess(x)) is right for both.
    m.define("def normalize(self, pixels):\n    return (pixels / self.pixel_max - self.input_mean) / self.input_std\n");
    if (baked)
      m.define("def preprocess(self, pixels):\n    return pixels\n");
    else
      m.define("def preprocess(self, pixels):\n    return self.normalize(pixels)\n");
    if (baked) {  // the check feeds pixels; the engine's logits are for the normalised input
      check_input = images.defined() ? (images * sd + mean) * input->pixel_max
                                     : torch::rand({2, in_shape.c, in_shape.h, in_shape.w}, gen).mul_(input->pixel_max);
      engine_input = (check_input / input->pixel_max - mean) / sd;
    }
  }
  *check_input_out = check_input;
  *engine_input_out = engine_input;
}

/// Reloads `out_path` and compares its logits for check_input with `check_output`.
double ReloadDifference(const std::string& out_path, const torch::Tensor& check_input, const torch::Tensor& check_output) {
  torch::jit::Module loaded = torch::jit::load(out_path);
  loaded.eval();
  const torch::Tensor out = loaded.forward({check_input}).toTensor();
  return (out - check_output).abs().max().item<double>();
}

/// The scripted module of `net` (fed tensors of `in`), with its check data (check_input and the
/// engine's check_output, returned in `check_in`, `check_out`) unless `with_checks` is false.
torch::jit::Module FloatModule(space::GraphNet& net, const space::TensorShape& in_shape, std::uint64_t seed,
                               const ExportInput* input, bool with_checks, torch::Tensor* check_in,
                               torch::Tensor* check_out) {
  net->eval();
  torch::NoGradGuard no_grad;
  torch::jit::Module m("paretonas_GraphNet");
  // The forward reads self.training (BatchNorm); train() / eval() set it, in C++ and in Python.
  if (!m.hasattr("training")) m.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& p : net->named_parameters())
    m.register_parameter(AttrName(p.key()), p.value().detach().clone().requires_grad_(true), false);
  for (const auto& b : net->named_buffers()) m.register_buffer(AttrName(b.key()), b.value().detach().clone());
  const bool baked = input && input->baked;
  torch::Tensor check_input, engine_input;
  AddInputMetadata(m, in_shape, seed, input, &check_input, &engine_input);
  if (with_checks) {
    const torch::Tensor check_output = net->forward(engine_input).detach().clone();
    m.register_buffer("check_input", check_input);
    m.register_buffer("check_output", check_output);
    if (check_in) *check_in = check_input;
    if (check_out) *check_out = check_output;
  }
  m.define(ForwardSource(net->plan(), baked));
  m.eval();
  return m;
}

/// Writes `net` (fed tensors of `in`) as a scripted module; see ExportTorchScript.
TorchScriptExport WriteTorchScript(space::GraphNet& net, const space::TensorShape& in_shape,
                                   std::uint64_t seed, const std::string& out_path,
                                   const ExportInput* input) {
  TorchScriptExport result;
  torch::NoGradGuard no_grad;
  torch::Tensor check_input, check_output;
  torch::jit::Module m = FloatModule(net, in_shape, seed, input, true, &check_input, &check_output);
  m.save(out_path);
  result.max_abs_diff = ReloadDifference(out_path, check_input, check_output);
  if (!(result.max_abs_diff <= 1e-5)) {
    throw std::runtime_error(out_path + ": the reloaded TorchScript module differs from the engine's by " +
                             std::to_string(result.max_abs_diff));
  }
  return result;
}

/// A number as TorchScript source reads it back exactly.
std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string t = buf;
  if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
  return t;
}

/// TorchScript's C++ resolver knows only `torch` (aten); the int8 forward also calls the
/// quantized operators (quantized::conv2d, ...) by `quantized.<name>`. Saved files print them as
/// ops.quantized.<name>, as PyTorch's own quantized modules do.
struct QuantizedResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                                                         const torch::jit::SourceRange& loc) override {
    if (name == "quantized") return std::make_shared<torch::jit::BuiltinModule>("quantized");
    return torch::jit::nativeResolver()->resolveValue(name, m, loc);
  }
  c10::TypePtr resolveType(const std::string& name, const torch::jit::SourceRange& loc) override {
    return torch::jit::nativeResolver()->resolveType(name, loc);
  }
};

/// The forward of an int8 network: one statement per Int8Net operation.
std::string Int8ForwardSource(const evaluator::Int8Net& q, bool baked) {
  const std::vector<evaluator::Int8Op> ops = q.Ops();
  std::ostringstream os;
  os << "def forward(self, x):\n";
  const std::string x = baked ? "self.normalize(x)" : "x";
  if (q.Output() < 0) {
    os << "    return torch.zeros([x.size(0), " << q.Classes() << "])\n";
    return os.str();
  }
  auto v = [](int k) { return "q" + std::to_string(k); };
  auto sz = [](const evaluator::Int8Op& o) { return Num(o.scale) + ", " + std::to_string(o.zero_point); };
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const evaluator::Int8Op& o = ops[k];
    const std::string a = o.a >= 0 ? v(o.a) : "", self = "self." + v(static_cast<int>(k));
    os << "    " << v(static_cast<int>(k)) << " = ";
    if (o.kind == "input")  // the dtype as its number: TorchScript built from C++ has no torch.quint8
      os << "torch.quantize_per_tensor(" << x << ", " << sz(o) << ", " << static_cast<int>(at::kQUInt8) << ")";
    else if (o.kind == "conv") os << "quantized.conv2d" << (o.relu ? "_relu" : "") << "(" << a << ", " << self << "_w, " << sz(o) << ")";
    else if (o.kind == "batch_norm")
      os << "quantized.batch_norm2d" << (o.relu ? "_relu" : "") << "(" << a << ", " << self << "_bn_w, " << self
         << "_bn_b, " << self << "_bn_mean, " << self << "_bn_var, 1e-05, " << sz(o) << ")";
    else if (o.kind == "relu") os << "torch.relu(" << a << ")";
    else if (o.kind == "relu6") os << "torch.clamp(" << a << ", 0.0, 6.0)";
    else if (o.kind == "add") os << "quantized.add(" << a << ", " << v(o.b) << ", " << sz(o) << ")";
    else if (o.kind == "avg_pool3") os << "torch.avg_pool2d(" << a << ", [3, 3], [1, 1], [1, 1], False, False, None)";
    else if (o.kind == "max_pool3") os << "torch.max_pool2d(" << a << ", [3, 3], [1, 1], [1, 1], [1, 1], False)";
    else if (o.kind == "max_pool2") os << "torch.max_pool2d(" << a << ", [2, 2], [2, 2], [0, 0], [1, 1], False)";
    else if (o.kind == "avg_pool2_ceil") os << "torch.avg_pool2d(" << a << ", [2, 2], [2, 2], [0, 0], True, True, None)";
    else if (o.kind == "linear")
      os << "quantized.linear(torch.flatten(torch.adaptive_avg_pool2d(" << a << ", [1, 1]), 1).contiguous(), "
         << self << "_w, " << sz(o) << ")";
    else throw std::logic_error("int8 TorchScript: no statement for operation " + o.kind);
    os << "\n";
  }
  os << "    return " << v(q.Output()) << ".dequantize()\n";
  return os.str();
}

/// Writes `net` with WriteOnnx; see ExportOnnx.
void WriteNetOnnx(space::GraphNet& net, const std::string& graph_name, const std::string& path,
                  const ExportInput* input) {
  std::map<std::string, NamedTensor> tensors;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    NamedTensor nt;
    nt.shape = c.sizes().vec();
    nt.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    tensors[name] = std::move(nt);
  };
  for (const auto& p : net->named_parameters()) add(p.key(), p.value());
  for (const auto& b : net->named_buffers())
    if (b.value().is_floating_point()) add(b.key(), b.value());
  WriteOnnx(net->plan(), tensors, graph_name, path, input);
}

}  // namespace

TorchScriptExport ExportTorchScript(const space::SearchSpace& space, const space::Genotype& genotype,
                                    const std::string& weights_path, std::uint64_t seed,
                                    const std::string& out_path, const ExportInput* input) {
  space::GraphNet net = ExportedNet(space.Plan(genotype), weights_path, seed);
  TorchScriptExport result = WriteTorchScript(net, space.input().shape, seed, out_path, input);
  result.trained = !weights_path.empty();
  return result;
}

namespace {
/// Calibration images of `shape` drawn from N(0, 1) (seed 0): the latency kit's int8 models, whose
/// time does not depend on the values their kernels multiply (as the search's int8 timing).
torch::Tensor RandomCalibration(const space::TensorShape& shape) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  return torch::randn({32, shape.c, shape.h, shape.w}, gen);
}

/// Real images an int8 export checks with (check_input): 8, thousands of values for every
/// convolution (a saturating kernel shows on them) and about 25 KB of a Fashion-MNIST file (which
/// the *_torchscript_bytes metrics leave out: a user may strip check_input/check_output).
constexpr std::int64_t kInt8CheckImages = 8;

/// The int8 model an export writes: the network of `plan` (weights from `weights_path`, or
/// initialised from `seed`), quantized as Int8ExportOptions says. `check_images`: the first
/// training images to check the file with (undefined with random calibration).
evaluator::Int8Net QuantizedForExport(const space::NetworkPlan& plan, const std::string& weights_path,
                                      std::uint64_t seed, const Int8ExportOptions& int8,
                                      torch::Tensor* check_images = nullptr) {
  space::GraphNet net = ExportedNet(plan, weights_path, seed);
  net->eval();
  torch::NoGradGuard no_grad;
  evaluator::QuantizeOptions qo;
  qo.calibration = int8.calibration;
  if (int8.random_calibration)
    return evaluator::Int8Net(net, RandomCalibration(plan.vertices[plan.input]), qo);
  const evaluator::Dataset data = evaluator::LoadDataset(int8.data, false, true);
  if (check_images)
    *check_images = data.train_x.narrow(0, 0, std::min(kInt8CheckImages, data.train_x.size(0)))
                        .to(torch::kCPU, torch::kFloat)
                        .clone();  // not a view: a saved view would carry the whole training set
  return evaluator::Int8Net(net, evaluator::CalibrationImages(data.train_x, int8.calibration_images), qo);
}

/// Writes the int8 network `q` (input `in_shape`) as TorchScript; see ExportInt8TorchScript.
/// The int8 module of `q`; with its check data as Int8TorchScript writes it, unless `with_checks`.
torch::jit::Module Int8Module(const evaluator::Int8Net& q, const space::TensorShape& in_shape, std::uint64_t seed,
                              const ExportInput* input, const std::string& calibration,
                              const torch::Tensor& check_images, bool with_checks, torch::Tensor* check_in,
                              torch::Tensor* check_out) {
  torch::jit::Module m("paretonas_Int8Net");
  if (!m.hasattr("training")) m.register_attribute("training", c10::BoolType::get(), false);
  const std::vector<evaluator::Int8Op> ops = q.Ops();
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const evaluator::Int8Op& o = ops[k];
    const std::string name = "q" + std::to_string(k);
    if (o.kind == "conv" || o.kind == "linear") m.register_attribute(name + "_w", o.packed.type(), o.packed);
    if (o.kind == "batch_norm") {
      m.register_buffer(name + "_bn_w", o.bn_weight);
      m.register_buffer(name + "_bn_b", o.bn_bias);
      m.register_buffer(name + "_bn_mean", o.bn_mean);
      m.register_buffer(name + "_bn_var", o.bn_var);
    }
  }
  m.register_attribute("precision", c10::StringType::get(), std::string("int8"));
  m.register_attribute("int8_engine", c10::StringType::get(), evaluator::Int8Engine());
  // The whole arithmetic (engine, weight and activation ranges), as the run and the JSON say it.
  for (const auto& [k, v] : evaluator::Int8Arithmetic(q.WeightBits()))
    if (k != "engine") m.register_attribute("int8_" + k, c10::StringType::get(), v);
  m.register_attribute("calibration", c10::StringType::get(), calibration);
  const bool baked = input && input->baked;
  torch::Tensor check_input, engine_input;
  AddInputMetadata(m, in_shape, seed, input, &check_input, &engine_input, check_images);
  if (with_checks) {
    const torch::Tensor check_output = q.Forward(engine_input).detach().clone();
    m.register_buffer("check_input", check_input);
    m.register_buffer("check_output", check_output);
    if (check_in) *check_in = check_input;
    if (check_out) *check_out = check_output;
  }
  m.define(Int8ForwardSource(q, baked), std::make_shared<QuantizedResolver>());
  m.eval();
  return m;
}

TorchScriptExport WriteInt8TorchScript(const evaluator::Int8Net& q, const space::TensorShape& in_shape,
                                       std::uint64_t seed, const std::string& out_path,
                                       const ExportInput* input, const std::string& calibration,
                                       const torch::Tensor& check_images = {}) {
  TorchScriptExport result;
  torch::Tensor check_input, check_output;
  torch::jit::Module m =
      Int8Module(q, in_shape, seed, input, calibration, check_images, true, &check_input, &check_output);
  m.save(out_path);
  result.max_abs_diff = ReloadDifference(out_path, check_input, check_output);
  if (!(result.max_abs_diff <= 1e-5))
    throw std::runtime_error(out_path + ": the reloaded int8 TorchScript module differs from the engine's by " +
                             std::to_string(result.max_abs_diff));
  return result;
}

/// Writes the int8 network `q` with WriteInt8Onnx; `out_dims` as there.
void WriteInt8NetOnnx(const evaluator::Int8Net& q, const space::TensorShape& in_shape, const std::string& graph_name,
                      const std::string& path, const ExportInput* input, const std::vector<std::int64_t>& out_dims) {
  std::vector<Int8OnnxOp> ops;
  for (const evaluator::Int8Op& o : q.Ops()) {
    Int8OnnxOp p;
    p.kind = o.kind, p.a = o.a, p.b = o.b, p.relu = o.relu, p.scale = o.scale, p.zero_point = o.zero_point;
    p.kernel_h = o.kernel_h, p.kernel_w = o.kernel_w, p.stride = o.stride, p.padding = o.padding, p.groups = o.groups;
    auto floats = [](const torch::Tensor& t) {
      if (!t.defined()) return std::vector<float>{};
      const torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
      return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    if (o.weight_q.defined()) {
      p.weight_shape = o.weight_q.sizes().vec();
      const torch::Tensor ints = o.weight_q.int_repr().contiguous();
      p.weight.assign(ints.data_ptr<std::int8_t>(), ints.data_ptr<std::int8_t>() + ints.numel());
      p.weight_scales = floats(o.weight_q.q_per_channel_scales());
      p.bias = floats(o.bias);
    }
    p.bn_weight = floats(o.bn_weight), p.bn_bias = floats(o.bn_bias), p.bn_mean = floats(o.bn_mean);
    p.bn_var = floats(o.bn_var);
    ops.push_back(std::move(p));
  }
  WriteInt8Onnx(ops, q.Output(), q.Classes(), in_shape, graph_name, path, input, out_dims,
                evaluator::Int8Arithmetic(q.WeightBits()));
}

/// Whether `plan` ends in its classifier (else it outputs a feature map: a kit's single operation).
bool EndsInClassifier(const space::NetworkPlan& plan) {
  for (const auto& e : plan.edges)
    if (e.dst == plan.output && e.live && e.op.kind != space::OpKind::kNone)
      return e.op.kind == space::OpKind::kClassifier || e.op.kind == space::OpKind::kBnReluClassifier;
  return true;
}
}  // namespace

TorchScriptExport ExportInt8TorchScript(const space::SearchSpace& space, const space::Genotype& genotype,
                                        const std::string& weights_path, std::uint64_t seed,
                                        const std::string& out_path, const ExportInput* input,
                                        const Int8ExportOptions& int8) {
  torch::NoGradGuard no_grad;
  torch::Tensor check_images;
  const evaluator::Int8Net q = QuantizedForExport(space.Plan(genotype), weights_path, seed, int8, &check_images);
  TorchScriptExport result =
      WriteInt8TorchScript(q, space.input().shape, seed, out_path, input, int8.Describe(), check_images);
  result.trained = !weights_path.empty();
  return result;
}

void ExportInt8Onnx(const space::SearchSpace& space, const space::Genotype& genotype,
                    const std::string& weights_path, std::uint64_t seed, const std::string& path,
                    const ExportInput* input, const Int8ExportOptions& int8) {
  torch::NoGradGuard no_grad;
  const evaluator::Int8Net q = QuantizedForExport(space.Plan(genotype), weights_path, seed, int8);
  WriteInt8NetOnnx(q, space.input().shape, "paretonas_" + space.name() + "_int8", path, input, {});
}

bool ExportOnnx(const space::SearchSpace& space, const space::Genotype& genotype,
                const std::string& weights_path, std::uint64_t seed, const std::string& path,
                const ExportInput* input) {
  space::GraphNet net = ExportedNet(space.Plan(genotype), weights_path, seed);
  WriteNetOnnx(net, "paretonas_" + space.name(), path, input);
  return !weights_path.empty();
}

TorchScriptExport ExportOperationTorchScript(const space::PlanEdge& edge, std::uint64_t seed,
                                             const std::string& out_path) {
  space::GraphNet net = ExportedNet(space::OneOpPlan(edge), "", seed);
  return WriteTorchScript(net, edge.in, seed, out_path, nullptr);
}

void ExportOperationOnnx(const space::PlanEdge& edge, std::uint64_t seed, const std::string& path) {
  space::GraphNet net = ExportedNet(space::OneOpPlan(edge), "", seed);
  WriteNetOnnx(net, "paretonas_op", path, nullptr);
}

namespace {
Int8ExportOptions KitCalibration() {
  Int8ExportOptions o;
  o.random_calibration = true;
  return o;
}
}  // namespace

TorchScriptExport ExportInt8OperationTorchScript(const space::PlanEdge& edge, std::uint64_t seed,
                                                 const std::string& out_path) {
  torch::NoGradGuard no_grad;
  const Int8ExportOptions int8 = KitCalibration();
  const evaluator::Int8Net q = QuantizedForExport(space::OneOpPlan(edge), "", seed, int8);
  return WriteInt8TorchScript(q, edge.in, seed, out_path, nullptr, int8.Describe());
}

void ExportInt8OperationOnnx(const space::PlanEdge& edge, std::uint64_t seed, const std::string& path) {
  torch::NoGradGuard no_grad;
  const space::NetworkPlan plan = space::OneOpPlan(edge);
  const evaluator::Int8Net q = QuantizedForExport(plan, "", seed, KitCalibration());
  const auto& out = plan.vertices[plan.output];
  std::vector<std::int64_t> dims;
  if (!EndsInClassifier(plan)) dims = {out.c, out.h, out.w};
  WriteInt8NetOnnx(q, edge.in, "paretonas_op_int8", path, nullptr, dims);
}


namespace {
/// Bytes of the ONNX file `write` writes (to a temporary file, removed).
std::int64_t OnnxFileBytes(const std::function<void(const std::string&)>& write) {
  char path[] = "/tmp/paretonas-onnx-size-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("export sizes: cannot create a temporary file");
  ::close(fd);
  std::int64_t bytes = -1;
  try {
    write(path);
    struct stat st;
    if (::stat(path, &st) == 0) bytes = static_cast<std::int64_t>(st.st_size);
  } catch (...) {
    ::unlink(path);
    throw;
  }
  ::unlink(path);
  return bytes;
}
}  // namespace

void AddExportFileBytes(space::GraphNet& trained, const evaluator::Int8Net* q, const space::TensorShape& in_shape,
                        const ExportInput* input, const std::string& space_name, const std::vector<std::string>& wanted,
                        std::map<std::string, double>* metrics) {
  auto wants = [&](const std::string& m) { return std::find(wanted.begin(), wanted.end(), m) != wanted.end(); };
  const std::string pre = q ? "int8_" : "";
  torch::NoGradGuard no_grad;
  if (wants(pre + "torchscript_bytes")) {
    std::ostringstream bytes;
    if (q) {
      Int8Module(*q, in_shape, 0, input, "", {}, false, nullptr, nullptr).save(bytes);
    } else {
      // A CPU copy: the network may train on CUDA, and the file holds CPU tensors.
      space::GraphNet net(trained->plan(), space::GraphNetOptions{});
      const auto from = trained->named_parameters(true), to = net->named_parameters(true);
      for (const auto& p : from) to[p.key()].copy_(p.value().detach().to(torch::kCPU));
      const auto bf = trained->named_buffers(true), bt = net->named_buffers(true);
      for (const auto& b : bf) bt[b.key()].copy_(b.value().detach().to(torch::kCPU));
      FloatModule(net, in_shape, 0, input, false, nullptr, nullptr).save(bytes);
    }
    (*metrics)[pre + "torchscript_bytes"] = static_cast<double>(bytes.str().size());
  }
  if (wants(pre + "onnx_bytes")) {
    std::int64_t bytes = -1;
    if (q) {
      bytes = OnnxFileBytes([&](const std::string& path) {
        WriteInt8NetOnnx(*q, in_shape, "paretonas_" + space_name + "_int8", path, input, {});
      });
    } else {
      bytes = OnnxFileBytes([&](const std::string& path) {
        WriteNetOnnx(trained, "paretonas_" + space_name, path, input);  // WriteNetOnnx copies to the CPU
      });
    }
    if (bytes >= 0) (*metrics)[pre + "onnx_bytes"] = static_cast<double>(bytes);
  }
}

double TorchScriptFileValidationAccuracy(const std::string& path, const evaluator::Dataset& data) {
  const torch::Tensor& x = data.val_x;
  const torch::Tensor& y = data.val_y;
  torch::jit::script::Module m = torch::jit::load(path, torch::kCPU);
  m.eval();
  torch::NoGradGuard no_grad;
  std::int64_t correct = 0;
  for (std::int64_t s = 0; s < x.size(0); s += 500) {
    const std::int64_t len = std::min<std::int64_t>(500, x.size(0) - s);
    const torch::Tensor logits = m.forward({x.narrow(0, s, len).contiguous()}).toTensor();
    correct += logits.argmax(1).eq(y.narrow(0, s, len)).sum().item<std::int64_t>();
  }
  return x.size(0) ? 100.0 * static_cast<double>(correct) / static_cast<double>(x.size(0)) : 0.0;
}

}  // namespace paretonas::experiments
