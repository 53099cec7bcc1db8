// How an exported model is fed: what every export (JSON, TorchScript, ONNX) carries so that a
// deployed model gets the inputs it was trained on. Torch-free.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace paretonas::experiments {

struct ExportInput {
  std::vector<int> shape;               ///< C, H, W (batch first, NCHW, float32)
  double pixel_max = 255;               ///< pixels are divided by this first
  std::vector<double> mean, std;        ///< then (x - mean[c]) / std[c]; empty: no normalisation
  std::vector<std::string> class_names; ///< output index -> name; empty when unknown
  /// The model does the normalisation itself: feed it the pixels (float32, 0..pixel_max).
  bool baked = false;

  /// One line a user can follow, e.g. "x = (pixels / 255 - mean[c]) / std[c] ...".
  std::string Formula() const;
  /// The JSON object of the export's "input" member.
  std::string Json() const;
  /// The same as ONNX metadata_props (keys "paretonas.input.*"), values as text or JSON.
  std::vector<std::pair<std::string, std::string>> Metadata() const;
};

}  // namespace paretonas::experiments
