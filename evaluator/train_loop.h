// The training loop of a candidate and what is measured on a trained network: its accuracy,
// BatchNorm statistics for a low rung, its weights and size. Internal to evaluator/.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "evaluator/core_gate.h"
#include "evaluator/train_evaluator.h"
#include "space/graph_net.h"

namespace paretonas::evaluator {

struct LoopResult {
  bool ok = true;
  std::string failure;
  double loss = 0;
  std::int64_t steps = 0;       ///< steps of the schedule done (a continuation included)
  std::int64_t images = 0;      ///< training images the network has seen, all rungs
  std::int64_t images_run = 0;  ///< of them, processed by this loop
  bool continued = false;       ///< started from a saved state
  std::int64_t graph_steps = 0;    ///< steps replayed as a CUDA graph (TrainOptions::cuda_graphs)
  std::int64_t eager_steps = 0;    ///< steps launched op by op
  std::int64_t skipped_steps = 0;  ///< fp16: updates skipped for inf/NaN gradients
};

/// A part of a training: steps [done in `state_in`, `stop`) of a cosine schedule over `total`
/// steps (multi-fidelity rungs). Without one a loop trains its whole budget.
struct TrainSpan {
  std::int64_t total = 0;
  std::int64_t stop = 0;
  std::string state_in;   ///< continue from this saved state (when the file exists)
  std::string state_out;  ///< save the state reached here (when set)
};

/// Trains `net` on (x, y) with the recipe `o` for `epochs` (or o.steps), or for `span` of a
/// longer schedule, drawing batches and augmentation from `gen`. Each step holds `gate` shared
/// (null: none). A diverged loss ends it with ok false and the reason.
LoopResult TrainLoop(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                     const TrainOptions& o, int epochs, bool augment, at::Generator& gen,
                     const torch::Device& device, CoreGate* gate,
                     const TrainProgress& progress = {}, const TrainSpan* span = nullptr);

/// Top-1 accuracy (%) on (x, y), counted with the network and each chunk in `layout` (the search
/// passes the training layout: channels-last on CPU, where NCHW took 1.6x as long and most of a
/// low rung's time, bench/RESULTS.md); the network is back in NCHW afterwards.
double Accuracy(space::GraphNet& net, const torch::Tensor& x, const torch::Tensor& y,
                const torch::Device& device, torch::MemoryFormat layout = torch::MemoryFormat::Contiguous);

/// A copy of `net` whose BatchNorm running statistics are recomputed, as a plain average, from
/// the first `batches` training batches in order (no augmentation, no gradients): what the
/// weights of this moment would have as statistics, not the lagging average of training.
space::GraphNet WithPreciseBatchNorm(space::GraphNet& net, const torch::Tensor& x, int batch_size,
                                     int batches, const torch::Device& device,
                                     torch::MemoryFormat layout = torch::MemoryFormat::Contiguous);

/// Writes `archive` to `path` atomically: to a temporary file, then renamed.
void SaveAtomically(torch::serialize::OutputArchive& archive, const std::string& path);

/// Saves the network's parameters and buffers to `path` atomically (rename), as trained weights
/// a child can inherit.
void SaveWeights(space::GraphNet& net, const std::string& path);

/// Bytes of the network as torch::save writes it.
std::int64_t ModelBytes(space::GraphNet& net);

}  // namespace paretonas::evaluator
