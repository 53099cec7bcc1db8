// NOTE: no LibTorch here: the ONNX protobuf classes are kept apart from torch's headers.
#include "experiments/onnx_export.h"
#include "space/op_lowering.h"

#include <stdexcept>

#ifdef PARETONAS_WITH_ONNX
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#endif

namespace paretonas::experiments {

#ifndef PARETONAS_WITH_ONNX
bool OnnxSupported() { return false; }
void WriteOnnx(const space::NetworkPlan&, const std::map<std::string, NamedTensor>&,
               const std::string&, const std::string&, const ExportInput*) {
  throw std::runtime_error("this paretonas was built without ONNX support (install libonnx-dev "
                           "and rebuild)");
}
void WriteInt8Onnx(const std::vector<Int8OnnxOp>&, int, std::int64_t, const space::TensorShape&,
                   const std::string&, const std::string&, const ExportInput*,
                   const std::vector<std::int64_t>&, const std::vector<std::pair<std::string, std::string>>&) {
  throw std::runtime_error("this paretonas was built without ONNX support (install libonnx-dev "
                           "and rebuild)");
}
#else
namespace {

class GraphWriter {
 public:
  /// `prefix` keeps the names of this writer's nodes apart from another writer's.
  GraphWriter(onnx::GraphProto* g, const std::map<std::string, NamedTensor>& tensors,
              std::string prefix = "t")
      : g_(g), tensors_(tensors), prefix_(std::move(prefix)) {}

  // An initializer for a named weight; returns its ONNX name.
  std::string Weight(const std::string& name) {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw std::runtime_error("ONNX export: no weight '" + name + "'");
    if (!added_.insert(name).second) return name;
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : it->second.shape) t->add_dims(d);
    t->mutable_float_data()->Add(it->second.data.begin(), it->second.data.end());
    return name;
  }
  std::string Scalar(const std::string& name, float v) {
    if (added_.insert(name).second) {
      onnx::TensorProto* t = g_->add_initializer();
      t->set_name(name);
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_float_data(v);
    }
    return name;
  }
  std::string Node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& ints = {},
                   const std::vector<std::pair<std::string, float>>& floats = {}) {
    onnx::NodeProto* n = g_->add_node();
    const std::string out = prefix_ + std::to_string(counter_++);
    n->set_op_type(op);
    n->set_name(op + "_" + out);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(out);
    for (const auto& [name, values] : ints) {
      onnx::AttributeProto* a = n->add_attribute();
      a->set_name(name);
      if (values.size() == 1 && (name == "group" || name == "ceil_mode" || name == "count_include_pad" ||
                                 name == "transB" || name == "axis")) {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(values[0]);
      } else {
        a->set_type(onnx::AttributeProto::INTS);
        for (auto v : values) a->add_ints(v);
      }
    }
    for (const auto& [name, value] : floats) {
      onnx::AttributeProto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(value);
    }
    return out;
  }
  std::string Conv(const std::string& x, const std::string& p, int k, int stride, int groups) {
    const std::int64_t pad = k / 2;
    return Node("Conv", {x, Weight(p + ".weight")},
                {{"kernel_shape", {k, k}}, {"strides", {stride, stride}}, {"pads", {pad, pad, pad, pad}},
                 {"dilations", {1, 1}}, {"group", {groups}}});
  }
  std::string Bn(const std::string& x, const std::string& p) {
    return Node("BatchNormalization",
                {x, Weight(p + ".weight"), Weight(p + ".bias"), Weight(p + ".running_mean"),
                 Weight(p + ".running_var")},
                {}, {{"epsilon", 1e-5f}, {"momentum", 0.9f}});
  }
  std::string Relu(const std::string& x) { return Node("Relu", {x}); }
  std::string Relu6(const std::string& x) {
    return Node("Clip", {x, Scalar("clip_min", 0.0f), Scalar("clip_max", 6.0f)});
  }

  std::string Add(const std::string& a, const std::string& b) { return Node("Add", {a, b}); }
  std::string AvgPool3(const std::string& x) {
    return Node("AveragePool", {x}, {{"kernel_shape", {3, 3}}, {"strides", {1, 1}},
                                     {"pads", {1, 1, 1, 1}}, {"count_include_pad", {0}}});
  }
  std::string MaxPool3(const std::string& x) {
    return Node("MaxPool", {x}, {{"kernel_shape", {3, 3}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}}});
  }
  std::string Dense(const std::string& x, const std::string& p, int h, int w) {
    return Node("Conv", {x, Weight(p + ".weight"), Weight(p + ".bias")},
                {{"kernel_shape", {h, w}}, {"strides", {1, 1}}, {"pads", {0, 0, 0, 0}},
                 {"dilations", {1, 1}}, {"group", {1}}});
  }
  std::string MaxPool2(const std::string& x) {
    return Node("MaxPool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}});
  }
  std::string AvgPool2Ceil(const std::string& x) {
    return Node("AveragePool", {x}, {{"kernel_shape", {2, 2}}, {"strides", {2, 2}},
                                     {"ceil_mode", {1}}, {"count_include_pad", {1}}});
  }
  std::string Classifier(const std::string& x, const std::string& p) {
    const std::string pooled = Node("Flatten", {Node("GlobalAveragePool", {x})}, {{"axis", {1}}});
    return Node("Gemm", {pooled, Weight(p + ".weight"), Weight(p + ".bias")}, {{"transB", {1}}});
  }

 private:
  onnx::GraphProto* g_;
  const std::map<std::string, NamedTensor>& tensors_;
  std::string prefix_;
  std::set<std::string> added_;
  int counter_ = 0;
};

void AddValueInfo(onnx::ValueInfoProto* v, const std::string& name,
                  const std::vector<std::int64_t>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
}

void AddMetadata(onnx::ModelProto* model, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* e = model->add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

/// A model (IR 8, opset 13) with an empty graph named `graph_name`, and with `input` the
/// metadata that says how to feed it.
onnx::ModelProto NewModel(const std::string& graph_name, const ExportInput* input) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("paretonas");
  model.add_opset_import()->set_version(13);
  model.mutable_graph()->set_name(graph_name);
  if (input)
    for (const auto& [k, v] : input->Metadata()) AddMetadata(&model, k, v);
  return model;
}

/// Runs ONNX's checker on `model` and writes it to `path`; throws std::runtime_error naming `what`.
void CheckAndWrite(const onnx::ModelProto& model, const std::string& path, const std::string& what) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": the checker rejects the model: " + e.what());
  }
  std::ofstream out(path, std::ios::binary);
  if (!out || !model.SerializeToOstream(&out)) throw std::runtime_error(path + ": cannot write the ONNX file");
}

/// The graph's start: "input", or with input->baked the normalisation nodes after it
/// ((pixels / pixel_max - mean) / std, the engine's own order of operations in float32).
/// Returns the name of what the network reads.
std::string InputNodes(onnx::GraphProto* g, const ExportInput* input, int c) {
  if (!input || !input->baked) return "input";
  auto per_channel = [&](const std::vector<double>& v, float fill) {
    NamedTensor t{{1, c, 1, 1}, std::vector<float>(c, fill)};
    for (int i = 0; i < c && i < static_cast<int>(v.size()); ++i) t.data[i] = static_cast<float>(v[i]);
    return t;
  };
  const std::map<std::string, NamedTensor> norm{{"input_mean", per_channel(input->mean, 0.0f)},
                                                {"input_std", per_channel(input->std, 1.0f)}};
  GraphWriter n(g, norm, "norm_t");
  std::string first = n.Node("Div", {"input", n.Scalar("input_pixel_max", static_cast<float>(input->pixel_max))});
  if (!input->mean.empty())
    first = n.Node("Div", {n.Node("Sub", {first, n.Weight("input_mean")}), n.Weight("input_std")});
  return first;
}

}  // namespace

bool OnnxSupported() { return true; }

void WriteOnnx(const space::NetworkPlan& plan, const std::map<std::string, NamedTensor>& tensors,
               const std::string& graph_name, const std::string& path, const ExportInput* input) {
  onnx::ModelProto model = NewModel(graph_name, input);
  onnx::GraphProto* g = model.mutable_graph();
  const std::string first = InputNodes(g, input, plan.vertices[plan.input].c);
  GraphWriter w(g, tensors);
  std::string output = LowerPlan(w, plan, first);
  if (output.empty()) {
    // The output is unreachable: the network computes zeros, as GraphNet does. Express it with
    // a zero-weight Gemm on the pooled input so that the batch size stays symbolic.
    const int classes = plan.vertices[plan.output].c, c = plan.vertices[plan.input].c;
    std::map<std::string, NamedTensor> zeros{
        {"zero.weight", {{classes, c}, std::vector<float>(static_cast<size_t>(classes) * c, 0.0f)}},
        {"zero.bias", {{classes}, std::vector<float>(classes, 0.0f)}}};
    GraphWriter z(g, zeros, "zero_t");
    output = z.Classifier("input", "zero");
  }
  // A network ends in its classifier: name its output "logits". A plan that ends elsewhere (a
  // single operation of the latency kit) outputs its feature map as "output" [batch, C, H, W].
  bool logits = true;
  for (const auto& e : plan.edges)
    if (e.dst == plan.output && e.live && e.op.kind != space::OpKind::kNone)
      logits = e.op.kind == space::OpKind::kClassifier || e.op.kind == space::OpKind::kBnReluClassifier;
  const std::string out_name = logits ? "logits" : "output";
  onnx::NodeProto* id = g->add_node();
  id->set_op_type("Identity");
  id->set_name("output");
  id->add_input(output);
  id->add_output(out_name);
  const auto& in = plan.vertices[plan.input];
  const auto& ov = plan.vertices[plan.output];
  AddValueInfo(g->add_input(), "input", {in.c, in.h, in.w});
  if (logits) {
    AddValueInfo(g->add_output(), out_name, {ov.c});
  } else {
    AddValueInfo(g->add_output(), out_name, {ov.c, ov.h, ov.w});
  }
  CheckAndWrite(model, path, "ONNX export");
}

namespace {

/// An initializer of any element type from raw little-endian bytes.
std::string RawInitializer(onnx::GraphProto* g, const std::string& name, int type,
                           const std::vector<std::int64_t>& dims, const std::string& bytes) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims) t->add_dims(d);
  t->set_raw_data(bytes);
  return name;
}

template <class T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

void WriteInt8Onnx(const std::vector<Int8OnnxOp>& ops, int output, std::int64_t classes,
                   const space::TensorShape& in_shape, const std::string& graph_name, const std::string& path,
                   const ExportInput* input, const std::vector<std::int64_t>& out_dims,
                   const std::vector<std::pair<std::string, std::string>>& arithmetic) {
  onnx::ModelProto model = NewModel(graph_name, input);
  AddMetadata(&model, "paretonas.precision", "int8");
  for (const auto& [k, v] : arithmetic) AddMetadata(&model, "paretonas.int8." + k, v);
  onnx::GraphProto* g = model.mutable_graph();
  const std::map<std::string, NamedTensor> none;
  const std::string first = InputNodes(g, input, in_shape.c);
  GraphWriter w(g, none, "q");
  // The quantization of every value: (scale, zero point) initializers, and the dequantized name.
  std::vector<std::string> value(ops.size());
  std::vector<std::pair<std::string, std::string>> qp(ops.size());
  auto qparams = [&](std::size_t k, double scale, std::int64_t zp) {
    const std::string base = "q" + std::to_string(k);
    const std::vector<float> s{static_cast<float>(scale)};
    const std::vector<std::uint8_t> z{static_cast<std::uint8_t>(zp)};
    qp[k] = {RawInitializer(g, base + "_scale", onnx::TensorProto::FLOAT, {}, Bytes(s)),
             RawInitializer(g, base + "_zero_point", onnx::TensorProto::UINT8, {}, Bytes(z))};
  };
  // x quantized with k's parameters and dequantized again: the int8 tensor as QDQ writes it.
  auto qdq = [&](const std::string& x, std::size_t k) {
    return w.Node("DequantizeLinear", {w.Node("QuantizeLinear", {x, qp[k].first, qp[k].second}), qp[k].first, qp[k].second});
  };
  // An int8 weight dequantized per output channel, and its bias as int32 at input scale x weight scale.
  auto weights = [&](std::size_t k, const Int8OnnxOp& o, double in_scale, std::string* wq, std::string* bq) {
    const std::string base = "q" + std::to_string(k);
    const std::int64_t co = o.weight_shape.at(0);
    const std::vector<std::int8_t> zeros(static_cast<std::size_t>(co), 0);
    const std::string ws = RawInitializer(g, base + "_w_scale", onnx::TensorProto::FLOAT, {co}, Bytes(o.weight_scales));
    *wq = w.Node("DequantizeLinear",
                 {RawInitializer(g, base + "_w", onnx::TensorProto::INT8, o.weight_shape, Bytes(o.weight)), ws,
                  RawInitializer(g, base + "_w_zero_point", onnx::TensorProto::INT8, {co}, Bytes(zeros))},
                 {{"axis", {0}}});
    bq->clear();
    if (o.bias.empty()) return;
    std::vector<std::int32_t> b(o.bias.size());
    std::vector<float> bs(o.bias.size());
    for (std::size_t c = 0; c < o.bias.size(); ++c) {
      bs[c] = static_cast<float>(in_scale * static_cast<double>(o.weight_scales[c]));
      b[c] = static_cast<std::int32_t>(std::llround(static_cast<double>(o.bias[c]) / static_cast<double>(bs[c])));
    }
    const std::vector<std::int32_t> bz(o.bias.size(), 0);
    *bq = w.Node("DequantizeLinear",
                 {RawInitializer(g, base + "_b", onnx::TensorProto::INT32, {co}, Bytes(b)),
                  RawInitializer(g, base + "_b_scale", onnx::TensorProto::FLOAT, {co}, Bytes(bs)),
                  RawInitializer(g, base + "_b_zero_point", onnx::TensorProto::INT32, {co}, Bytes(bz))},
                 {{"axis", {0}}});
  };
  std::vector<double> scale_of(ops.size(), 1.0);  // each value's quantization, for those that keep their input's
  std::vector<std::size_t> params_of(ops.size(), 0);
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const Int8OnnxOp& o = ops[k];
    const bool own = o.kind == "input" || o.kind == "conv" || o.kind == "batch_norm" || o.kind == "add" || o.kind == "linear";
    if (own) {
      qparams(k, o.scale, o.zero_point);
      params_of[k] = k;
      scale_of[k] = o.scale;
    } else {
      params_of[k] = params_of[o.a];
      scale_of[k] = scale_of[o.a];
    }
    const std::string a = o.a >= 0 ? value[o.a] : "";
    std::string y;
    if (o.kind == "input") {
      y = first;
    } else if (o.kind == "conv") {
      std::string wq, bq;
      weights(k, o, scale_of[o.a], &wq, &bq);
      std::vector<std::string> in{a, wq};
      if (!bq.empty()) in.push_back(bq);
      y = w.Node("Conv", in, {{"kernel_shape", {o.kernel_h, o.kernel_w}}, {"strides", {o.stride, o.stride}},
                              {"pads", {o.padding, o.padding, o.padding, o.padding}}, {"dilations", {1, 1}},
                              {"group", {o.groups}}});
      if (o.relu) y = w.Node("Relu", {y});  // ReLU6: the output range saturates at its top
    } else if (o.kind == "batch_norm") {
      const std::int64_t c = static_cast<std::int64_t>(o.bn_weight.size());
      const std::string base = "q" + std::to_string(k) + "_bn";
      y = w.Node("BatchNormalization",
                 {a, RawInitializer(g, base + "_w", onnx::TensorProto::FLOAT, {c}, Bytes(o.bn_weight)),
                  RawInitializer(g, base + "_b", onnx::TensorProto::FLOAT, {c}, Bytes(o.bn_bias)),
                  RawInitializer(g, base + "_mean", onnx::TensorProto::FLOAT, {c}, Bytes(o.bn_mean)),
                  RawInitializer(g, base + "_var", onnx::TensorProto::FLOAT, {c}, Bytes(o.bn_var))},
                 {}, {{"epsilon", 1e-5f}, {"momentum", 0.9f}});
      if (o.relu) y = w.Node("Relu", {y});
    } else if (o.kind == "relu") {
      y = w.Node("Relu", {a});
    } else if (o.kind == "relu6") {
      y = w.Node("Clip", {a, w.Scalar("clip_min", 0.0f), w.Scalar("clip_max", 6.0f)});
    } else if (o.kind == "add") {
      y = w.Node("Add", {a, value[o.b]});
    } else if (o.kind == "avg_pool3") {
      y = w.AvgPool3(a);
    } else if (o.kind == "max_pool3") {
      y = w.MaxPool3(a);
    } else if (o.kind == "max_pool2") {
      y = w.MaxPool2(a);
    } else if (o.kind == "avg_pool2_ceil") {
      y = w.AvgPool2Ceil(a);
    } else if (o.kind == "linear") {
      // The pooled features keep the input's quantization (the engine's average pool does).
      const std::string pooled = w.Node("Flatten", {qdq(w.Node("GlobalAveragePool", {a}), params_of[o.a])}, {{"axis", {1}}});
      std::string wq, bq;
      weights(k, o, scale_of[o.a], &wq, &bq);
      std::vector<std::string> in{pooled, wq};
      if (!bq.empty()) in.push_back(bq);
      y = w.Node("Gemm", in, {{"transB", {1}}});
    } else {
      throw std::runtime_error("int8 ONNX export: no form for operation " + o.kind);
    }
    value[k] = qdq(y, params_of[k]);
  }
  std::string out_value;
  if (output >= 0) {
    out_value = value[output];
  } else {  // as WriteOnnx: zeros through a zero-weight Gemm, so that the batch stays symbolic
    const std::int64_t c = in_shape.c;
    std::map<std::string, NamedTensor> zeros{
        {"zero.weight", {{classes, c}, std::vector<float>(static_cast<size_t>(classes * c), 0.0f)}},
        {"zero.bias", {{classes}, std::vector<float>(classes, 0.0f)}}};
    GraphWriter z(g, zeros, "zero_t");
    out_value = z.Classifier("input", "zero");
  }
  onnx::NodeProto* id = g->add_node();
  id->set_op_type("Identity");
  id->set_name("output");
  id->add_input(out_value);
  const std::string out_name = out_dims.empty() ? "logits" : "output";
  id->add_output(out_name);
  AddValueInfo(g->add_input(), "input", {in_shape.c, in_shape.h, in_shape.w});
  AddValueInfo(g->add_output(), out_name, out_dims.empty() ? std::vector<std::int64_t>{classes} : out_dims);
  CheckAndWrite(model, path, "int8 ONNX export");
}
#endif

}  // namespace paretonas::experiments
