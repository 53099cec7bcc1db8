// The user's own data: NumPy arrays (.npz / .npy), IDX files by path, image folders. Torch-free:
// the config parser resolves shapes, classes and normalisation with it before anything trains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluator/dataset_info.h"

namespace paretonas::evaluator {

/// Images of one split as read from disk, always N x C x H x W (NCHW), either uint8 (scaled by
/// 1/255 when trained on) or float32 (taken as they are).
struct ImageArray {
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  bool is_uint8 = true;
  std::vector<std::uint8_t> u8;  ///< when is_uint8
  std::vector<float> f32;        ///< otherwise
  std::vector<std::int64_t> labels;
  std::string source;            ///< file or folder, for messages
  std::string labels_source;     ///< where the labels were read (y_test of a .npz, an IDX file)

  bool empty() const { return n == 0; }
  /// The value of element i (flat NCHW index) before normalisation: pixel / pixel_max.
  double Scaled(std::size_t i, double pixel_max) const {
    return (is_uint8 ? static_cast<double>(u8[i]) : static_cast<double>(f32[i])) / pixel_max;
  }
};

/// What a user dataset holds. `val` and `test` are empty when the files have none.
struct UserData {
  ImageArray train, val, test;
  std::vector<std::string> class_names;  ///< image folders: the folder names; else as given
  int classes = 0;
  int skipped = 0;                       ///< unreadable images skipped (skip_unreadable)
  std::vector<std::string> skipped_files;  ///< the first 5 of them, "path (why)"
  std::string description;
};

/// True for the kinds read here: numpy, idx, image_folder.
bool IsUserDataset(const std::string& name);

/// Reads a user dataset. `with_test` also reads the test split (when the files have one).
/// Throws InputError naming the file for anything wrong with the data (see docs/own-data.md),
/// and refuses, before allocating, a dataset larger than options.max_memory_mb.
UserData LoadUserData(const DatasetOptions& options, bool with_test);

/// Fills what a user dataset decides and the config leaves open: the input shape, the class count
/// and names, pixel_max (255 for uint8 data, 1 for float), and the per-channel mean and std of the training split (the images trained on,
/// after the validation split), rounded to the 12 digits the resolved config keeps. Values given
/// in the config are kept and checked against the data. No-op for the built-in datasets, and
/// for a config that records all of these already (a run directory's resolved config).
void ResolveUserData(DatasetOptions* options);

/// Bytes of memory the training tensors of `data` take (float32), for messages.
std::int64_t TrainingBytes(const UserData& data);

/// The training/validation split used for every dataset: per class, a seeded shuffle; the first
/// share goes to validation, then at most `subset` (0: all) of the rest to training.
void StratifiedSplit(const std::vector<std::int64_t>& labels, int validation, int subset,
                     std::uint64_t seed, std::vector<std::int64_t>* train,
                     std::vector<std::int64_t>* val);

/// An IDX file (optionally gzip-compressed) as its dims and bytes; `expected_type` is the data
/// type byte (0x08: uint8). Throws InputError naming the file.
struct IdxFile {
  std::vector<std::int64_t> dims;
  std::string bytes;  ///< the data after the header
};
IdxFile ReadIdxFile(const std::string& path, int expected_magic);

}  // namespace paretonas::evaluator
