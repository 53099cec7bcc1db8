// What the readers of the user's data share (internal to evaluator/): file helpers, the shape
// and element conversion every array goes through, the memory check, and one reader per format
// (numpy_reader.cpp, idx_reader.cpp, image_folder_reader.cpp) that LoadUserData dispatches to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluator/user_data.h"

namespace paretonas::evaluator::userdata {

constexpr std::int64_t kMiB = 1024 * 1024;

/// The whole file; InputError naming it when it cannot be opened.
std::string ReadBytes(const std::string& path);
bool IsDir(const std::string& p);
bool IsFile(const std::string& p);
/// The entries of `dir` but . and .., sorted by name; InputError when it cannot be read.
std::vector<std::string> ListDir(const std::string& dir);
/// The little-endian unsigned integer of `bytes` bytes at `pos` of `s`.
std::uint64_t GetLE(const std::string& s, std::size_t pos, int bytes);
/// "12.5 MiB".
std::string MiB(std::int64_t bytes);

/// Decides NCHW from a 3-D (N, H, W) or 4-D array's shape and dataset.layout.
void ImageShape(const std::vector<std::int64_t>& shape, const std::string& layout,
                const std::string& where, ImageArray* img, bool* nhwc);
/// Copies element bytes into img (uint8 or float32), transposing NHWC to NCHW.
void FillImages(const std::string& data, char kind, int itemsize, bool nhwc, const std::string& where,
                ImageArray* img);
/// Refuses training tensors of `elements` floats above dataset.max_memory_mb, before allocating.
void CheckMemory(const DatasetOptions& o, std::int64_t elements, const std::string& where);

/// dataset.name: numpy (a .npz, or a folder of .npy files: x_train, y_train, x_val, ...).
UserData LoadNumpy(const DatasetOptions& o, bool with_test);
/// dataset.name: idx (train_images, train_labels, test_images, test_labels by path).
UserData LoadIdx(const DatasetOptions& o, bool with_test);
/// dataset.name: image_folder (train/CLASS/*.png, optional val/ and test/), decoded once and cached.
UserData LoadImageFolder(const DatasetOptions& o, bool with_test);

}  // namespace paretonas::evaluator::userdata
