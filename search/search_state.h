// SearchState: everything needed to continue a search. Strategies hold no other state.
#pragma once

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "search/trial.h"

namespace paretonas::search {

struct SearchState {
  std::string config_hash;   ///< hash of the resolved config without its budget
  std::string config_text;   ///< the resolved config (YAML) the search started with
  std::string strategy;      ///< strategy name
  std::uint64_t seed = 0;    ///< experiment seed
  std::string rng;           ///< serialised std::mt19937_64 (its operator<< form)
  int generation = 0;        ///< number of completed Tell()s
  std::vector<Trial> trials; ///< every trial ever proposed; trials[i].id == i
  std::vector<std::int64_t> population;  ///< survivors (strategy-specific meaning)
  std::vector<std::int64_t> pending;     ///< proposed, not yet absorbed by Tell()
  std::vector<double> hv_history;        ///< hypervolume after each generation
  std::vector<std::int64_t> hv_evals;    ///< finished evaluations at each hv_history entry
  std::vector<double> hv_ideal;          ///< normalisation, fixed after the first generation
  std::vector<double> hv_reference;
  /// Wall-clock seconds the search loop has run, over every process that ran it, as of the last
  /// checkpoint (what budget.seconds counts).
  double search_seconds = 0;

  std::mt19937_64 Rng() const;
  void SetRng(const std::mt19937_64& rng);
  /// Finished evaluations: complete, failed or stopped trials. Proposals the pre-screen left out
  /// (kScreened) were never trained and are not counted: see NumScreened.
  std::int64_t NumFinished() const;
  std::int64_t NumScreened() const;

  template <class Archive>
  void serialize(Archive& ar, std::uint32_t version) {
    ar(CEREAL_NVP(config_hash), CEREAL_NVP(config_text), CEREAL_NVP(strategy), CEREAL_NVP(seed), CEREAL_NVP(rng),
       CEREAL_NVP(generation), CEREAL_NVP(trials), CEREAL_NVP(population), CEREAL_NVP(pending),
       CEREAL_NVP(hv_history), CEREAL_NVP(hv_evals), CEREAL_NVP(hv_ideal),
       CEREAL_NVP(hv_reference));
    if (version >= 2) ar(CEREAL_NVP(search_seconds));
  }
};

/// Seed of trial `id` in an experiment with seed `experiment_seed` (splitmix64 of both): never
/// drawn from a shared stream, so it does not depend on evaluation order or worker count.
std::uint64_t TrialSeed(std::uint64_t experiment_seed, std::int64_t id);

}  // namespace paretonas::search

CEREAL_CLASS_VERSION(paretonas::search::Trial, 3);
CEREAL_CLASS_VERSION(paretonas::search::RungResult, 2);
CEREAL_CLASS_VERSION(paretonas::search::SearchState, 2);
