#include "experiments/torchscript_export.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <sstream>
#include <stdexcept>

#include "experiments/onnx_export.h"
#include "space/graph_net.h"

namespace paretonas::experiments {
namespace {

std::string Attr(const std::string& dotted) {
  std::string s = dotted;
  for (char& c : s)
    if (c == '.') c = '_';
  return "self." + s;
}

std::string Conv(const std::string& x, const std::string& p, int kernel, int stride, int groups) {
  std::ostringstream os;
  os << "torch.conv2d(" << x << ", " << Attr(p + ".weight") << ", None, [" << stride << ", "
     << stride << "], [" << kernel / 2 << ", " << kernel / 2 << "], [1, 1], " << groups << ")";
  return os.str();
}

std::string Bn(const std::string& x, const std::string& p) {
  return "torch.batch_norm(" + x + ", " + Attr(p + ".weight") + ", " + Attr(p + ".bias") + ", " +
         Attr(p + ".running_mean") + ", " + Attr(p + ".running_var") + ", False, 0.1, 1e-05, False)";
}

std::string Relu6(const std::string& x) { return "torch.clamp(" + x + ", 0.0, 6.0)"; }

// TorchScript expression of one edge's operation applied to `x` (module names as GraphNet's).
std::string OpCode(const space::PlanEdge& e, const std::string& x) {
  using space::OpKind;
  const std::string p = "e" + std::to_string(e.id);
  const space::OpSpec& op = e.op;
  switch (op.kind) {
    case OpKind::kSkip: return x;
    case OpKind::kNorConv: return Bn(Conv("torch.relu(" + x + ")", p + ".1", op.kernel, 1, 1), p + ".2");
    case OpKind::kAvgPool: return "torch.avg_pool2d(" + x + ", [3, 3], [1, 1], [1, 1], False, False, None)";
    case OpKind::kMaxPool: return "torch.max_pool2d(" + x + ", [3, 3], [1, 1], [1, 1], [1, 1], False)";
    case OpKind::kConvBn: return Bn(Conv(x, p + ".0", op.kernel, op.stride, 1), p + ".1");
    case OpKind::kConvBnRelu: return "torch.relu(" + Bn(Conv(x, p + ".0", op.kernel, op.stride, 1), p + ".1") + ")";
    case OpKind::kResNetBasic: {
      const std::string a = Bn(Conv("torch.relu(" + x + ")", p + ".conv_a.1", 3, op.stride, 1), p + ".conv_a.2");
      const std::string b = Bn(Conv("torch.relu(" + a + ")", p + ".conv_b.1", 3, 1, 1), p + ".conv_b.2");
      const std::string d = Conv("torch.avg_pool2d(" + x + ", [2, 2], [2, 2], [0, 0], True, True, None)",
                                 p + ".down.1", 1, 1, 1);
      return "(" + d + " + " + b + ")";
    }
    case OpKind::kMBConv: {
      const int hid = e.in.c * op.expansion;
      std::string y = x;
      int i = 0;
      if (op.expansion != 1) {
        y = Relu6(Bn(Conv(y, p + ".0", 1, 1, 1), p + ".1"));
        i = 3;
      }
      y = Relu6(Bn(Conv(y, p + "." + std::to_string(i), op.kernel, op.stride, hid), p + "." + std::to_string(i + 1)));
      y = Bn(Conv(y, p + "." + std::to_string(i + 3), 1, 1, 1), p + "." + std::to_string(i + 4));
      return y;
    }
    case OpKind::kClassifier:
    case OpKind::kBnReluClassifier: {
      std::string y = x;
      if (op.kind == OpKind::kBnReluClassifier) y = "torch.relu(" + Bn(y, p + ".bn") + ")";
      return "torch.addmm(" + Attr(p + ".fc.bias") + ", torch.mean(" + y + ", [2, 3]), " +
             Attr(p + ".fc.weight") + ".t())";
    }
    case OpKind::kNone: break;
  }
  throw std::logic_error("OpCode: no code for op " + op.Label());
}

std::string ForwardSource(const space::NetworkPlan& plan) {
  std::vector<bool> defined(plan.vertices.size(), false);
  defined[plan.input] = true;
  std::ostringstream os;
  os << "def forward(self, x):\n    v" << plan.input << " = x\n";
  for (const auto& e : plan.edges) {
    if (!e.live || e.op.kind == space::OpKind::kNone || !defined[e.src]) continue;
    const std::string out = OpCode(e, "v" + std::to_string(e.src));
    const std::string v = "v" + std::to_string(e.dst);
    os << "    " << v << " = " << (defined[e.dst] ? v + " + " : "") << out << "\n";
    defined[e.dst] = true;
  }
  if (defined[plan.output]) {
    os << "    return v" << plan.output << "\n";
  } else {
    os << "    return torch.zeros([x.size(0), " << plan.vertices[plan.output].c << "])\n";
  }
  return os.str();
}

}  // namespace

TorchScriptExport ExportTorchScript(const space::SearchSpace& space, const space::Genotype& genotype,
                                    const std::string& weights_path, std::uint64_t seed,
                                    const std::string& out_path) {
  TorchScriptExport result;
  space::GraphNet net(space.Plan(genotype), space::GraphNetOptions{});
  if (!weights_path.empty()) {
    torch::load(net, weights_path);
    result.trained = true;
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    space::InitializeParameters(*net, gen);
  }
  net->eval();
  torch::NoGradGuard no_grad;
  torch::jit::Module m("paretonas_GraphNet");
  for (const auto& p : net->named_parameters()) m.register_parameter(Attr(p.key()).substr(5), p.value().detach().clone(), false);
  for (const auto& b : net->named_buffers()) m.register_buffer(Attr(b.key()).substr(5), b.value().detach().clone());
  const space::InputSpec in = space.input();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0xC0FFEEULL);
  const torch::Tensor check_input = torch::randn({2, in.shape.c, in.shape.h, in.shape.w}, gen);
  const torch::Tensor check_output = net->forward(check_input).detach().clone();
  m.register_buffer("check_input", check_input);
  m.register_buffer("check_output", check_output);
  m.define(ForwardSource(net->plan()));
  m.eval();
  m.save(out_path);
  torch::jit::Module loaded = torch::jit::load(out_path);
  loaded.eval();
  const torch::Tensor out = loaded.forward({check_input}).toTensor();
  result.max_abs_diff = (out - check_output).abs().max().item<double>();
  if (!(result.max_abs_diff <= 1e-5)) {
    throw std::runtime_error(out_path + ": the reloaded TorchScript module differs from the engine's by " +
                             std::to_string(result.max_abs_diff));
  }
  return result;
}

bool ExportOnnx(const space::SearchSpace& space, const space::Genotype& genotype,
                const std::string& weights_path, std::uint64_t seed, const std::string& path) {
  space::GraphNet net(space.Plan(genotype), space::GraphNetOptions{});
  if (!weights_path.empty()) {
    torch::load(net, weights_path);
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    space::InitializeParameters(*net, gen);
  }
  std::map<std::string, NamedTensor> tensors;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    NamedTensor nt;
    nt.shape = c.sizes().vec();
    nt.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    tensors[name] = std::move(nt);
  };
  for (const auto& p : net->named_parameters()) add(p.key(), p.value());
  for (const auto& b : net->named_buffers())
    if (b.value().is_floating_point()) add(b.key(), b.value());
  WriteOnnx(net->plan(), tensors, "paretonas_" + space.name(), path);
  return !weights_path.empty();
}

}  // namespace paretonas::experiments
