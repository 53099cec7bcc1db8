// Dataset options and shapes, without LibTorch (used to size the search space).
#pragma once

#include <cstdint>
#include <string>

#include "space/search_space.h"

namespace paretonas::evaluator {

struct DatasetOptions {
  std::string name = "fashion_mnist";  ///< fashion_mnist | mnist | cifar10 | synthetic
  std::string path;                    ///< folder; "" = the default for the name
  int validation = 5000;      ///< images carved from the training set (stratified, seeded)
  int train_subset = 0;       ///< 0: all remaining training images; else a stratified subset
  std::uint64_t split_seed = 0;
  bool augment = false;       ///< random crop (pad 4) + horizontal flip (meant for CIFAR)
  // synthetic only:
  int synthetic_train = 2000;
  int synthetic_test = 500;
  int synthetic_size = 8;      ///< height = width
  int synthetic_channels = 1;
  int synthetic_classes = 4;

  /// Empty when valid; else names the field, value and what is allowed.
  std::string Validate() const;
  /// Folder used when `path` is empty.
  std::string DefaultPath() const;
};

/// Input shape and class count of a dataset (no files read).
space::InputSpec DatasetInput(const DatasetOptions& options);

}  // namespace paretonas::evaluator
