// ONNX export of an architecture, written natively with ONNX's protobuf classes (libonnx-dev).
#pragma once

#include <cstdint>
#include <map>
#include <string>
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
