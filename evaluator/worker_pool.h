// WorkerPool: evaluates batches on K TBB workers; a bad candidate never escapes its task.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
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
  /// Each free worker asks `next()` for its job; a worker that gets nothing waits for a running
  /// job to finish (its result may make a job ready) and asks again.
  void EvaluateAsReady(const std::function<std::optional<EvalRequest>()>& next,
                       const std::function<void(const EvalResult&)>& on_done,
                       const std::atomic<bool>* cancel) override;
  int workers() const { return workers_; }
  /// The evaluator's, in the calling thread (no batch is running then).
  bool CanMeasureLatencies() const override { return evaluator_.CanMeasureLatencies(); }
  std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) override;

  /// Streaming form, for requests that arrive one at a time (an MPI worker rank): each of the K
  /// workers loops `next()` -> evaluate -> `on_done` until `next()` returns nothing. `next` may
  /// block and is called from several threads at once; `on_done` never concurrently with itself.
  /// After `cancel` becomes true, requests still handed out are skipped (not reported).
  void EvaluateStream(const std::function<std::optional<EvalRequest>()>& next,
                      const std::function<void(const EvalResult&)>& on_done,
                      const std::atomic<bool>* cancel);

 private:
  Evaluator& evaluator_;
  int workers_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  /// Evaluates `request` on the calling worker thread (prepared once) and reports it.
  void RunOne(const EvalRequest& request, std::mutex& done_mu,
              const std::function<void(const EvalResult&)>& on_done);
};

/// Evaluates one request, converting any exception into a failed result.
EvalResult EvaluateSafely(Evaluator& evaluator, const EvalRequest& request);

/// Memoises results by (canonical hash, `signature` of the training setup): an architecture
/// proposed again is not re-evaluated. With `by_key`, by the architecture key instead: when the
/// search tells functionally identical cells apart (search.dedup other than canonical), each
/// keeps its own result. Thread-safe.
class CachingEvaluator : public Evaluator {
 public:
  CachingEvaluator(Evaluator& inner, std::string signature, bool by_key = false);
  EvalResult Evaluate(const EvalRequest& request) override;
  void PrepareWorkerThread() override { inner_.PrepareWorkerThread(); }
  std::string Describe() const override { return inner_.Describe() + " (cached)"; }
  bool CanMeasureLatencies() const override { return inner_.CanMeasureLatencies(); }
  std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) override {
    return inner_.MeasureLatencies(requests);
  }
  std::size_t hits() const;

 private:
  Evaluator& inner_;
  std::string signature_;
  bool by_key_ = false;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace paretonas::evaluator
