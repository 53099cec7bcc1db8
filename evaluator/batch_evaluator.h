// BatchEvaluator: evaluates a batch of requests, reporting each result as it finishes.
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "evaluator/eval_types.h"

namespace paretonas::evaluator {

class BatchEvaluator {
 public:
  virtual ~BatchEvaluator() = default;
  /// Evaluates every request unless `cancel` becomes true (then requests not yet started are
  /// skipped). `on_done` is called once per finished request, from any thread, never
  /// concurrently with itself. Never throws for a bad candidate.
  virtual void EvaluateBatch(const std::vector<EvalRequest>& requests,
                             const std::function<void(const EvalResult&)>& on_done,
                             const std::atomic<bool>* cancel) = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace paretonas::evaluator
