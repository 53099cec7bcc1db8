// The deploy stage: a trained network quantized to int8 and run with LibTorch's int8 kernels
// (the quantized engines fbgemm/oneDNN on x86, QNNPACK on ARM), as a user ships it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "space/graph_net.h"

namespace paretonas::evaluator {

struct QuantizeOptions {
  /// How an activation's int8 range is chosen from the calibration images: "minmax" (the whole
  /// range seen) or "percentile" (the range holding all but 0.01% of the values at each end, from
  /// a 2048-bin histogram; outliers saturate instead of coarsening every other value).
  std::string calibration = "percentile";
  double percentile = 99.99;
  /// Images per calibration batch.
  int batch = 128;

  /// Empty when valid; else names the field, its value and what is allowed.
  std::string Validate() const;
};

/// "minmax, percentile".
const char* CalibrationNames();

/// The quantized engine this process runs int8 kernels on ("fbgemm", "onednn", "x86" or
/// "qnnpack"): the first of fbgemm, x86, onednn, qnnpack that this LibTorch has, chosen once
/// for the process (LibTorch's engine setting is global). Empty when it has none.
std::string Int8Engine();

/// A trained GraphNet lowered to int8 operations: batch norm folded into the convolutions,
/// per-channel symmetric int8 weights (zero point 0), per-tensor asymmetric uint8 activations
/// whose ranges were calibrated on images the caller chose, and each convolution's ReLU or
/// ReLU6 fused into it. Forward takes float images (normalised as the float network's) and
/// returns float logits; everything between runs as int8 tensors on the engine's kernels. CPU
/// only. Deterministic: integer arithmetic, the same for any number of threads.
class Int8Net {
 public:
  /// Quantizes `net` (its weights as they are now; left untouched) from `calibration` images
  /// [n, c, h, w] (on the CPU). Throws std::runtime_error when this LibTorch has no quantized
  /// engine, c10::Error when a kernel refuses.
  Int8Net(space::GraphNet& net, const torch::Tensor& calibration, const QuantizeOptions& options);
  ~Int8Net();
  Int8Net(Int8Net&&) noexcept;
  Int8Net& operator=(Int8Net&&) noexcept;

  /// x: [batch, c, h, w] float -> logits [batch, classes] float.
  torch::Tensor Forward(const torch::Tensor& x) const;
  /// Bytes of what an int8 export stores: one per weight, 4 per float (biases, per-channel
  /// scales, batch-norm parameters where one could not be folded) and per zero point.
  std::int64_t ModelBytes() const;
  /// Int8 operations and their kind, e.g. "12 ops: 7 conv (5 with relu), 2 add, 1 linear, ...".
  std::string Describe() const;

 private:
  struct Program;
  std::unique_ptr<Program> p_;
};

/// Accuracy (%) of `net` on x, y, in batches (labels compared with the argmax of the logits).
double Int8Accuracy(const Int8Net& net, const torch::Tensor& x, const torch::Tensor& y, int batch = 256);

/// `n` calibration images from `train_x` (CPU float): a fixed random sample (seed 0), the same for
/// every candidate, so that no two candidates are calibrated differently. All when n >= size.
torch::Tensor CalibrationImages(const torch::Tensor& train_x, int n);

}  // namespace paretonas::evaluator
