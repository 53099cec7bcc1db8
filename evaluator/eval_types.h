// The single-request Evaluator interface; the request and result types are the search's
// (search/eval_contract.h). Torch-free on purpose.
#pragma once

#include <string>
#include <vector>

#include "search/eval_contract.h"

namespace paretonas::evaluator {

using search::EvalRequest;
using search::EvalResult;

/// Turns requests into results. Implementations must be safe to call from several threads at
/// once and must not throw for a bad candidate (the pool converts stray exceptions anyway).
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual EvalResult Evaluate(const EvalRequest& request) = 0;
  /// Called once on each worker thread before its first evaluation (e.g. set intra-op threads).
  virtual void PrepareWorkerThread() {}
  /// Short description for logs ("table nb201_cifar10.csv", "train fashion_mnist cpu").
  virtual std::string Describe() const = 0;
  /// The latency stage (BatchEvaluator::MeasureLatencies): called from one thread while no
  /// Evaluate runs.
  virtual bool CanMeasureLatencies() const { return false; }
  virtual std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) {
    (void)requests;
    return {};
  }
};

}  // namespace paretonas::evaluator
