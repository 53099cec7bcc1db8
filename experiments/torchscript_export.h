// TorchScript export of an architecture (loads with torch.jit.load and torch::jit::load).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "evaluator/dataset_info.h"
#include "experiments/export_input.h"
#include "space/network_plan.h"
#include "space/search_space.h"

namespace paretonas::space {
class GraphNet;
}  // namespace paretonas::space
namespace paretonas::evaluator {
class Int8Net;
struct Dataset;
}  // namespace paretonas::evaluator

namespace paretonas::experiments {

struct TorchScriptExport {
  double max_abs_diff = 0;  ///< between the engine's module and the reloaded file, on check_input
  bool trained = false;
};

/// Writes `genotype` as a scripted module to `out_path`. Weights come from `weights_path` (a
/// module saved by TrainFinal) or, when empty, a fresh initialisation from `seed`. The file
/// also holds buffers `check_input` (2 random images) and `check_output` (the engine's logits
/// for them), so that any loader can verify it: `m(m.check_input)` ≈ `m.check_output`.
/// The file is reloaded and compared before returning; throws std::runtime_error when the
/// difference exceeds 1e-5.
/// The module trains in Python as a torch.nn.Module would: its weights are parameters that
/// require gradients, and its BatchNorms follow train() / eval() (batch statistics and running
/// averages with momentum 0.1 in training mode, the running averages in eval mode).
/// With `input`, the module also carries how to feed it: buffers input_mean and input_std
/// ([1, C, 1, 1]), attributes pixel_max, class_names, preprocessing (the formula as text) and
/// normalization_baked, and
/// a method preprocess(pixels) = (pixels / pixel_max - input_mean) / input_std; when
/// input->baked, forward calls it first (feed it pixels) and check_input holds pixels.
TorchScriptExport ExportTorchScript(const space::SearchSpace& space, const space::Genotype& genotype,
                                    const std::string& weights_path, std::uint64_t seed,
                                    const std::string& out_path, const ExportInput* input = nullptr);

/// How an int8 export is quantized: as the search's deploy stage (evaluator/quantize.h), with
/// `calibration_images` images drawn from the training set of `data` as TrainFinal loads it (the
/// validation images included), so that the exported model is the one whose int8 test accuracy
/// TrainFinal reported.
struct Int8ExportOptions {
  evaluator::DatasetOptions data;
  int calibration_images = 512;
  std::string calibration = "percentile";
  /// The latency kit: 32 images from N(0, 1) instead of `data` (the time of int8 kernels does not
  /// depend on the values they multiply; the search's int8 timing calibrates so too).
  bool random_calibration = false;
  /// What the file's `calibration` attribute says, e.g. "percentile on 512 training images".
  std::string Describe() const {
    return calibration + (random_calibration ? " on 32 random N(0, 1) images (timing only)"
                                             : " on " + std::to_string(calibration_images) + " training images");
  }
};

/// As ExportTorchScript, the int8 model: quantized tensors and LibTorch's int8 operators
/// (torch.ops.quantized.conv2d, add, linear, ...; the prepacked weights are attributes), which
/// torch.jit.load runs in PyTorch with its quantized engine. Takes float input (normalised, or
/// pixels when baked) and returns float logits; check_output holds the int8 model's logits, and
/// the reloaded file must equal them (max |difference| <= 1e-5). The attribute `precision` is
/// "int8".
TorchScriptExport ExportInt8TorchScript(const space::SearchSpace& space, const space::Genotype& genotype,
                                        const std::string& weights_path, std::uint64_t seed,
                                        const std::string& out_path, const ExportInput* input,
                                        const Int8ExportOptions& int8);

/// The same int8 model as ONNX in QDQ form (WriteInt8Onnx), for ONNX Runtime's int8 kernels.
void ExportInt8Onnx(const space::SearchSpace& space, const space::Genotype& genotype,
                    const std::string& weights_path, std::uint64_t seed, const std::string& path,
                    const ExportInput* input, const Int8ExportOptions& int8);

/// The single operation `edge` at its shapes, initialised from `seed` (the latency kit's per-op
/// models): input [batch, C, H, W] of edge.in, output edge.out (a feature map, or logits for a
/// classifier). Checked on reload like ExportTorchScript.
TorchScriptExport ExportOperationTorchScript(const space::PlanEdge& edge, std::uint64_t seed,
                                             const std::string& out_path);
/// As ExportOperationTorchScript, and the kit's int8 models (`latency kit --precision int8`): the
/// operation quantized as the deploy stage does (calibrated on random images), as int8 TorchScript
/// and as QDQ ONNX.
TorchScriptExport ExportInt8OperationTorchScript(const space::PlanEdge& edge, std::uint64_t seed,
                                                 const std::string& out_path);
void ExportInt8OperationOnnx(const space::PlanEdge& edge, std::uint64_t seed, const std::string& path);

/// The sizes of the files `export` writes for a trained network, less the check data the
/// TorchScript file carries for scripts/check-*.py (check_input, check_output): the file a user
/// ships. `wanted`: which of torchscript_bytes, onnx_bytes (fp32, q null) or int8_torchscript_bytes,
/// int8_onnx_bytes (the int8 model `q`) to add to `metrics`. ONNX needs ONNX support.
void AddExportFileBytes(space::GraphNet& net, const evaluator::Int8Net* q, const space::TensorShape& in_shape,
                        const ExportInput* input, const std::string& space_name, const std::vector<std::string>& wanted,
                        std::map<std::string, double>* metrics);

/// Top-1 accuracy (%) of the TorchScript file at `path` (loaded as a user would, on the CPU) on
/// the validation images of `data` (normalised, NCHW).
double TorchScriptFileValidationAccuracy(const std::string& path, const evaluator::Dataset& data);

}  // namespace paretonas::experiments
