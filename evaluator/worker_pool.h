// WorkerPool: evaluates batches on K TBB workers; a bad candidate never escapes its task.
#pragma once

#include <memory>
#include <string>

#include "evaluator/batch_evaluator.h"

namespace paretonas::evaluator {

class WorkerPool : public BatchEvaluator {
 public:
  /// `evaluator` must outlive the pool. `workers` >= 1 concurrent evaluations.
  WorkerPool(Evaluator& evaluator, int workers);
  ~WorkerPool() override;
  void EvaluateBatch(const std::vector<EvalRequest>& requests,
                     const std::function<void(const EvalResult&)>& on_done,
                     const std::atomic<bool>* cancel) override;
  std::string Describe() const override;
  int workers() const { return workers_; }

 private:
  Evaluator& evaluator_;
  int workers_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Evaluates one request, converting any exception into a failed result.
EvalResult EvaluateSafely(Evaluator& evaluator, const EvalRequest& request);

/// Memoises results by (canonical hash, `signature` of the training setup): an architecture
/// proposed again is not re-evaluated. Thread-safe.
class CachingEvaluator : public Evaluator {
 public:
  CachingEvaluator(Evaluator& inner, std::string signature);
  EvalResult Evaluate(const EvalRequest& request) override;
  void PrepareWorkerThread() override { inner_.PrepareWorkerThread(); }
  std::string Describe() const override { return inner_.Describe() + " (cached)"; }
  std::size_t hits() const;

 private:
  Evaluator& inner_;
  std::string signature_;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace paretonas::evaluator
