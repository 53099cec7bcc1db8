// Multi-fidelity search: the rungs of successive halving and who is promoted between them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

/// An experiment's `fidelity` section. Off (the default) when `rungs` is empty: every candidate
/// gets the full training.
///
/// In `sync` mode each generation runs successive halving: all its new candidates train to the
/// first rung; the best max(1, floor(n / eta)) of them by the objectives known at that rung
/// continue (from their saved training state) to the next, and so on; the others stop there.
/// The top rung is the full training, and only top-rung results enter the population, the
/// front, its hypervolume and the surrogates' data.
///
/// In `async` mode (asynchronous successive halving, as ASHA and MO-ASHA) a free worker never
/// waits for a rung to complete: it takes a promotion if one is due, else the generation's next
/// new candidate. A candidate finished at rung r is due when it is among the best
/// floor(n / eta) of the n finished at r so far (the same ranking) and fewer than that many have
/// been promoted from r; when nothing runs and no new candidate is left, max(1, floor(n / eta))
/// as in sync. The generation ends when nothing runs and nothing is due. Which candidates are
/// promoted depends on the order results arrive: with one worker that order is fixed (the same
/// trials every run, and after a resume); with several, two runs may differ.
struct FidelityOptions {
  std::string resource = "epochs";  ///< epochs | steps | images (training images processed)
  std::vector<double> rungs;        ///< increasing, > 0; the last is the full training
  double eta = 3;                   ///< reduction factor between rungs, > 1
  std::string mode = "sync";        ///< sync | async
  /// How a rung's candidates are ranked for promotion (see SelectPromotions): crowding (NSGA-II's
  /// non-dominated rank, then crowding distance, ties to the smaller id) | crowding_primary (the
  /// same, ties to the better first objective) | hypervolume (greedy hypervolume contribution to
  /// the front of every earlier trial's results at the same rung) | predicted (greedy hypervolume
  /// contribution of each candidate's objectives, predicted at the top rung, to the complete
  /// trials' front).
  std::string promotion = "crowding";
  /// Which stopped candidates a rung's promotions may choose from (sync mode): those of the last
  /// `promotion_pool` generations, this one included; 0: of every generation. 1 (the default):
  /// this generation's only, as successive halving inside a generation. Above 1, a generation
  /// still promotes max(1, floor(n / eta)) of its own n at each rung (the same training), but
  /// they are the best not yet promoted of the pool, ranked against every result at that rung so
  /// far (as ASHA ranks), and a candidate stopped in an earlier generation continues from its
  /// saved state. The states of the pool stay on disk until they leave it.
  int promotion_pool = 1;

  bool enabled() const { return !rungs.empty(); }
  int top() const { return static_cast<int>(rungs.size()) - 1; }
  double max_resource() const { return rungs.empty() ? 0 : rungs.back(); }
  /// Empty when valid; else names the field, its value and what is allowed.
  std::string Validate() const;
  /// "epochs 0.2222, 0.6667, 2 (eta 3, sync)".
  std::string Describe() const;
};

/// Rungs from min, max and eta: max, max/eta, max/eta^2, ... down to the last that is >= min
/// (with a relative tolerance of 1e-9), in increasing order, each rounded to six significant
/// digits (so that a resolved config that writes them reads them back exactly).
std::vector<double> GeometricRungs(double min, double max, double eta);

/// How many of `n` candidates that finished a rung move up: max(1, floor(n / eta)), 0 for n 0.
int PromoteCount(int n, double eta);

/// The `count` of `ids` (trials with metrics at the same rung) that move up, in id order.
/// `promotion` "crowding": ranked by constraint-domination fronts on the problem's objectives,
/// then crowding distance (larger first), then id (smaller first), as NSGA-II's survival ranks.
/// With few candidates that rank ignores accuracy: in a rung of three that do not dominate one
/// another the boundary points (two with two objectives, often all three with three) tie at
/// infinite crowding distance, and the smallest id of them moves up.
/// `promotion` "crowding_primary": the same order, but equal crowding distances (a front's
/// boundary points) go to the better first objective (the experiment's first, usually accuracy)
/// before the smaller id: of three such candidates the most accurate moves up. Both measured
/// lower than crowding on Fashion-MNIST (bench/RESULTS.md, "Third round"): crowding's ties
/// promote both ends of the front, which the front needs.
/// `promotion` "hypervolume": one at a time, the feasible candidate that adds the most
/// hypervolume to the results every other trial of the state had at the same rung (their learning
/// curves), with the ones already chosen; objectives min-max normalised over those results and
/// the candidates, reference point 1.1. Ties (nothing adds any) and the rest follow the
/// crowding order. A candidate that would lose to the results at its rung is not promoted
/// because it is an extreme of a small rung.
/// `promotion` "predicted": each objective that changes with training is predicted at the top
/// rung from its value at this rung and log(1 + params), by least squares over the complete
/// trials' learning curves (from 6 complete trials with a result at this rung on; before that,
/// the crowding order). Then one at a time, the feasible candidate whose predicted point adds the
/// most hypervolume to the front of the complete trials (min-max normalised over both, reference
/// 1.1); ties (nothing adds any) and the rest follow the crowding order. It weighs a candidate
/// against what the search has actually reached, not against other rung results.
std::vector<std::int64_t> SelectPromotions(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids, int count,
                                           const std::string& promotion = "crowding");

/// SelectPromotions over a pool (FidelityOptions::promotion_pool above 1): the `count` of
/// `eligible` (trials stopped at `rung`, not yet promoted) that move up, in id order. They are
/// ranked among every trial's result at `rung` (its learning curve), promoted ones included, by
/// the `promotion` rule, and the best-ranked eligible ones move up: a candidate dominated by
/// results that were already promoted ranks behind one that is not.
std::vector<std::int64_t> SelectPromotionsFromPool(const SearchState& state, const Problem& problem,
                                                   int rung, const std::vector<std::int64_t>& eligible,
                                                   int count, const std::string& promotion = "crowding");

/// Metrics an evaluator measures once per architecture (at the first rung) and a trial keeps
/// from rung to rung: every latency_* metric (the measurement and its error), peak_activation_bytes, predicted_latency_ms,
/// the zero-cost proxies, their "<name>_seconds" and proxy_seconds.
bool IsPerArchitectureMetric(const std::string& metric);

}  // namespace paretonas::search
