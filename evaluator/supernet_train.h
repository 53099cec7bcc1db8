// Training a supernet (evaluator/supernet.h) and scoring its sub-networks without training.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "evaluator/supernet.h"

namespace paretonas::evaluator {

/// How the sub-networks of a step are chosen.
enum class SupernetRule {
  kSandwich,  ///< the largest, the smallest and `random_subnets` random ones a step; the largest
              ///< learns from the labels, the others from its predictions (in-place distillation)
  kUniform,   ///< one uniformly sampled sub-network a step, from the labels (single path, SPOS)
  kFair,      ///< as many sub-networks a step as the largest decision has options, each decision's
              ///< options dealt out among them in a random order, so that every option of every
              ///< decision is trained once a step, from the labels (strict fairness, FairNAS)
};

struct SupernetTrainOptions {
  SupernetRule rule = SupernetRule::kSandwich;
  int random_subnets = 2;
  int epochs = 4;
  int batch_size = 64;
  double lr = 0.05;  ///< cosine schedule to 0 over every step, per step
  double momentum = 0.9;
  double weight_decay = 5e-4;
  /// Sub-networks of a step computed side by side; their gradients are summed in a fixed order,
  /// so the weights are the same, bit for bit, for any number.
  int workers = 1;
  std::uint64_t seed = 0;
  /// Validation of the largest and smallest sub-networks after each epoch: BatchNorm statistics
  /// recomputed on this many training images (the first ones), then this many held-out images
  /// (0: all).
  int calibration_images = 2000;
  int validation_images = 0;
  /// Checkpoint written atomically at each epoch's end and every `checkpoint_every` steps (0:
  /// epochs only); training resumes from it when it exists.
  std::string checkpoint;
  std::int64_t checkpoint_every = 0;
  /// Stop (as if killed) after this step, checkpoint written (tests); -1: never.
  std::int64_t stop_after = -1;
};

struct SupernetProgress {
  std::int64_t step = 0, total = 0;  ///< steps done, of all
  int epoch = 0;                     ///< the epoch the step belongs to (0-based)
  double loss = 0;                   ///< the largest sub-network's training loss at this step
  bool epoch_end = false;            ///< the two accuracies below are set
  double largest_accuracy = 0, smallest_accuracy = 0;
  double seconds = 0;                ///< since this call started
};

struct SupernetTrainResult {
  std::int64_t steps = 0;         ///< steps done in all (resumed ones included)
  std::int64_t resumed_from = 0;  ///< the checkpoint's step (0: a fresh start)
  bool stopped = false;           ///< ended by stop_after
  double largest_accuracy = 0, smallest_accuracy = 0;  ///< after the last epoch
};

/// The sub-networks trained at step `step`: a function of the rule, the seed and the step only
/// (so that a resume draws the same ones).
std::vector<space::Genotype> SupernetStepGenotypes(const SupernetImpl& net, const SupernetTrainOptions& o,
                                                   std::int64_t step);

/// Trains `net` on (x, y), validating on (xv, yv). Deterministic in the seed, for any number of
/// workers, and across a resume from the checkpoint. `progress` is called after every step.
SupernetTrainResult TrainSupernet(SupernetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                                  const torch::Tensor& xv, const torch::Tensor& yv,
                                  const SupernetTrainOptions& o,
                                  const std::function<void(const SupernetProgress&)>& progress = {});

/// The sub-network `g` with its inherited weights, its BatchNorm statistics recomputed as a plain
/// average over the first `calibration_images` of `x` (batches of `batch_size`; deterministic),
/// in eval mode: what a search scores and an export writes.
space::GraphNet CalibratedSubNetwork(const SupernetImpl& net, const space::Genotype& g, const torch::Tensor& x,
                                     int calibration_images, int batch_size = 200);

/// Top-1 accuracy (%) of CalibratedSubNetwork on (xv, yv).
double SubNetworkAccuracy(const SupernetImpl& net, const space::Genotype& g, const torch::Tensor& x,
                          const torch::Tensor& xv, const torch::Tensor& yv, int calibration_images);

/// Saves / loads the supernet's weights (atomic write); the load checks that the file was
/// written for a supernet of the same slots and throws InputError naming the file otherwise.
void SaveSupernet(SupernetImpl& net, const std::string& path);
void LoadSupernet(SupernetImpl& net, const std::string& path);

}  // namespace paretonas::evaluator
