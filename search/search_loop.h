// RunSearch: the ask -> evaluate -> journal -> tell -> checkpoint loop over a run directory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "search/eval_contract.h"
#include "search/fidelity.h"
#include "search/problem.h"
#include "search/search_state.h"
#include "search/strategy.h"

namespace paretonas::search {

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

struct RunOptions {
  std::string run_dir;
  std::int64_t max_evals = 0;  ///< total trials (finished or failed); 0: no limit
  int max_generations = 0;     ///< 0: no limit
  std::function<void(const std::string& line)> log;  ///< progress lines (also go to log.txt)
  const std::atomic<bool>* stop = nullptr;           ///< set by SIGINT/SIGTERM handlers
  /// Multi-fidelity (off when it has no rungs): each generation runs successive halving, and
  /// the budget is checked between generations (a generation always runs to its top rung).
  /// Training states between rungs live in `run_dir`/states.
  FidelityOptions fidelity;
  PrescreenOptions prescreen;
  /// Weight inheritance: every fully trained trial saves its weights to `run_dir`/weights/ID.pt,
  /// and a child's request names its complete parents' files (not a parent that is the same
  /// network under another key), so that the evaluator starts it from their shared tensors.
  bool inherit_weights = false;
};

struct RunSummary {
  enum class Termination { kMaxEvals, kMaxGenerations, kSpaceExhausted, kInterrupted };
  Termination termination = Termination::kMaxEvals;
  std::string message;  ///< never empty
  std::int64_t evaluations = 0;  ///< finished trials in the state
  std::int64_t failed = 0;
  std::int64_t stopped = 0;  ///< multi-fidelity trials that stopped below the top rung
  std::int64_t screened = 0;  ///< proposals the pre-screen kept from training
  std::int64_t reused_from_journal = 0;
  int generations = 0;
  std::size_t front_size = 0;
  double hypervolume = 0;
  double seconds = 0;
  std::string BriefReport() const;
};

/// Runs until a budget is reached, the space is exhausted, or `stop` is set. Every finished
/// evaluation is in the journal (fsynced) before it is used; the checkpoint is rewritten
/// atomically after each Ask and Tell. Results already in the journal are reused by trial id
/// (and key), so a resumed run equals an uninterrupted one. Throws RunFileError on I/O failure.
RunSummary RunSearch(const Problem& problem, const Strategy& strategy, SearchState& state,
                     BatchEvaluator& evaluator, const RunOptions& options);

/// Records `result` in `trial`: kComplete with its metrics, or kFailed with the reason (also when
/// an objective or constraint metric is missing or not finite).
void ApplyResult(Trial& trial, const EvalResult& result, const Problem& problem);

/// Ids of the complete, feasible trials that no other such trial dominates, by id.
std::vector<std::int64_t> ParetoFront(const SearchState& state, const Problem& problem);

/// Path of the trained weights of trial `id` in `run_dir` (weight inheritance).
std::string WeightsPath(const std::string& run_dir, std::int64_t id);

/// Path of the saved training state of trial `id` after `rung` in `run_dir`.
std::string RungStatePath(const std::string& run_dir, std::int64_t id, int rung);

/// Files and bytes of the training states in `run_dir`/states.
struct StateDiskUse {
  std::int64_t files = 0;
  std::int64_t bytes = 0;
};
StateDiskUse RungStateDiskUse(const std::string& run_dir);

/// Hypervolume of the front in the state's normalisation (see docs/determinism.md).
double NormalizedHypervolume(const SearchState& state, const Problem& problem);

/// Writes trials.jsonl and front.csv into `run_dir` atomically.
void WriteTrialFiles(const std::string& run_dir, const SearchState& state, const Problem& problem);

/// JSON string literal for `s`.
std::string JsonString(const std::string& s);
/// Number in JSON (non-finite values become null).
std::string JsonNumber(double v);

}  // namespace paretonas::search
