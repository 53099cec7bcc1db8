// DatasetOptions without LibTorch (validated by the config parser, which stays torch-free).
#include "evaluator/dataset_info.h"

namespace paretonas::evaluator {

std::string DatasetOptions::Validate() const {
  static const char* kNames = "fashion_mnist, mnist, cifar10, synthetic";
  if (name != "fashion_mnist" && name != "mnist" && name != "cifar10" && name != "synthetic")
    return "dataset.name: '" + name + "' is unknown; allowed: " + kNames;
  if (validation < 0) return "dataset.validation: " + std::to_string(validation) + " must be >= 0";
  if (train_subset < 0)
    return "dataset.train_subset: " + std::to_string(train_subset) + " must be >= 0 (0: all)";
  if (name == "synthetic") {
    if (synthetic_train < 8) return "dataset.synthetic_train: must be >= 8";
    if (synthetic_test < 1) return "dataset.synthetic_test: must be >= 1";
    if (synthetic_size < 4 || synthetic_size > 64)
      return "dataset.synthetic_size: " + std::to_string(synthetic_size) + " must be in [4, 64]";
    if (synthetic_channels < 1 || synthetic_channels > 4)
      return "dataset.synthetic_channels: must be in [1, 4]";
    if (synthetic_classes < 2 || synthetic_classes > 100)
      return "dataset.synthetic_classes: must be in [2, 100]";
    if (validation >= synthetic_train)
      return "dataset.validation: " + std::to_string(validation) +
             " must be below dataset.synthetic_train (" + std::to_string(synthetic_train) + ")";
  }
  return "";
}

std::string DatasetOptions::DefaultPath() const {
  if (name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (name == "mnist") return "/usr/share/datasets/mnist";
  return "";
}

space::InputSpec DatasetInput(const DatasetOptions& o) {
  if (o.name == "cifar10") return {{3, 32, 32}, 10};
  if (o.name == "synthetic")
    return {{o.synthetic_channels, o.synthetic_size, o.synthetic_size}, o.synthetic_classes};
  return {{1, 28, 28}, 10};
}

}  // namespace paretonas::evaluator
