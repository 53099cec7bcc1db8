// The deploy stage: a trained network quantized to int8 and run with LibTorch's int8 kernels
// (the quantized engines fbgemm/oneDNN on x86, QNNPACK on ARM), as a user ships it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  /// Bits of the per-channel symmetric weights: 7 ([-63, 63], the default) or 8 ([-127, 127]).
  /// x86 CPUs without VNNI (AVX2, AVX-512 before Cascade Lake; AMD before Zen 4) multiply uint8
  /// activations by int8 weights with vpmaddubsw, which sums two products into 16 bits and
  /// saturates above 32,767: with 8-bit weights, 255 x 127 x 2 overflows and such a CPU computes
  /// another network than a CPU with VNNI (measured: up to 10 steps of a convolution's output grid,
  /// 15% of its values; logits 15-37% off). With 7 bits, 255 x 63 x 2 = 32,130 fits: every x86
  /// CPU, ARM and ONNX Runtime compute the same exact integer arithmetic. 8 is for the benchmark
  /// that measures what the seventh bit costs (bench/int8_weight_bits_bench), not for a search.
  int weight_bits = 7;

  /// Empty when valid; else names the field, its value and what is allowed.
  std::string Validate() const;
};

/// Quantization-aware fine-tuning (`deploy.finetune_epochs`).
struct FineTuneOptions {
  int epochs = 1;
  int batch = 32;
  double lr = 0.005;  ///< TrainEvaluator: the experiment's training.lr / 1000
  double momentum = 0.9;
  std::uint64_t seed = 0;  ///< the order of the images

  /// Empty when valid; else names the field, its value and what is allowed.
  std::string Validate() const;
};

/// "minmax, percentile".
const char* CalibrationNames();

/// The integer arithmetic of this process's int8 models, as runs and exports record it:
/// {"engine": Int8Engine(), "weights": "int8 per channel, symmetric, 7 bits [-63, 63]",
/// "activations": "uint8 per tensor, 8 bits [0, 255]"}, in that order. Two processes whose
/// descriptions are equal compute the same int8 outputs, whatever their CPU's ISA (VNNI or not).
std::vector<std::pair<std::string, std::string>> Int8Arithmetic(int weight_bits = 7);

/// The largest weight magnitude of `bits`-bit symmetric weights (63 for 7, 127 for 8).
inline int WeightQMax(int bits) { return (1 << (bits - 1)) - 1; }

/// The quantized engine this process runs int8 kernels on ("fbgemm", "onednn", "x86" or
/// "qnnpack"): the first of fbgemm, x86, onednn, qnnpack that this LibTorch has, chosen once
/// for the process (LibTorch's engine setting is global). Empty when it has none.
std::string Int8Engine();

/// One operation of an Int8Net as an exporter sees it (Int8Net::Ops), in execution order; each
/// reads earlier operations' outputs by index (0 is the input's quantization).
struct Int8Op {
  /// input, conv, batch_norm, relu, relu6, add, avg_pool3, max_pool3, max_pool2, avg_pool2_ceil, linear
  std::string kind;
  int a = -1, b = -1;  ///< operands
  /// conv: a ReLU (also for ReLU6, whose clamp the output range's saturation makes) fused; batch_norm: ReLU.
  bool relu = false;
  bool relu6 = false;
  /// The output's quantization (input, conv, batch_norm, add, linear; the others keep their input's).
  double scale = 1.0;
  std::int64_t zero_point = 0;
  /// conv, linear: the prepacked weights the kernels take (a TorchScript-serialisable object), the
  /// per-channel int8 weight itself and the float bias.
  c10::IValue packed;
  torch::Tensor weight_q, bias;
  std::int64_t kernel_h = 1, kernel_w = 1, stride = 1, padding = 0, groups = 1;
  torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;  ///< batch_norm (eps 1e-5)
};

/// A trained GraphNet lowered to int8 operations: batch norm folded into the convolutions,
/// per-channel symmetric int8 weights of QuantizeOptions::weight_bits (zero point 0), per-tensor asymmetric uint8 activations
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

  /// The same network with its weights prepacked anew. LibTorch's oneDNN int8 convolution caches
  /// its primitive for the first input shape it runs and rebuilds it on every call of another
  /// shape: a network first run at batch 256 (validation) then timed at batch 1 measured 2.2x
  /// its time. Time a network that has run nothing else (Repacked() of the one validated).
  Int8Net Repacked() const;

  /// Quantization-aware fine-tuning of the network this was built from: `f.epochs` epochs of SGD
  /// on (x, y) through this program in float with every rounding of its int8 kernels simulated
  /// (the input and each requantized value on its calibrated grid, weights per channel on theirs;
  /// straight-through gradients), batch norm kept folded with its statistics frozen. The trained
  /// weights are written back into `net` (each batch norm unfolded again: its affine parameters
  /// change, its running statistics do not); this Int8Net is unchanged: quantize `net` again,
  /// on the same calibration images, for the fine-tuned int8 model (as an export of the saved
  /// weights does). Deterministic for a given f.seed. Returns the last epoch's mean loss; throws
  /// std::runtime_error when it diverges.
  double FineTune(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                  const FineTuneOptions& f) const;

  /// x: [batch, c, h, w] float -> logits [batch, classes] float.
  torch::Tensor Forward(const torch::Tensor& x) const;
  /// Bytes of the int8 model's tensors: one per weight, 4 per float (biases, per-channel
  /// scales, batch-norm parameters where one could not be folded) and per zero point. Not the
  /// size of a file: an export adds its format's structure (metrics int8_model_bytes vs
  /// int8_torchscript_bytes / int8_onnx_bytes).
  std::int64_t ModelBytes() const;
  /// The weight bits this network was quantized with.
  int WeightBits() const;
  /// The operations, for exporters; Output() the one whose value is the logits (-1: the output is
  /// unreachable, and Forward returns zeros of Classes() columns).
  std::vector<Int8Op> Ops() const;
  int Output() const;
  std::int64_t Classes() const;
  /// Int8 operations and their kind, e.g. "12 ops: 7 conv (5 with relu), 2 add, 1 linear, ...".
  std::string Describe() const;

 private:
  Int8Net() = default;
  struct Program;
  std::unique_ptr<Program> p_;
};

/// Accuracy (%) of `net` on x, y, in batches (labels compared with the argmax of the logits).
double Int8Accuracy(const Int8Net& net, const torch::Tensor& x, const torch::Tensor& y, int batch = 256);

/// `n` calibration images from `train_x` (CPU float): a fixed random sample (seed 0), the same for
/// every candidate, so that no two candidates are calibrated differently. All when n >= size.
torch::Tensor CalibrationImages(const torch::Tensor& train_x, int n);

}  // namespace paretonas::evaluator
