// The memory layout the engine trains in. Needs LibTorch (include only in torch units).
#pragma once

#include <torch/torch.h>

namespace paretonas::evaluator {

/// Channels-last (NHWC) on CPU: oneDNN's convolutions then work on the tensors as they are,
/// instead of reordering NCHW to a blocked layout and back around every convolution (0.70x
/// PyTorch's NCHW step time measured here, bench/RESULTS.md). On CUDA the default layout is
/// kept (fp32 cuDNN gains little from NHWC, and the CUDA determinism test covers it as is).
/// `layout` is TrainOptions::layout (auto | channels_last | nchw).
inline torch::MemoryFormat TrainingLayout(const torch::Device& device, const std::string& layout = "auto") {
  if (layout == "channels_last") return torch::MemoryFormat::ChannelsLast;
  if (layout == "nchw") return torch::MemoryFormat::Contiguous;
  return device.is_cpu() ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
}

/// `x` copied into `format` with that format's strides. NOTE: not `contiguous(format)`: a tensor
/// with one channel (the first convolution's weight, a grey-scale batch) already counts as
/// contiguous in both layouts and is returned as it is, with NCHW strides, and LibTorch then
/// picks NCHW for that convolution and everything after it (measured: 1.15x slower than NCHW,
/// mixed layouts converting around each convolution). `Tensor::to` with a format restrides always.
inline torch::Tensor InLayout(const torch::Tensor& x, torch::MemoryFormat format) {
  if (x.dim() != 4 || (x.suggest_memory_format() == format && x.is_contiguous(format))) return x;
  return x.to(x.options(), /*non_blocking=*/false, /*copy=*/true, format);
}

/// Moves `net`'s 4-D parameters (convolution weights) to `format`, in place: the parameter
/// tensors stay the same objects, so an optimizer holding them is unaffected.
inline void UseLayout(torch::nn::Module& net, torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters()) {
    if (p.dim() == 4) p.set_data(InLayout(p.data(), format));
  }
}

/// Puts `net` in `format` (UseLayout) for this object's lifetime, then back in NCHW: training
/// and validation run in the training layout; latency is measured and weights are exported as
/// users deploy them.
class ScopedLayout {
 public:
  ScopedLayout(torch::nn::Module& net, torch::MemoryFormat format) : net_(net) { UseLayout(net_, format); }
  ~ScopedLayout() { UseLayout(net_, torch::MemoryFormat::Contiguous); }
  ScopedLayout(const ScopedLayout&) = delete;
  ScopedLayout& operator=(const ScopedLayout&) = delete;

 private:
  torch::nn::Module& net_;
};

}  // namespace paretonas::evaluator
