// Trial: one architecture proposed by a strategy, with its life cycle and results.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace paretonas::search {

/// kPending -> kRunning -> kComplete | kFailed | kStopped | kScreened. A finished trial is
/// never changed again, with one exception: with a promotion pool (fidelity.promotion_pool above
/// 1) a later generation may promote a kStopped trial, which then runs again (kRunning) and ends
/// kComplete, kFailed or kStopped at a higher rung in that generation. kStopped: a multi-fidelity
/// trial that successive halving did not promote to the top rung; its metrics are those of the
/// rung it reached, so the front, the population, the surrogates and exports leave it out (they
/// compare top-rung results only). kScreened: a
/// proposal the pre-screen (search.prescreen) did not pass to training; its metrics are its
/// zero-cost proxies and static costs only, and it does not count as an evaluation.
enum class TrialState : std::uint8_t {
  kPending = 0, kRunning = 1, kComplete = 2, kFailed = 3, kStopped = 4, kScreened = 5
};

const char* TrialStateName(TrialState s);

/// One rung's result of a multi-fidelity trial (its learning curve is the list of these).
struct RungResult {
  int rung = 0;
  double resource = 0;                      ///< in the fidelity's unit
  std::map<std::string, double> metrics;    ///< what the evaluator reported at this rung
  double seconds = 0;
  /// The generation that trained this rung: the trial's own, unless a later generation's
  /// promotion continued it (FidelityOptions::promotion_pool). -1 in checkpoints written before
  /// it was recorded (then the trial's own).
  int generation = -1;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t version) {
    ar(CEREAL_NVP(rung), CEREAL_NVP(resource), CEREAL_NVP(metrics), CEREAL_NVP(seconds));
    if (version >= 2) ar(CEREAL_NVP(generation));
  }
};

struct Trial {
  std::int64_t id = 0;
  int generation = 0;
  std::vector<int> genotype;
  std::string key;   ///< the space's architecture key (NB201 string for nb201)
  std::string hash;  ///< canonical hash of the architecture
  std::vector<std::int64_t> parents;
  std::uint64_t seed = 0;
  TrialState state = TrialState::kPending;
  std::string failure;
  std::map<std::string, double> metrics;
  double seconds = 0;  ///< evaluation wall time, all rungs together
  /// Multi-fidelity only: the highest rung reached (-1: none, or no fidelity) and every rung's
  /// result in order. `metrics` then holds the last rung's metrics, with those measured once
  /// per architecture (latency) carried over from the rung that measured them.
  int rung = -1;
  std::vector<RungResult> curve;
  /// Wall-clock start and end of the evaluation (UTC, seconds since 1970; 0: not recorded, as in
  /// runs written before they were). The end is when its result was journaled, the start the
  /// end less the evaluation's seconds (for multi-fidelity, its first rung's).
  double started_unix = 0, finished_unix = 0;

  bool finished() const {
    return state == TrialState::kComplete || state == TrialState::kFailed ||
           state == TrialState::kStopped || state == TrialState::kScreened;
  }

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t version) {
    ar(CEREAL_NVP(id), CEREAL_NVP(generation), CEREAL_NVP(genotype), CEREAL_NVP(key),
       CEREAL_NVP(hash), CEREAL_NVP(parents), CEREAL_NVP(seed), CEREAL_NVP(state),
       CEREAL_NVP(failure), CEREAL_NVP(metrics), CEREAL_NVP(seconds));
    if (version >= 2) ar(CEREAL_NVP(rung), CEREAL_NVP(curve));
    if (version >= 3) ar(CEREAL_NVP(started_unix), CEREAL_NVP(finished_unix));
  }
};

}  // namespace paretonas::search
