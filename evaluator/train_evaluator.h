// TrainEvaluator: trains each candidate (LibTorch) and measures it. Header is torch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "evaluator/dataset_info.h"
#include "evaluator/latency_estimate.h"
#include "evaluator/eval_types.h"
#include "space/search_space.h"

namespace paretonas::space {
class GraphNet;
}  // namespace paretonas::space

namespace paretonas::evaluator {

class Int8Net;

/// Adds the sizes of the files an export would write for a trained network to `metrics`
/// (torchscript_bytes, onnx_bytes; with `q`, the int8 model: int8_torchscript_bytes,
/// int8_onnx_bytes). The CLI owns the exporters and sets it (TrainOptions::file_bytes) when an
/// objective or constraint uses one of them. Called on a worker thread; `net` may be on CUDA.
using FileBytesFn = std::function<void(space::GraphNet& net, const Int8Net* q, std::map<std::string, double>* metrics)>;

struct TrainOptions {
  int epochs = 1;
  std::int64_t steps = 0;        ///< when > 0, the budget in steps instead of epochs
  int batch_size = 128;
  std::string optimizer = "sgd";  ///< sgd (momentum, nesterov) | adamw
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  double label_smoothing = 0.0;
  /// Memory layout of images and convolution weights while training: auto (channels_last on
  /// CPU, nchw on CUDA) | channels_last | nchw. Results differ in the last bits between layouts.
  std::string layout = "auto";
  int threads_per_worker = 1;     ///< intra-op threads of each trainer
  std::string device = "cpu";     ///< cpu | cuda
  /// CUDA graphs (device cuda): auto | on | off. on captures a candidate's whole SGD training
  /// step (forward, backward, update) once and replays it, so that a step costs one launch
  /// instead of hundreds; what cannot be captured (AdamW, fp16, multi-fidelity rungs, the last
  /// partial batch of an epoch) runs eagerly, and a result counts both kinds of step
  /// (graph_steps, eager_steps). The update is written with its learning rate in a device
  /// tensor: results equal eager training to float rounding, not bit for bit. on needs cuda.
  /// auto runs eagerly for now: graphs have not yet been run on a GPU (bench/RESULTS.md); it
  /// becomes on where a device check measures that they pay.
  std::string cuda_graphs = "auto";
  /// Training arithmetic (device cuda): fp32 | bf16 | fp16. bf16 and fp16 run the forward pass
  /// and the loss under autocast; fp16 scales the loss (a dynamic scale, steps with inf or NaN
  /// gradients skipped, as PyTorch's GradScaler does). Weights, updates and validation stay fp32.
  std::string precision = "fp32";
  /// Multi-fidelity: below the top rung, validation accuracy is measured on a copy of the
  /// network whose BatchNorm statistics were recomputed from this many training batches (in
  /// order, unaugmented). Mid-schedule, at a high learning rate, the running statistics lag the
  /// weights and rank candidates badly (bench/RESULTS.md, "Multi-fidelity search"). 0: off.
  /// The top rung is always measured as a full training is.
  int rung_bn_batches = 20;
  /// Multi-fidelity: below the top rung, validation accuracy is measured on this many of the
  /// held-out images (a fixed random sample, stratified by class, the same for every candidate)
  /// instead of all of them; 0: all. Validation is a fixed cost of every rung: at 5,000 images
  /// about as long as a fifth of an epoch of training on 10,000. The top rung always uses all.
  int rung_validation = 0;
  /// Zero-cost proxies to compute for each candidate before its training (of
  /// search::ProxyNames(); see evaluator/proxies.h), at initialisation, from one batch of
  /// `proxy_batch` training images drawn with the trial's seed. They do not change the training.
  std::vector<std::string> proxies;
  int proxy_batch = 64;
  // Rejected before training (0: no limit).
  std::int64_t max_params = 0;
  std::int64_t max_macs = 0;
  std::int64_t max_activation_bytes = 0;
  // Inference latency at batch 1 (see TimingPolicy: rounds, descheduled passes replaced, more
  // rounds until the median's interval is within +-latency_target or a cap is reached).
  bool measure_latency = true;
  int latency_threads = 1;
  int latency_warmup = 5;
  int latency_repeats = 30;
  int latency_rounds = 0;  ///< 0: min(5, latency_repeats)
  double latency_target = 0.03;
  double latency_max_seconds = 1.0;
  int latency_max_passes = 0;  ///< 0: max(200, latency_repeats)
  /// The timing policy these fields describe.
  TimingPolicy LatencyPolicy() const;
  /// Export file sizes (FileBytesFn); empty: none. Not part of Signature(): the sizes are a
  /// function of the trained weights and the export format, not of the training.
  FileBytesFn file_bytes;
  /// The deploy stage (experiment `deploy:`): "fp32" (none) or "int8": after training, each
  /// candidate is quantized (evaluator/quantize.h: batch norm folded, per-channel int8 weights,
  /// activations calibrated on `calibration_images` training images, a fixed sample) and run
  /// with int8 kernels on the CPU, giving int8_val_accuracy, int8_latency_ms (and its interval,
  /// as latency_ms), int8_model_bytes and int8_peak_memory_bytes; the fp32 metrics stay.
  std::string deploy_precision = "fp32";
  int calibration_images = 512;
  std::string calibration = "percentile";  ///< minmax | percentile
  /// Quantization-aware fine-tuning after training (evaluator/quantize.h, Int8Net::FineTune):
  /// epochs of SGD at lr / 1000 through the simulated int8 network; the int8 metrics are then
  /// those of the fine-tuned network (the fp32 ones stay those before it). 0: none.
  int finetune_epochs = 0;
  /// evaluator.kind: supernet: a trained supernet's weights file (`paretonas supernet train`'s
  /// DIR/supernet.pt); each candidate inherits its weights from it, its BatchNorm statistics
  /// recomputed on the first `supernet_calibration_images` training images, and is not trained.
  std::string supernet;
  int supernet_calibration_images = 2000;
  bool Int8() const { return deploy_precision == "int8"; }

  /// Empty when valid; else names the field, its value and what is allowed.
  std::string Validate() const;
  /// Whether training steps are captured as CUDA graphs (cuda_graphs resolved for device).
  bool UseCudaGraphs() const { return device == "cuda" && cuda_graphs == "on"; }
  /// Text that identifies everything that changes a result (for the result cache).
  std::string Signature() const;
};

/// Why a candidate is rejected before training (evaluator.max_params, max_macs,
/// max_activation_bytes), or "".
std::string RejectReason(const space::StaticCosts& costs, const TrainOptions& options);

/// Metrics: val_accuracy (%), val_error, latency_ms (median), latency_iqr_ms, params, macs,
/// activation_bytes, model_bytes, train_seconds, train_loss; with TrainOptions::proxies, each
/// proxy by its name, its compute time as "<name>_seconds", and proxy_seconds (all of them,
/// batch drawing included).
///
/// Latency is measured while no trainer of this evaluator runs: trainers pause between steps
/// while a measurement holds the cores (see docs/determinism.md).
class TrainEvaluator : public Evaluator {
 public:
  /// Loads the dataset (throws InputError). `space` must outlive the evaluator.
  TrainEvaluator(const space::SearchSpace& space, const DatasetOptions& data,
                 const TrainOptions& train);
  ~TrainEvaluator() override;
  EvalResult Evaluate(const EvalRequest& request) override;
  void PrepareWorkerThread() override;
  std::string Describe() const override;
  /// With TrainOptions::measure_latency: the latency stage (MeasureRequests), holding every
  /// trainer of this evaluator.
  bool CanMeasureLatencies() const override;
  /// With the int8 deploy stage: the training images each candidate is calibrated on (at most
  /// deploy.calibration_images: fewer when the training set is smaller); 0 without it.
  std::int64_t CalibrationImagesUsed() const;
  std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The quantized engine the int8 deploy stage runs on (evaluator/quantize.h, Int8Engine), for
/// callers that do not include LibTorch; empty when this LibTorch has none.
std::string Int8EngineName();

/// The int8 arithmetic of this process (evaluator/quantize.h, Int8Arithmetic: engine, weights,
/// activations), for callers that do not include LibTorch.
std::vector<std::pair<std::string, std::string>> Int8ArithmeticOfThisProcess();

/// This CPU as /proc/cpuinfo names it ("model name"; "" when unknown) and whether its int8
/// kernels can use VNNI (the flags avx512_vnni / avx_vnni, unless ONEDNN_MAX_CPU_ISA caps the ISA
/// below them). With 7-bit weights the int8 results do not depend on it; it is recorded beside them.
std::string CpuModelName();
bool CpuInt8HasVnni();

/// evaluator.kind supernet: writes to each of `paths` the weights `genotypes[i]` inherits from the
/// supernet `train.supernet`, BatchNorm statistics recomputed as the search's evaluation does
/// them (the same images): the network whose validation accuracy the search reported.
void WriteInheritedWeights(const space::SearchSpace& space, const DatasetOptions& data, const TrainOptions& train,
                           const std::vector<space::Genotype>& genotypes, const std::vector<std::string>& paths);

/// Result of retraining one architecture from scratch and testing it once.
struct FinalTraining {
  bool ok = false;
  std::string failure;
  double test_accuracy = 0;   ///< percent
  /// With TrainOptions::Int8: the int8 model's test accuracy (percent), quantized as the deploy
  /// stage does with calibration images drawn from this training set; -1 otherwise.
  double int8_test_accuracy = -1;
  double train_seconds = 0;
  std::int64_t params = 0;
  std::string weights_path;   ///< where the trained module was saved (torch::save)
};

/// Told the share of a training's steps done, in (0, 1], now and then (about 200 times per
/// training), on the training thread.
using TrainProgress = std::function<void(double)>;

/// Retrains `genotype` on the full training set (validation included) for `epochs` and reports
/// its test accuracy: the only use of the test set. Saves the weights to `weights_path`.
FinalTraining TrainFinal(const space::SearchSpace& space, const space::Genotype& genotype,
                         const DatasetOptions& data, TrainOptions train, int epochs,
                         std::uint64_t seed, const std::string& weights_path,
                         const TrainProgress& progress = {});

}  // namespace paretonas::evaluator
