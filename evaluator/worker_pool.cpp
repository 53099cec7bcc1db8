#include "evaluator/worker_pool.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
// NOTE: Debian's libtbb is not built with TSan, so the happens-before edges its task spawn and
// join provide are invisible to it. These annotations state exactly those two edges (main ->
// tasks at spawn, tasks -> main at join) and nothing between tasks, so races between
// concurrent task bodies are still reported.
// The sync objects are file-scope so that reaching them reads no closure memory.
#define PARETONAS_TSAN_RELEASE(addr) __tsan_release(addr)
#define PARETONAS_TSAN_ACQUIRE(addr) __tsan_acquire(addr)
#else
#define PARETONAS_TSAN_RELEASE(addr) ((void)(addr))
#define PARETONAS_TSAN_ACQUIRE(addr) ((void)(addr))
#endif

namespace {
char g_spawned;  // TSan sync object: main -> task bodies
char g_joined;   // TSan sync object: task bodies -> main
}  // namespace

namespace paretonas::evaluator {

EvalResult EvaluateSafely(Evaluator& evaluator, const EvalRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  EvalResult r;
  std::string failure;
  try {
    r = evaluator.Evaluate(request);
  } catch (const std::bad_alloc&) {
    failure = "out of memory";
  } catch (const std::exception& e) {
    failure = std::string("exception: ") + e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    r = EvalResult{};
    r.failure = failure;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  r.trial_id = request.trial_id;
  if (!r.ok && r.failure.empty()) r.failure = "the evaluator gave no reason";
  return r;
}

struct WorkerPool::Impl {
  explicit Impl(int workers) : arena(workers) {}
  tbb::task_arena arena;
  std::mutex prepared_mu;
  std::map<std::thread::id, bool> prepared;
};

WorkerPool::WorkerPool(Evaluator& evaluator, int workers)
    : evaluator_(evaluator), workers_(workers < 1 ? 1 : workers),
      impl_(std::make_unique<Impl>(workers_)) {}

WorkerPool::~WorkerPool() = default;

std::string WorkerPool::Describe() const {
  return evaluator_.Describe() + ", " + std::to_string(workers_) + " worker" +
         (workers_ == 1 ? "" : "s");
}

std::vector<EvalResult> WorkerPool::MeasureLatencies(const std::vector<EvalRequest>& requests) {
  try {
    return evaluator_.MeasureLatencies(requests);
  } catch (const std::exception& e) {  // never escapes: every request gets the failure
    std::vector<EvalResult> out;
    for (const EvalRequest& q : requests) {
      EvalResult r;
      r.trial_id = q.trial_id;
      r.rung = q.rung;
      r.failure = std::string("latency measurement: ") + e.what();
      out.push_back(r);
    }
    return out;
  }
}

void WorkerPool::RunOne(const EvalRequest& request, std::mutex& done_mu,
                        const std::function<void(const EvalResult&)>& on_done) {
  {
    std::lock_guard<std::mutex> lock(impl_->prepared_mu);
    bool& done = impl_->prepared[std::this_thread::get_id()];
    if (!done) {
      done = true;
      try {
        evaluator_.PrepareWorkerThread();
      } catch (...) {
        // NOTE: preparation only tunes threads; evaluation still reports its own failures.
      }
    }
  }
  const EvalResult r = EvaluateSafely(evaluator_, request);
  std::lock_guard<std::mutex> lock(done_mu);
  try {
    on_done(r);
  } catch (...) {
    // NOTE: on_done records its own errors (RunSearch keeps the first I/O error).
  }
}

void WorkerPool::EvaluateBatch(const std::vector<EvalRequest>& requests,
                               const std::function<void(const EvalResult&)>& on_done,
                               const std::atomic<bool>* cancel) {
  // A batch is a stream that ends: each worker takes the next request when it is free.
  std::atomic<std::size_t> next{0};
  EvaluateStream(
      [&]() -> std::optional<EvalRequest> {
        const std::size_t i = next.fetch_add(1);
        if (i >= requests.size()) return std::nullopt;
        return requests[i];
      },
      on_done, cancel);
}

void WorkerPool::EvaluateStream(const std::function<std::optional<EvalRequest>()>& next,
                                const std::function<void(const EvalResult&)>& on_done,
                                const std::atomic<bool>* cancel) {
  std::mutex done_mu;
  PARETONAS_TSAN_RELEASE(&g_spawned);
  // One long-lived loop per worker; TBB runs as many at once as the arena and the machine allow,
  // and a loop that starts late finds the stream already drained.
  impl_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, workers_, 1),
        [&](const tbb::blocked_range<int>&) {
          PARETONAS_TSAN_ACQUIRE(&g_spawned);
          while (std::optional<EvalRequest> request = next()) {
            if (cancel && cancel->load()) continue;
            RunOne(*request, done_mu, on_done);
          }
          PARETONAS_TSAN_RELEASE(&g_joined);
        },
        tbb::simple_partitioner());
  });
  PARETONAS_TSAN_ACQUIRE(&g_joined);
}

void WorkerPool::EvaluateAsReady(const std::function<std::optional<EvalRequest>()>& next,
                                 const std::function<void(const EvalResult&)>& on_done,
                                 const std::atomic<bool>* cancel) {
  std::mutex mu;  // serialises next() and on_done(): both read and change the caller's schedule
  std::condition_variable cv;
  int running = 0;
  bool finished = false;
  auto cancelled = [&] { return cancel && cancel->load(); };
  EvaluateStream(
      [&]() -> std::optional<EvalRequest> {
        std::unique_lock<std::mutex> lock(mu);
        while (!finished && !cancelled()) {
          std::optional<EvalRequest> r = next();
          if (r) {
            ++running;
            return r;
          }
          if (running == 0) {
            finished = true;
            cv.notify_all();
            break;
          }
          cv.wait_for(lock, std::chrono::milliseconds(100));  // a result may make a job ready
        }
        return std::nullopt;
      },
      [&](const EvalResult& r) {
        {
          std::lock_guard<std::mutex> lock(mu);
          on_done(r);
          --running;
        }
        cv.notify_all();
      },
      cancel);
}

struct CachingEvaluator::Impl {
  mutable std::mutex mu;
  std::map<std::string, EvalResult> results;
  std::size_t hits = 0;
};

CachingEvaluator::CachingEvaluator(Evaluator& inner, std::string signature, bool by_key)
    : inner_(inner),
      signature_(std::move(signature)),
      by_key_(by_key),
      impl_(std::make_shared<Impl>()) {}

EvalResult CachingEvaluator::Evaluate(const EvalRequest& request) {
  std::string key = (by_key_ ? request.key : request.hash) + "|" + signature_;
  // A rung's result is another result. A hit writes no training state: the next rung then
  // trains from scratch to its resource, which gives the same weights.
  if (request.rung == search::kPrescreenRung) key += "|prescreen";
  for (const auto& p : request.parent_weights) key += "|inherits " + p;  // another start
  if (request.rung >= 0)
    key += "|rung " + std::to_string(request.resource) + " of " + std::to_string(request.max_resource) +
           " " + request.resource_unit;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->results.find(key);
    if (it != impl_->results.end()) {
      ++impl_->hits;
      EvalResult r = it->second;
      r.trial_id = request.trial_id;
      return r;
    }
  }
  EvalResult r = inner_.Evaluate(request);
  if (r.ok) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->results.emplace(key, r);
  }
  return r;
}

std::size_t CachingEvaluator::hits() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hits;
}

}  // namespace paretonas::evaluator
