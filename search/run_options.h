// What a search run is asked to do (RunOptions) and what it reports when it ends (RunSummary).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "search/fidelity.h"
#include "search/prescreen.h"

namespace paretonas::search {

struct RunOptions {
  std::string run_dir;
  std::int64_t max_evals = 0;  ///< total trials (finished or failed); 0: no limit
  int max_generations = 0;     ///< 0: no limit
  /// Wall-clock budget of the search loop in seconds, over every process that ran it
  /// (SearchState::search_seconds); 0: no limit. Checked between generations: a generation that
  /// has started runs to its end, so a search stops within one generation after the budget.
  double max_seconds = 0;
  std::function<void(const std::string& line)> log;  ///< progress lines (also go to log.txt)
  /// Set by SIGINT/SIGTERM handlers; the loop also sets it to stop a search whose every
  /// evaluation fails (max_failures_in_a_row).
  std::atomic<bool>* stop = nullptr;
  /// Multi-fidelity (off when it has no rungs): each generation runs successive halving, and
  /// the budget is checked between generations (a generation always runs to its top rung).
  /// Training states between rungs live in `run_dir`/states.
  FidelityOptions fidelity;
  PrescreenOptions prescreen;
  /// Weight inheritance: every fully trained trial saves its weights to `run_dir`/weights/ID.pt,
  /// and a child's request names its complete parents' files (not a parent that is the same
  /// network under another key), so that the evaluator starts it from their shared tensors.
  bool inherit_weights = false;
  /// The latency stage (latency_stage.h): each generation's latencies measured together before
  /// it trains and journaled at once, and measured again where a constraint or a promotion cut
  /// would be decided within their noise. Acts only with an evaluator that CanMeasureLatencies;
  /// otherwise the evaluator measures each latency during its evaluation, as before.
  bool latency_stage = false;
  /// Stop when this many evaluations in a row fail before any succeeds in this process
  /// (search.max_failures_in_a_row; 0: never): a search whose every trial fails (a wrong
  /// command, unreadable data, a rung shorter than a batch) would spend its budget on failures.
  int max_failures_in_a_row = 5;
};

struct RunSummary {
  /// kFailures: max_failures_in_a_row evaluations failed before any succeeded (message: the
  /// last one's reason).
  enum class Termination { kMaxEvals, kMaxGenerations, kMaxSeconds, kSpaceExhausted, kInterrupted, kFailures };
  Termination termination = Termination::kMaxEvals;
  std::string message;  ///< never empty
  std::int64_t evaluations = 0;  ///< finished trials in the state
  std::int64_t failed = 0;
  std::int64_t stopped = 0;  ///< multi-fidelity trials that stopped below the top rung
  std::int64_t screened = 0;  ///< proposals the pre-screen kept from training
  std::int64_t reused_from_journal = 0;
  int generations = 0;
  std::size_t front_size = 0;
  double hypervolume = 0;  ///< the last generation's; NaN before its box is fixed (front.h)
  double seconds = 0;
  std::string BriefReport() const;
};

}  // namespace paretonas::search
