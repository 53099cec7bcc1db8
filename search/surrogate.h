// Surrogate-assisted selection of offspring: predict each candidate's objectives from the
// evaluated trials and spend real evaluations on the most promising.
#pragma once

#include <cstdint>
#include <vector>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

/// What the surrogates see of an architecture: for the live, the used and all edges
/// (space::EdgeSet) the graph encoding followed by the cell op counts (space::CellOpCounts), then
/// whether the output is reachable.
std::vector<double> SurrogateFeatures(const space::SearchSpace& space, const space::Genotype& g);

/// How one objective's surrogate is fit: a bootstrap ridge ensemble or Gaussian-process
/// regression (RBF kernel, squared length scale twice the median heuristic, on the latest 300
/// trials), on the normalised value v (minimisation
/// form: 0 = best seen, 1 = worst) or on log(v + 0.01), which stretches the crowded region near
/// the best value.
/// The model may see only the pruned part of SurrogateFeatures: what a network computes decides
/// its accuracy, while a latency may also pay for dead branches its runtime executes.
struct SurrogateChoice {
  bool kernel = false;
  bool log = false;
  bool pruned_only = false;
  int extras = 0;  ///< trailing features after SurrogateFeatures' (ExtraFeatures), always kept
};

/// `f` (SurrogateFeatures, then `extras` more) without its used and raw encodings when
/// `pruned_only`.
std::vector<double> ChosenFeatures(const std::vector<double>& f, bool pruned_only, int extras = 0);

/// The combination whose 5-fold cross-validated predictions rank the (latest 300) trials best
/// (Spearman; ties keep the simpler). On NB201, accuracy takes the kernel model in log form and
/// latency the ridge as it is (bench/surrogate_bench). Pruned-only features are tried only where
/// some trial's raw encoding differs from its pruned one. Ridge, plain, all features below 10
/// trials.
SurrogateChoice ChooseSurrogate(const std::vector<std::vector<double>>& x,
                                const std::vector<double>& v, std::uint64_t seed, int extras = 0);

/// Features beyond the architecture's: metrics known before training (zero-cost proxies) of the
/// trials, by name, and their values for each candidate. Each enters as sign(v)·log(1 + |v|),
/// standardised over the trials that have them all (the others are left out of the fit).
struct ExtraFeatures {
  std::vector<std::string> metrics;
  std::vector<std::vector<double>> candidates;  ///< parallel to the candidates, then to metrics
};

/// Picks `count` of `candidates` (indices, in pick order). One model per objective (as
/// ChooseSurrogate says) is fitted on the complete trials; then, greedily, the candidate whose
/// optimistic prediction (mean - kappa * spread, in minimisation form) adds the most
/// hypervolume to the current front (normalised by the trials' ranges) is picked and its mean prediction joins the
/// front, which spreads the picks. When no candidate adds hypervolume (or for 4+ objectives), the
/// one closest to the front (smallest additive epsilon to become non-dominated) is picked.
/// Deterministic for a given state, candidates and `seed`.
std::vector<std::size_t> SelectBySurrogate(const SearchState& state, const Problem& problem,
                                           const std::vector<space::Genotype>& candidates,
                                           std::size_t count, double kappa, std::uint64_t seed,
                                           const ExtraFeatures* extra = nullptr);

}  // namespace paretonas::search
