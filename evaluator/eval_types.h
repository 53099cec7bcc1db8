// Values exchanged between the search and the evaluators. Torch-free on purpose.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace paretonas::evaluator {

/// One architecture to evaluate. `seed` is derived from (experiment seed, trial id) and fixes
/// weight init, data order and augmentation.
struct EvalRequest {
  std::int64_t trial_id = 0;
  std::string key;                ///< the space's architecture key
  std::string hash;               ///< canonical hash of the architecture
  std::vector<int> genotype;
  std::uint64_t seed = 0;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(trial_id, key, hash, genotype, seed);
  }
};

/// What an evaluation produced: metrics, or a failure with its reason (never both).
struct EvalResult {
  std::int64_t trial_id = 0;
  bool ok = false;
  std::string failure;                      ///< non-empty iff !ok
  std::map<std::string, double> metrics;    ///< e.g. val_accuracy, latency_ms, params, macs
  double seconds = 0;                       ///< wall time of the evaluation

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(trial_id, ok, failure, metrics, seconds);
  }
};

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
};

}  // namespace paretonas::evaluator
