// Reduced precision for training (TrainOptions::precision): autocast while a forward pass runs,
// and fp16's loss scale. Internal to evaluator/.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <string>
#include <vector>

namespace paretonas::evaluator {

/// Forward pass and loss in reduced precision (TrainOptions::precision) while alive; nothing for
/// fp32. Autocast's cast cache is off: a cached bf16 copy of a weight would outlive the update
/// (and a captured graph must cast the weights it reads at every replay).
class AutocastScope {
 public:
  explicit AutocastScope(const std::string& precision) : on_(precision != "fp32") {
    if (!on_) return;
    const at::ScalarType dtype = precision == "bf16" ? at::kBFloat16 : at::kHalf;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    was_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, dtype);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    was_enabled_ = at::autocast::is_enabled();
    was_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
#endif
    was_cache_ = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~AutocastScope() {
    if (!on_) return;
    at::autocast::set_autocast_cache_enabled(was_cache_);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, was_dtype_);
#else
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(was_dtype_);
#endif
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  bool was_enabled_ = false;
  bool was_cache_ = true;
  at::ScalarType was_dtype_ = at::kFloat;
};

/// fp16's loss scale (TrainOptions::precision): PyTorch's GradScaler arithmetic, on the device.
struct LossScale {
  torch::Tensor scale, growth_tracker;
  explicit LossScale(const torch::Device& device)
      : scale(torch::full({1}, 65536.0, torch::TensorOptions().dtype(torch::kFloat32).device(device))),
        growth_tracker(torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device))) {}
  /// Unscales the gradients of `params` in place; true when they are all finite (reads the
  /// device: the step must be skipped otherwise). Updates the scale.
  bool Unscale(const std::vector<torch::Tensor>& params) {
    std::vector<torch::Tensor> grads;
    for (const auto& p : params)
      if (p.grad().defined()) grads.push_back(p.grad());
    torch::Tensor found_inf = torch::zeros({1}, scale.options());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, scale.reciprocal());
    const bool finite = found_inf.item<float>() == 0.0f;
    at::_amp_update_scale_(scale, growth_tracker, found_inf, 2.0, 0.5, 2000);
    return finite;
  }
};

}  // namespace paretonas::evaluator
