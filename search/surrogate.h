// Surrogate-assisted selection of offspring: predict each candidate's objectives from the
// evaluated trials and spend real evaluations on the most promising.
#pragma once

#include <cstdint>
#include <vector>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

/// What the surrogates see of an architecture: the pruned and the raw graph encodings and
/// whether the output is reachable.
std::vector<double> SurrogateFeatures(const space::SearchSpace& space, const space::Genotype& g);

/// Whether an objective's surrogate should fit log(v + 0.01) rather than v, where v is the
/// objective normalised over the trials (minimisation form: 0 = best seen, 1 = worst): true
/// when a ridge fit on `x` ranks held-out trials better that way (5-fold cross-validation,
/// Spearman). The log form stretches the crowded region near the best value (accuracy on NB201:
/// Kendall tau of the fit on 100 cells 0.53 -> 0.66); additive costs such as latency stay plain.
/// False below 10 trials.
bool PreferLogTarget(const std::vector<std::vector<double>>& x, const std::vector<double>& v,
                     std::uint64_t seed);

/// Picks `count` of `candidates` (indices, in pick order). One bootstrap ridge ensemble per
/// objective is fitted on the complete trials (on the log form where PreferLogTarget says so); then, greedily, the candidate whose optimistic
/// prediction (mean - kappa * spread, in minimisation form) adds the most hypervolume to the
/// current front (normalised by the trials' ranges) is picked and its mean prediction joins the
/// front, which spreads the picks. When no candidate adds hypervolume (or for 4+ objectives), the
/// one closest to the front (smallest additive epsilon to become non-dominated) is picked.
/// Deterministic for a given state, candidates and `seed`.
std::vector<std::size_t> SelectBySurrogate(const SearchState& state, const Problem& problem,
                                           const std::vector<space::Genotype>& candidates,
                                           std::size_t count, double kappa, std::uint64_t seed);

}  // namespace paretonas::search
