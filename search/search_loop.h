// RunSearch: the ask -> run the generation -> tell -> checkpoint loop over a run directory. How a
// generation runs is a GenerationRunner's (generation_runner.h); the pre-screen (prescreen.h),
// the run files (run_files.h, trial_files.h) and the front (front.h) have files of their own.
#pragma once

#include "search/eval_contract.h"
#include "search/fidelity.h"
#include "search/front.h"
#include "search/prescreen.h"
#include "search/problem.h"
#include "search/run_files.h"
#include "search/run_options.h"
#include "search/search_state.h"
#include "search/strategy.h"
#include "search/trial_files.h"
#include "search/trial_results.h"

namespace paretonas::search {

/// Runs until a budget is reached, the space is exhausted, or `stop` is set. Every finished
/// evaluation is in the journal (fsynced) before it is used; the checkpoint is rewritten
/// atomically after each Ask and Tell. Results already in the journal are reused by trial id
/// (and key), so a resumed run equals an uninterrupted one. Throws RunFileError on I/O failure.
RunSummary RunSearch(const Problem& problem, const Strategy& strategy, SearchState& state,
                     BatchEvaluator& evaluator, const RunOptions& options);

}  // namespace paretonas::search
