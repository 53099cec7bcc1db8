// Dataset options and shapes, without LibTorch (used to size the search space).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "space/search_space.h"

namespace paretonas::evaluator {

struct DatasetOptions {
  /// Built in: fashion_mnist | mnist | cifar10 | synthetic. The user's own: numpy | idx |
  /// image_folder (see user_data.h).
  std::string name = "fashion_mnist";
  /// Built in: folder ("" = the default for the name). numpy: a .npz file or a folder of .npy
  /// files. image_folder: the root holding train/ (and optionally val/, test/).
  std::string path;
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
  // idx: the files, by path (gzip allowed); images N x H x W or N x H x W x C.
  std::string train_images, train_labels, test_images, test_labels;
  // numpy and idx: how a 4-D array is laid out: auto (NHWC when the last axis has 1-4 entries
  // and the second more, NCHW in the opposite case; else refused) | nhwc | nchw.
  std::string layout = "auto";
  // image_folder: images are resized (shorter side) and centre-cropped to size x size (0: all
  // images must have one size already); channels 1 or 3 (0: as the files are, when all agree).
  int size = 0;
  int channels = 0;
  bool skip_unreadable = false;  ///< skip (and count) images that cannot be decoded
  std::string cache_dir;         ///< decoded image folders ("": $XDG_CACHE_HOME or ~/.cache)
  /// Refuse datasets whose training tensors (float32) would take more (MiB; 0: no limit).
  int max_memory_mb = 8192;
  // Normalisation (x / pixel_max - mean) / std per channel; mean/std empty: computed from the
  // training split for the user's kinds, the published constants for the built-in ones.
  std::vector<double> mean, std;
  /// What pixels are divided by before the mean and std: 0 = 255 for uint8 data and 1 for float
  /// data (resolved by ResolveUserData; the built-in datasets use 255, synthetic 1).
  double pixel_max = 0;
  // The user's kinds: the class count (0: largest label + 1) and names (image folders: the
  // folder names). Filled by ResolveUserData and recorded in the resolved config.
  int classes = 0;
  std::vector<std::string> class_names;
  // Filled by ResolveUserData: the input shape of a user dataset (0: not resolved yet).
  int input_c = 0, input_h = 0, input_w = 0;
  /// Empty when valid; else names the field, value and what is allowed.
  std::string Validate() const;
  /// Folder used when `path` is empty.
  std::string DefaultPath() const;
};

/// The normalisation a dataset's images get, (x / pixel_max - mean) / std per channel: the given
/// or computed values for the user's kinds (after ResolveUserData), the published constants for
/// the built-in ones; mean and std empty for `synthetic` (generated normalised, pixel_max 1).
void DatasetNormalization(const DatasetOptions& options, std::vector<double>* mean,
                          std::vector<double>* std, double* pixel_max = nullptr);

/// Class names: the user's (image folders: the folder names), the published ones for
/// fashion_mnist, mnist and cifar10, "class_0".. for synthetic; empty when unknown.
std::vector<std::string> DatasetClassNames(const DatasetOptions& options);

/// Input shape and class count of a dataset (no files read).
space::InputSpec DatasetInput(const DatasetOptions& options);

/// About how many training images a search trains on (the dataset's training split less the
/// validation images, at most train_subset), without reading it; -1 for the user's own data,
/// whose size the options do not say.
std::int64_t TrainingImages(const DatasetOptions& options);

}  // namespace paretonas::evaluator
