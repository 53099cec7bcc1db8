// Datasets as preloaded contiguous tensors; batches are formed by index_select.
#pragma once

#include <torch/torch.h>

#include <string>

#include "evaluator/dataset_info.h"

namespace paretonas::evaluator {

struct Dataset {
  torch::Tensor train_x, train_y;  ///< float32 [N, C, H, W] normalised; int64 [N]
  torch::Tensor val_x, val_y;
  torch::Tensor test_x, test_y;    ///< only loaded when asked for (final reporting)
  space::InputSpec input;
  std::string description;
};

/// Loads and splits a dataset. `with_test` also loads the test split; `full_train` keeps the
/// validation images in the training set (retraining of exported models). Throws InputError
/// naming the file for missing, truncated or malformed files.
Dataset LoadDataset(const DatasetOptions& options, bool with_test = false,
                    bool full_train = false);

/// IDX reader (optionally gzip-compressed): returns uint8 tensor of the file's shape.
torch::Tensor ReadIdx(const std::string& path, int expected_magic);

}  // namespace paretonas::evaluator
