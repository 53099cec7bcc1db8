// What the search needs from an evaluator: the request it sends, the result it gets back, and
// the batch interface it calls. Torch-free; evaluator/ implements it, search/ consumes it.
#pragma once

#include <cmath>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cereal/cereal.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

namespace paretonas::search {

/// EvalRequest::rung of a pre-screen request: proxies and static costs, no training.
constexpr int kPrescreenRung = -2;

/// Journal rung of a trial's latency measured by the latency stage (BatchEvaluator::
/// MeasureLatencies) before its training, and of its k-th measurement again (k = 0, 1, ...)
/// when a decision depended on it: kRemeasureRung - k.
constexpr int kLatencyRung = -3;
constexpr int kRemeasureRung = -10;

/// One architecture to evaluate. `seed` is derived from (experiment seed, trial id) and fixes
/// weight init, data order and augmentation.
///
/// Multi-fidelity (an experiment's `fidelity` section): `rung` >= 0 asks for training up to
/// `resource` (in `resource_unit`: epochs, steps or images) of a schedule whose full length is
/// `max_resource`, so that stopping at a rung and continuing gives the weights of one straight
/// training. `state_in` names the saved training state of the previous rung to continue from
/// (when that file does not exist the evaluator trains from scratch to `resource`, which gives
/// the same result); `state_out`, when set, is where to save the state reached. With rung -1
/// the evaluator trains its configured recipe, as before fidelities existed. With rung
/// kPrescreenRung it trains nothing: it reports the zero-cost proxies it is configured for and
/// the static costs (the pre-screen, search.prescreen).
struct EvalRequest {
  std::int64_t trial_id = 0;
  std::string key;                ///< the space's architecture key
  std::string hash;               ///< canonical hash of the architecture
  std::vector<int> genotype;
  std::uint64_t seed = 0;
  int rung = -1;
  double resource = 0;
  double max_resource = 0;
  std::string resource_unit;
  std::string state_in;
  std::string state_out;
  /// Weight inheritance (search.inherit_weights): where to save the trained weights (after the
  /// full training), and the parents' genotypes with the files of their trained weights; the
  /// evaluator starts the network from the parents' tensors of every operation the child shares
  /// with them (the first parent first), on the first rung only.
  std::string weights_out;
  std::vector<std::vector<int>> parent_genotypes;
  std::vector<std::string> parent_weights;
  /// False when the search has this architecture's latency already (its latency stage measured
  /// and journaled it): the evaluator then does not measure it again.
  bool measure_latency = true;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t version) {
    ar(trial_id, key, hash, genotype, seed);
    if (version >= 1) ar(rung, resource, max_resource, resource_unit, state_in, state_out);
    if (version >= 2) ar(weights_out, parent_genotypes, parent_weights);
    if (version >= 3) ar(measure_latency);
  }
};

/// What an evaluation produced: metrics, or a failure with its reason (never both).
struct EvalResult {
  std::int64_t trial_id = 0;
  bool ok = false;
  std::string failure;                      ///< non-empty iff !ok
  std::map<std::string, double> metrics;    ///< e.g. val_accuracy, latency_ms, params, macs
  double seconds = 0;                       ///< wall time of the evaluation
  int rung = -1;                            ///< the request's rung (-1: no fidelity)
  /// When the result was journaled (UTC, seconds since 1970; 0 in journals written before it
  /// was recorded): a trial's end time, and its start time less `seconds`.
  double finished_unix = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t version) {
    ar(trial_id, ok, failure, metrics, seconds);
    if (version >= 1) ar(rung);
    if (version >= 2) ar(finished_unix);
  }
};

/// The error (%) of an accuracy (%), 100 - accuracy rounded to 1e-10: what a user reads is 18.9,
/// not 100 - 81.1's 18.900000000000006 (far below any accuracy's resolution).
inline double ErrorPercent(double accuracy_percent) {
  return std::round((100.0 - accuracy_percent) * 1e10) / 1e10;
}

/// Evaluates a batch of requests, reporting each result as it finishes.
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

  /// Whether MeasureLatencies works here (evaluators that build the networks in this process).
  virtual bool CanMeasureLatencies() const { return false; }
  /// Measures the batch-1 latency of every request's architecture together, in the calling
  /// thread, while nothing else of this evaluator runs: interleaved rounds over all of them, more
  /// rounds for those not yet precise (evaluator/latency_estimate.h). One result per request, in
  /// order, with latency_ms, latency_iqr_ms, latency_ci_ms (half the 95% interval of the
  /// median), latency_noisy (1: interval wider than the target), latency_passes,
  /// latency_discarded (descheduled passes), latency_load (load average per core),
  /// latency_seconds and peak_activation_bytes; a failed result for an architecture the
  /// evaluator would reject. Empty when CanMeasureLatencies is false.
  virtual std::vector<EvalResult> MeasureLatencies(const std::vector<EvalRequest>& requests) {
    (void)requests;
    return {};
  }

  /// Pull form, for schedules that choose each job from the results so far (asynchronous
  /// successive halving): whenever a worker is free, `next()` gives it a request, or nothing when
  /// no job is ready now; the call returns once `next()` gives nothing while no request is
  /// running (or when `cancel` becomes true). `next` and `on_done` are never called concurrently
  /// with each other or themselves. This default runs what is ready as one batch, waits for it,
  /// and asks again (correct, but a worker idles until its batch ends); the worker pool and the
  /// MPI evaluator hand out jobs one at a time as workers free up.
  virtual void EvaluateAsReady(const std::function<std::optional<EvalRequest>()>& next,
                               const std::function<void(const EvalResult&)>& on_done,
                               const std::atomic<bool>* cancel) {
    while (!(cancel && cancel->load())) {
      std::vector<EvalRequest> ready;
      while (std::optional<EvalRequest> r = next()) ready.push_back(std::move(*r));
      if (ready.empty()) return;
      EvaluateBatch(ready, on_done, cancel);
    }
  }
};

}  // namespace paretonas::search

CEREAL_CLASS_VERSION(paretonas::search::EvalRequest, 3);
CEREAL_CLASS_VERSION(paretonas::search::EvalResult, 2);
