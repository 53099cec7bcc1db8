// Strategy: the ask/tell contract every search strategy implements.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "search/problem.h"
#include "space/operators.h"
#include "search/search_state.h"

namespace paretonas::search {

struct StrategyOptions {
  std::string name = "nsga2";   ///< nsga2 | random | regularized_evolution
  int population = 20;          ///< NSGA-II population; aging-evolution population
  int batch = 0;                ///< proposals per generation; 0: population
  double crossover_prob = 0.9;  ///< NSGA-II: probability of uniform crossover
  double mutation_rate = -1;    ///< per-decision mutation probability; <0: 1/#decisions
  int sample_size = 5;          ///< regularized evolution: tournament sample
  bool reject_disconnected = false;  ///< never propose graphs whose output is unreachable
  int max_tries = 200;          ///< dedup attempts per proposal before falling back to sampling
  /// What makes two proposals duplicates. "canonical" (default): the canonical hash, so one
  /// function (same pruned graph, any dead edges or node numbering) is evaluated once.
  /// "canonical_used" and "canonical_raw": the canonical hash of the graph a runtime that keeps
  /// (some) dead branches executes (space::EdgeSet kUsed, kAll), for objectives measured on one:
  /// NB201's pixel3 latencies of cells of one pruned function range 1-21 ms, depending on the
  /// ops that compute on zero tensors for the output. "key": the architecture key (NB201
  /// string), so every distinct string is evaluated, e.g. to re-sample a noisy objective.
  std::string dedup = "canonical";
  std::string sampler = "uniform";        ///< space::SamplerNames()
  std::string mutation = "per_decision";  ///< space::MutationNames()
  std::string crossover = "uniform";      ///< space::CrossoverNames()
  /// Surrogate-assisted offspring: propose `surrogate_pool` times more children than needed and
  /// evaluate those the surrogates rate most promising (see search/surrogate.h).
  bool surrogate = false;
  int surrogate_pool = 20;
  double surrogate_kappa = 1.0;  ///< optimism: prediction minus kappa spreads
  /// Share of each generation the surrogates choose; the rest are the strategy's own first
  /// proposals, which keeps local refinement around the front. 0.75 since the surrogates choose
  /// their model by cross-validation (NB201, 30 seeds: more of the front than 0.5 on both
  /// devices; 1.0 collapsed some runs).
  double surrogate_fraction = 0.75;
  /// Second measurements near the front: each generation first evaluates (up to half of it)
  /// the unevaluated renumberings (space::SearchSpace::Relabelings: the same network under
  /// another key, which the dedup identity would otherwise skip) of the trials that are within
  /// `remeasure_margin` of the current front and at least `remeasure_after` generations old. The
  /// margin is the additive epsilon by which a trial misses the front, objectives normalised by
  /// the trials' ranges; the age spares the trials an early front soon leaves behind. On a noisy
  /// objective a trial's value is one draw; a network measured near the front gets a second,
  /// and the front keeps the better, which is optimistic for that network (the winner's curse).
  /// Off by default. NB201 on pixel3 (bench/RESULTS.md, measured 2026-11-26): 71.4% of the table's front
  /// cells within 1000 evaluations instead of 68.5% (60 seeds).
  bool remeasure_front = false;
  double remeasure_margin = 0.01;
  int remeasure_after = 3;
  /// Architectures (the space's keys) to evaluate first, as Optuna's enqueue_trial: each
  /// generation's proposals start with those not evaluated yet (same identity as `dedup`), so
  /// that more than a generation's worth spill into the next ones; journaled like any proposal.
  /// Checked against the space when the session is made (ParseKey).
  std::vector<std::string> enqueue;

  /// Empty string when valid; else names the field, its value and the broken constraint.
  std::string Validate() const;
};

/// Values allowed for StrategyOptions::dedup.
const std::vector<std::string>& DedupNames();

/// Names known to CreateStrategy.
const std::vector<std::string>& StrategyNames();

/// A proposed architecture with its lineage.
struct Proposal {
  space::Genotype genotype;
  std::vector<std::int64_t> parents;
};

class Strategy {
 public:
  /// Builds the variation operators named in `options` (throws std::invalid_argument).
  explicit Strategy(StrategyOptions options);
  virtual ~Strategy() = default;
  const StrategyOptions& options() const { return options_; }

  /// Proposes the next generation: up to `max_new` new trials, distinct by options().dedup
  /// (remeasure_front's second measurements excepted: they share their first's identity),
  /// appended to state.trials as kPending and listed in state.pending. Returns how many; 0 when
  /// the space is exhausted. Requires state.pending to be empty.
  int Ask(SearchState& state, const Problem& problem, int max_new) const;
  /// Absorbs the finished pending trials (all must be finished) and advances the generation.
  void Tell(SearchState& state, const Problem& problem) const;

 protected:
  /// Called once per Ask before proposals: e.g. rank the population for tournaments.
  virtual void PrepareAsk(const SearchState& state, const Problem& problem) const = 0;
  /// One proposal. May be a duplicate; Ask rejects and retries.
  virtual Proposal Propose(const SearchState& state, const Problem& problem,
                           std::mt19937_64& rng) const = 0;
  /// Survival: recompute state.population from it and the newly finished trials.
  virtual void Survive(SearchState& state, const Problem& problem,
                       const std::vector<std::int64_t>& finished) const = 0;
  int BatchSize() const { return options_.batch > 0 ? options_.batch : options_.population; }
  double MutationRate(const Problem& p) const;

  StrategyOptions options_;
  std::unique_ptr<space::Sampler> sampler_;
  std::unique_ptr<space::Mutation> mutation_;
  std::unique_ptr<space::Crossover> crossover_;
};

/// The one registry: builds a strategy by options.name. Throws std::invalid_argument.
std::unique_ptr<Strategy> CreateStrategy(const StrategyOptions& options);

/// Ranks `ids` by constraint-domination fronts, then crowding distance (descending).
/// Returns rank[i] (front index) and crowding[i], parallel to `ids`.
void RankAndCrowd(const SearchState& state, const Problem& problem,
                  const std::vector<std::int64_t>& ids, std::vector<int>* rank,
                  std::vector<double>* crowding);

/// `ids` best first, in NSGA-II's survival order: constraint-domination front, then crowding
/// distance (larger first), then `tie` (smaller first; parallel to `ids`, when given), then id
/// (smaller first).
std::vector<std::int64_t> SurvivalOrder(const SearchState& state, const Problem& problem,
                                        const std::vector<std::int64_t>& ids,
                                        const std::vector<double>* tie = nullptr);

}  // namespace paretonas::search
