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

/// kPending -> kRunning -> kComplete | kFailed. A finished trial is never changed again.
enum class TrialState : std::uint8_t { kPending = 0, kRunning = 1, kComplete = 2, kFailed = 3 };

const char* TrialStateName(TrialState s);

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
  double seconds = 0;

  bool finished() const { return state == TrialState::kComplete || state == TrialState::kFailed; }

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(CEREAL_NVP(id), CEREAL_NVP(generation), CEREAL_NVP(genotype), CEREAL_NVP(key),
       CEREAL_NVP(hash), CEREAL_NVP(parents), CEREAL_NVP(seed), CEREAL_NVP(state),
       CEREAL_NVP(failure), CEREAL_NVP(metrics), CEREAL_NVP(seconds));
  }
};

}  // namespace paretonas::search
