// ONNX export of an architecture, written natively with ONNX's protobuf classes (libonnx-dev).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "experiments/export_input.h"
#include "space/network_plan.h"
#include "space/search_space.h"

namespace paretonas::experiments {

/// A weight as plain data, named like GraphNet's parameters and buffers ("e3.1.weight").
struct NamedTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

/// Whether this build can write ONNX (libonnx-dev was found at configure time).
bool OnnxSupported();

/// Writes an ONNX model (opset 13, IR 8, input "input" [batch, C, H, W] with a symbolic batch,
/// output "logits") of the live graph of `plan`, with BatchNormalization in inference form.
/// A network whose output is unreachable outputs zeros, as GraphNet does. Runs ONNX's checker
/// before writing. Throws std::runtime_error (no ONNX support, a failed check, a write error).
/// With `input`, the model's metadata_props say how to feed it (ExportInput::Metadata) and, when
/// input->baked, the graph starts with the normalisation (Div, Sub, Div) so that it takes pixels.
void WriteOnnx(const space::NetworkPlan& plan, const std::map<std::string, NamedTensor>& tensors,
               const std::string& graph_name, const std::string& path,
               const ExportInput* input = nullptr);

/// One operation of an int8 network as plain data (evaluator::Int8Op without LibTorch).
struct Int8OnnxOp {
  std::string kind;  ///< as evaluator::Int8Op: input, conv, batch_norm, relu, relu6, add, pools, linear
  int a = -1, b = -1;
  bool relu = false;
  double scale = 1.0;  ///< the output's quantization (uint8)
  std::int64_t zero_point = 0;
  std::vector<std::int64_t> weight_shape;  ///< conv: [co, ci/groups, kh, kw]; linear: [classes, c]
  std::vector<std::int8_t> weight;         ///< per-channel symmetric int8
  std::vector<float> weight_scales;        ///< one per output channel
  std::vector<float> bias;                 ///< float, one per output channel (may be empty)
  std::int64_t kernel_h = 1, kernel_w = 1, stride = 1, padding = 0, groups = 1;
  std::vector<float> bn_weight, bn_bias, bn_mean, bn_var;
};

/// Writes the int8 network `ops` in ONNX's QDQ form (opset 13): each quantized tensor is a
/// QuantizeLinear/DequantizeLinear pair with the engine's scale and zero point, weights are int8
/// initializers dequantized per channel, biases int32 at the input scale times the weight scale,
/// so that ONNX Runtime fuses them into its int8 kernels (QLinearConv, QLinearAdd, ...). Input,
/// output and metadata as WriteOnnx; metadata also says paretonas.precision = int8. `output` < 0:
/// the logits are zeros of `classes` columns. `out_dims` empty: the output is "logits"
/// [batch, classes]; else "output" [batch, out_dims...] (a kit's single operation). `arithmetic`
/// (evaluator::Int8Arithmetic: engine, weights, activations) goes into the metadata as
/// paretonas.int8.<key>.
void WriteInt8Onnx(const std::vector<Int8OnnxOp>& ops, int output, std::int64_t classes,
                   const space::TensorShape& in_shape, const std::string& graph_name, const std::string& path,
                   const ExportInput* input = nullptr, const std::vector<std::int64_t>& out_dims = {},
                   const std::vector<std::pair<std::string, std::string>>& arithmetic = {});

/// Builds the module of `genotype` (weights from `weights_path`, or a fresh initialisation from
/// `seed` when empty) and writes it with WriteOnnx. Returns whether the weights were trained.
bool ExportOnnx(const space::SearchSpace& space, const space::Genotype& genotype,
                const std::string& weights_path, std::uint64_t seed, const std::string& path,
                const ExportInput* input = nullptr);

/// The single operation `edge` as ONNX (input "input" [batch, C, H, W], output "output", or
/// "logits" for a classifier), initialised from `seed`: the latency kit's per-op models.
/// Defined with the TorchScript exporter (it builds the module); throws like ExportOnnx.
void ExportOperationOnnx(const space::PlanEdge& edge, std::uint64_t seed, const std::string& path);

}  // namespace paretonas::experiments
