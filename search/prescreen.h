// The pre-screen: a generation's proposals scored without training (zero-cost proxies, static
// costs), and only the best passed on to training.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

struct GenerationContext;

/// The pre-screen: each generation's proposals are first scored by their zero-cost proxies and
/// static costs (EvalRequest::rung kPrescreenRung: no training), and only the `keep` best go on
/// to training (or to the first rung), ranked as NSGA-II ranks survivors on `by`: fronts (with
/// the experiment's constraints on metrics every result has), then crowding distance, then id.
/// The others become kScreened trials. A generation of at most `keep` proposals is not screened.
struct PrescreenOptions {
  int keep = 0;  ///< 0: off
  std::vector<Objective> by;
  /// Rank by the surrogates instead of `by` (search.prescreen.by: surrogate): models of the
  /// objectives fitted on the complete trials, with `features` (metrics known before training,
  /// the zero-cost proxies) beside the architecture's own, pick the `keep` proposals they expect
  /// to add the most hypervolume (SelectBySurrogate, optimism `kappa`).
  bool surrogate = false;
  std::vector<std::string> features;
  double kappa = 1.0;
  bool enabled() const { return keep > 0; }
  /// How it ranks, for logs: "synflow max params min", "the surrogates, features: architecture, snip".
  std::string Describe() const;
};

/// The at most `count` of `ids` (proposals with their pre-screen metrics) that the pre-screen
/// passes on, by id: NSGA-II survival order on `options.by`, with `problem`'s constraints on
/// metrics all of them have; or the surrogates' picks, seeded by the state's seed and generation.
std::vector<std::int64_t> SelectPrescreened(const SearchState& state, const Problem& problem,
                                            const PrescreenOptions& options,
                                            const std::vector<std::int64_t>& ids, int count);

/// The pre-screen of the pending generation (g.options.prescreen): proxies and static costs of
/// every proposal (replayed from the journal where it has them), then the best `keep` stay
/// pending and the others become kScreened. Returns false when interrupted before every
/// proposal was scored.
bool PrescreenGeneration(const GenerationContext& g);

}  // namespace paretonas::search
