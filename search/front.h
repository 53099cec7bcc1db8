// The front of a search state: which complete, feasible trials no other dominates, and the
// hypervolume a user watches (in the state's normalisation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

/// Ids of the complete, feasible trials, by id.
std::vector<std::int64_t> FeasibleComplete(const SearchState& state, const Problem& problem);

/// Ids of the complete, feasible trials that no other such trial dominates, by id.
std::vector<std::int64_t> ParetoFront(const SearchState& state, const Problem& problem);

/// The same among the trials `ids` only (ascending ids; the others ignored). The front of all
/// trials is the front among (the front of trials that no longer change) + (the trials that may):
/// how a live page keeps it without sorting 100,000 trials on every result.
std::vector<std::int64_t> ParetoFrontAmong(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids);

/// Fixes the state's hypervolume normalisation (hv_ideal, hv_reference) from its complete,
/// feasible trials the first time they span a range in every objective (ideal: the best value of
/// each, reference: the worst plus 10% of the range); nothing before (HvFixed false) or once
/// it is fixed.
void FixNormalisation(SearchState& state, const Problem& problem);

/// Whether the hypervolume's box is fixed (FixNormalisation found a range in every objective).
inline bool HvFixed(const SearchState& state) { return !state.hv_ideal.empty(); }

/// Hypervolume of the front in the state's normalisation (see docs/determinism.md); 0 before it
/// is fixed.
double NormalizedHypervolume(const SearchState& state, const Problem& problem);

/// Several runs' hypervolumes in one box, so that they compare (each run's own box differs):
/// ideal = the best value of each objective over every run's complete, feasible trials,
/// reference = the worst plus 10% of the range, as FixNormalisation does for one run. The runs
/// must have the same objectives (metrics and goals). `hv[i]` is NaN, with `why[i]` saying why,
/// for a run with no complete, feasible trial; `error` is set (and every hv NaN) when the
/// objectives differ or the trials span no range in some objective.
struct CommonBox {
  std::vector<double> ideal, reference;
  std::vector<double> hv;
  std::vector<std::string> why;
  std::string error;
};
CommonBox CommonBoxHypervolumes(const std::vector<const SearchState*>& states,
                                const std::vector<const Problem*>& problems);

}  // namespace paretonas::search
