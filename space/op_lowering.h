// Lowering of a network plan to primitive operations, shared by every exporter and by the int8
// deployment stage (evaluator/quantize.cpp).
// NOTE: the weight names follow GraphNet's modules (space/graph_net.cpp): "e<edge id>.<child>.<param>".
// Keep the two in step; the export tests compare exported outputs with GraphNet's.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "space/network_plan.h"

namespace paretonas::space {

/// Emits the primitives of one edge on `e`, an emitter with string-valued handles:
///   Conv(x, prefix, kernel, stride, groups)   convolution without bias, padding kernel/2
///   Bn(x, prefix)                             inference batch norm (eps 1e-5)
///   Relu(x), Relu6(x), Add(a, b)
///   AvgPool3(x)                               3x3, stride 1, pad 1, padding not counted
///   MaxPool3(x)                               3x3, stride 1, pad 1
///   MaxPool2(x)                               2x2, stride 2, no padding
///   Dense(x, prefix, h, w)                    convolution with bias over the whole h x w map
///   AvgPool2Ceil(x)                           2x2, stride 2, ceil mode
///   Classifier(x, prefix)                     global average pool, then Linear(prefix)
template <class Emitter>
std::string LowerOp(Emitter& e, const PlanEdge& edge, const std::string& x) {
  const std::string p = "e" + std::to_string(edge.id);
  const OpSpec& op = edge.op;
  switch (op.kind) {
    case OpKind::kSkip: return x;
    case OpKind::kNorConv: return e.Bn(e.Conv(e.Relu(x), p + ".1", op.kernel, 1, 1), p + ".2");
    case OpKind::kAvgPool: return e.AvgPool3(x);
    case OpKind::kMaxPool: return e.MaxPool3(x);
    case OpKind::kMaxPoolDown: return e.MaxPool2(x);
    case OpKind::kDenseRelu: return e.Relu(e.Dense(x, p + ".0", edge.in.h, edge.in.w));
    case OpKind::kConvBn: return e.Bn(e.Conv(x, p + ".0", op.kernel, op.stride, 1), p + ".1");
    case OpKind::kConvBnRelu: return e.Relu(e.Bn(e.Conv(x, p + ".0", op.kernel, op.stride, 1), p + ".1"));
    case OpKind::kResNetBasic: {
      const std::string a = e.Bn(e.Conv(e.Relu(x), p + ".conv_a.1", 3, op.stride, 1), p + ".conv_a.2");
      const std::string b = e.Bn(e.Conv(e.Relu(a), p + ".conv_b.1", 3, 1, 1), p + ".conv_b.2");
      return e.Add(e.Conv(e.AvgPool2Ceil(x), p + ".down.1", 1, 1, 1), b);
    }
    case OpKind::kMBConv: {
      const int hidden = edge.in.c * op.expansion;
      std::string y = x;
      int i = 0;  // index of the depthwise conv among the Sequential's children
      if (op.expansion != 1) {
        y = e.Relu6(e.Bn(e.Conv(y, p + ".0", 1, 1, 1), p + ".1"));
        i = 3;
      }
      auto child = [&](int k) { return p + "." + std::to_string(i + k); };
      y = e.Relu6(e.Bn(e.Conv(y, child(0), op.kernel, op.stride, hidden), child(1)));
      return e.Bn(e.Conv(y, child(3), 1, 1, 1), child(4));
    }
    case OpKind::kClassifier: return e.Classifier(x, p + ".fc");
    case OpKind::kBnReluClassifier: return e.Classifier(e.Relu(e.Bn(x, p + ".bn")), p + ".fc");
    case OpKind::kNone: break;
  }
  throw std::logic_error("LowerOp: no lowering for op " + op.Label());
}

/// Lowers the live graph of `plan` from `input`: each vertex is the sum of its live incoming
/// edges. Returns the output's handle, or "" when the output is unreachable (GraphNet then
/// outputs zeros).
template <class Emitter>
std::string LowerPlan(Emitter& e, const NetworkPlan& plan, const std::string& input) {
  std::vector<std::string> value(plan.vertices.size());
  value[plan.input] = input;
  for (const auto& edge : plan.edges) {
    if (!edge.live || edge.op.kind == OpKind::kNone || value[edge.src].empty()) continue;
    const std::string out = LowerOp(e, edge, value[edge.src]);
    value[edge.dst] = value[edge.dst].empty() ? out : e.Add(value[edge.dst], out);
  }
  return value[plan.output];
}

}  // namespace paretonas::space
