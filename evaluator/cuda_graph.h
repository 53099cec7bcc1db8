// CUDA graph capture of one training step, behind a torch-free interface. Built for real only
// against a CUDA LibTorch (PARETONAS_WITH_CUDA); elsewhere Capture says why it cannot.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace paretonas::evaluator {

/// A captured sequence of kernels on the calling thread's current CUDA stream, replayed as one
/// graph launch. The tensors the body read and wrote keep their addresses: refill the inputs in
/// place before Replay and read the outputs after it.
class CapturedStep {
 public:
  /// Records `body` (its kernels are not run) on the current stream, which must not be the
  /// default stream. Capture is thread-local: other threads keep launching and allocating while
  /// it runs. Null, with `*why_not` set, when this build or this body cannot be captured.
  static std::unique_ptr<CapturedStep> Capture(const std::function<void()>& body, std::string* why_not);
  ~CapturedStep();
  void Replay();

 private:
  CapturedStep();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when this build links a CUDA LibTorch (CUDA graphs can be captured).
bool CudaGraphsBuilt();

}  // namespace paretonas::evaluator
