#include "evaluator/cuda_graph.h"

#ifdef PARETONAS_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <torch/version.h>
#endif

namespace paretonas::evaluator {

#ifdef PARETONAS_WITH_CUDA

struct CapturedStep::Impl {
  at::cuda::CUDAGraph graph;
};

CapturedStep::CapturedStep() : impl_(new Impl) {}
CapturedStep::~CapturedStep() = default;

std::unique_ptr<CapturedStep> CapturedStep::Capture(const std::function<void()>& body, std::string* why_not) {
  std::unique_ptr<CapturedStep> step(new CapturedStep);
  if (c10::cuda::getCurrentCUDAStream() == c10::cuda::getDefaultCUDAStream()) {
    if (why_not) *why_not = "the current stream is the default stream, which cannot be captured";
    return nullptr;
  }
  try {
    // Thread-local: the other workers' launches, allocations and synchronisations go on.
#if TORCH_VERSION_MAJOR >= 2
    step->impl_->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
    step->impl_->graph.capture_begin();  // LibTorch 1.x: global capture mode only
#endif
    try {
      body();
    } catch (...) {
      try { step->impl_->graph.capture_end(); } catch (...) {}
      throw;
    }
    step->impl_->graph.capture_end();
  } catch (const c10::Error& e) {
    if (why_not) *why_not = e.what_without_backtrace();
    return nullptr;
  } catch (const std::exception& e) {
    if (why_not) *why_not = e.what();
    return nullptr;
  }
  return step;
}

void CapturedStep::Replay() { impl_->graph.replay(); }

bool CudaGraphsBuilt() { return true; }

#else

struct CapturedStep::Impl {};

CapturedStep::CapturedStep() : impl_(new Impl) {}
CapturedStep::~CapturedStep() = default;

std::unique_ptr<CapturedStep> CapturedStep::Capture(const std::function<void()>&, std::string* why_not) {
  if (why_not) *why_not = "this build's LibTorch has no CUDA";
  return nullptr;
}

void CapturedStep::Replay() {}

bool CudaGraphsBuilt() { return false; }

#endif

}  // namespace paretonas::evaluator
