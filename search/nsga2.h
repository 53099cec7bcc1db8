// NSGA-II (Deb et al., 2002) with constraint-domination and duplicate elimination by hash.
#pragma once

#include "search/strategy.h"

namespace paretonas::search {

/// Binary tournament (constraint-domination, then rank, then crowding), uniform crossover,
/// per-decision mutation, elitist (mu + lambda) survival by fronts and crowding distance.
class Nsga2 : public Strategy {
 public:
  using Strategy::Strategy;

 protected:
  void PrepareAsk(const SearchState& state, const Problem& problem) const override;
  Proposal Propose(const SearchState& state, const Problem& problem,
                   std::mt19937_64& rng) const override;
  void Survive(SearchState& state, const Problem& problem,
               const std::vector<std::int64_t>& finished) const override;

 private:
  size_t Tournament(std::mt19937_64& rng) const;
  // NOTE: scratch for the current Ask only, recomputed from the state by PrepareAsk.
  mutable std::vector<int> rank_;
  mutable std::vector<double> crowding_;
};

}  // namespace paretonas::search
