// How one generation runs: the interface the search loop calls, and the registry that picks an
// implementation from the experiment's fidelity settings. Implementations, one file each:
// FullFidelityRunner (every pending proposal trained once, in one batch), SyncRungsRunner
// (successive halving, rung by rung), AsyncRungsRunner (asynchronous successive halving).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "search/eval_contract.h"
#include "search/problem.h"
#include "search/run_files.h"
#include "search/run_options.h"
#include "search/search_state.h"

namespace paretonas::search {

/// What a generation runs with: the loop's objects, lent for one call.
struct GenerationContext {
  const Problem& problem;
  SearchState& state;
  Journal& journal;
  BatchEvaluator& evaluator;
  const RunOptions& options;
  const std::function<void(const std::string&)>& log;  ///< a progress line (terminal and log.txt)
  RunSummary& summary;
  std::chrono::steady_clock::time_point started;  ///< when this process's RunSearch began
  /// Called with each trial a result of this process was just applied to (training results and
  /// rung results; not the pre-screen's, the latency stage's, nor results replayed from the
  /// journal): the loop watches for a search whose every evaluation fails.
  const std::function<void(const Trial&)>& applied;
};

class GenerationRunner {
 public:
  virtual ~GenerationRunner() = default;
  /// Evaluates the pending generation (state.pending) until every trial of it is finished, with
  /// every result journaled before it is used, and results the journal already holds replayed,
  /// not run again. Returns true when the generation is finished and can be told; false when it
  /// was interrupted or the budget ended inside it (then the journal keeps what finished, and a
  /// runner that ends the search says why in g.summary). Throws RunFileError on I/O failure.
  virtual bool Run(const GenerationContext& g) = 0;
};

/// The runner for `fidelity`: full fidelity without rungs, else synchronous or asynchronous
/// successive halving by its mode. The one place that chooses.
std::unique_ptr<GenerationRunner> CreateGenerationRunner(const FidelityOptions& fidelity);

}  // namespace paretonas::search
