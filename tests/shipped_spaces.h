// What the LibTorch-side suites share: every shipped space's operations at a small size, a small
// synthetic dataset and a quick training recipe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "evaluator/dataset_info.h"
#include "evaluator/train_evaluator.h"
#include "space/search_space.h"
#include "tests/test_paths.h"

namespace paretonas::testing {

/// The four shipped spaces, small: together they use every operation the builder knows (the
/// baseline's head: max_pool_2x2 and dense_relu).
inline std::vector<std::pair<std::string, space::SearchSpace>> ShippedSpaces(space::InputSpec in) {
  return {{"nb201", space::SearchSpace::Load("nb201", {{"channels", "8"}, {"cells_per_stage", "2"}}, in)},
          {"mobilenet", space::SearchSpace::Load("mobilenet", {}, in)},
          {"tiny_hybrid", space::SearchSpace::Load(SourceDir() + "/experiments/spaces/tiny_hybrid.yaml", {}, in)},
          {"baseline_2conv", space::SearchSpace::Load(SourceDir() + "/experiments/spaces/baseline_2conv.yaml",
                                                      {{"width", "8"}}, in)}};
}

/// 600 training and 200 validation images of 8x8, 4 classes.
inline evaluator::DatasetOptions SmallSynthetic() {
  evaluator::DatasetOptions d;
  d.name = "synthetic";
  d.synthetic_train = 600;
  d.synthetic_size = 8;
  d.synthetic_classes = 4;
  d.validation = 200;
  return d;
}

/// Two epochs of SGD at batch 32, and a short latency measurement (5 passes).
inline evaluator::TrainOptions QuickTraining() {
  evaluator::TrainOptions t;
  t.epochs = 2;
  t.batch_size = 32;
  t.lr = 0.1;
  t.latency_repeats = 5;
  t.latency_warmup = 1;
  return t;
}

}  // namespace paretonas::testing
