// DatasetOptions without LibTorch (validated by the config parser, which stays torch-free).
#include "evaluator/dataset_info.h"

#include <algorithm>

#include "evaluator/user_data.h"

namespace paretonas::evaluator {

std::string DatasetOptions::Validate() const {
  static const char* kNames =
      "fashion_mnist, mnist, cifar10, synthetic (built in); numpy, idx, image_folder (your own)";
  if (name != "fashion_mnist" && name != "mnist" && name != "cifar10" && name != "synthetic" &&
      name != "numpy" && name != "idx" && name != "image_folder")
    return "dataset.name: '" + name + "' is unknown; allowed: " + kNames;
  const bool user = IsUserDataset(name);
  if ((name == "numpy" || name == "image_folder") && path.empty())
    return "dataset.path: dataset '" + name + "' needs a path (" +
           (name == "numpy" ? "a .npz file or a folder of x_train.npy, y_train.npy, ..."
                            : "the folder holding train/<class>/*.png|*.jpg") + ")";
  if (name == "idx" && (train_images.empty() || train_labels.empty()))
    return "dataset.train_images, dataset.train_labels: dataset 'idx' needs both (paths of IDX "
           "files, gzip allowed)";
  if (name == "idx" && test_images.empty() != test_labels.empty())
    return "dataset.test_images, dataset.test_labels: give both or neither";
  if (name != "idx" && !(train_images + train_labels + test_images + test_labels).empty())
    return "dataset.train_images, train_labels, test_images, test_labels: only for dataset 'idx' "
           "(this one is '" + name + "')";
  if (name != "image_folder" && (size != 0 || channels != 0 || skip_unreadable))
    return "dataset.size, channels, skip_unreadable: only for dataset 'image_folder' (this one "
           "is '" + name + "')";
  if (pixel_max < 0 || pixel_max > 1e9)
    return "dataset.pixel_max: " + std::to_string(pixel_max) + " must be > 0 (0: 255 for uint8 "
           "data, 1 for float data)";
  if (!user && (!mean.empty() || !this->std.empty() || classes != 0 || !class_names.empty() ||
                pixel_max != 0))
    return "dataset.mean, std, pixel_max, classes, class_names: only for your own data (numpy, idx, "
           "image_folder); '" + name + "' uses its published constants";
  if (layout != "auto" && layout != "nhwc" && layout != "nchw")
    return "dataset.layout: '" + layout + "' is not allowed; allowed: auto, nhwc, nchw";
  if (size < 0 || size > 1024)
    return "dataset.size: " + std::to_string(size) + " must be in [0, 1024] (0: as the files are)";
  if (channels != 0 && channels != 1 && channels != 3)
    return "dataset.channels: " + std::to_string(channels) + " is not allowed; allowed: 1, 3 "
           "(0: as the files are)";
  if (max_memory_mb < 0)
    return "dataset.max_memory_mb: " + std::to_string(max_memory_mb) + " must be >= 0 (0: no limit)";
  if (mean.size() != this->std.size())
    return "dataset.mean, dataset.std: " + std::to_string(mean.size()) + " means and " +
           std::to_string(this->std.size()) + " stds; give one of each per channel (or neither)";
  for (double s : this->std)
    if (!(s > 0)) return "dataset.std: " + std::to_string(s) + " must be > 0";
  if (classes < 0 || classes > 100000)
    return "dataset.classes: " + std::to_string(classes) + " must be in [0, 100000] (0: from the labels)";
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

void DatasetNormalization(const DatasetOptions& o, std::vector<double>* mean,
                          std::vector<double>* sd, double* pixel_max) {
  if (pixel_max) {
    *pixel_max = o.name == "synthetic" ? 1.0 : IsUserDataset(o.name) ? (o.pixel_max > 0 ? o.pixel_max : 255.0) : 255.0;
  }
  if (o.name == "fashion_mnist") {
    *mean = {0.2860}, *sd = {0.3530};
  } else if (o.name == "mnist") {
    *mean = {0.1307}, *sd = {0.3081};
  } else if (o.name == "cifar10") {
    *mean = {0.4914, 0.4822, 0.4465}, *sd = {0.2470, 0.2435, 0.2616};
  } else if (o.name == "synthetic") {
    mean->clear(), sd->clear();
  } else {
    *mean = o.mean, *sd = o.std;
  }
}

std::vector<std::string> DatasetClassNames(const DatasetOptions& o) {
  if (o.name == "fashion_mnist")
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  if (o.name == "mnist") return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  if (o.name == "cifar10")
    return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  if (o.name == "synthetic") {
    std::vector<std::string> names;
    for (int c = 0; c < o.synthetic_classes; ++c) names.push_back("class_" + std::to_string(c));
    return names;
  }
  return o.class_names;
}

std::int64_t TrainingImages(const DatasetOptions& o) {
  std::int64_t total = -1;
  if (o.name == "fashion_mnist" || o.name == "mnist") total = 60000;
  else if (o.name == "cifar10") total = 50000;
  else if (o.name == "synthetic") total = o.synthetic_train;
  std::int64_t n = total < 0 ? -1 : std::max<std::int64_t>(0, total - std::max(0, o.validation));
  if (o.train_subset > 0) n = n < 0 ? -1 : std::min<std::int64_t>(n, o.train_subset);
  return n;
}

space::InputSpec DatasetInput(const DatasetOptions& o) {
  if (IsUserDataset(o.name)) {
    if (o.input_c > 0) return {{o.input_c, o.input_h, o.input_w}, o.classes};
    DatasetOptions resolved = o;
    ResolveUserData(&resolved);
    return {{resolved.input_c, resolved.input_h, resolved.input_w}, resolved.classes};
  }
  if (o.name == "cifar10") return {{3, 32, 32}, 10};
  if (o.name == "synthetic")
    return {{o.synthetic_channels, o.synthetic_size, o.synthetic_size}, o.synthetic_classes};
  return {{1, 28, 28}, 10};
}

}  // namespace paretonas::evaluator
