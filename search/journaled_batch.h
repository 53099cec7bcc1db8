// Evaluating a batch so that nothing is lost: each result is journaled (fsynced) before the
// search state sees it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "search/eval_contract.h"
#include "search/run_files.h"
#include "search/search_state.h"

namespace paretonas::search {

/// Appends `result` to the journal under `t`'s key, its finished_unix set to now when unset. On
/// failure records the message in `io_error` (the caller throws it when its batch has ended) and
/// returns false.
bool AppendToJournal(Journal& journal, const Trial& t, EvalResult& result, std::string& io_error);

/// Evaluates `requests` as one batch: each result, stored under journal rung `rung`, is journaled
/// (fsynced) before `apply` sees it; `apply` calls are serialised. Throws RunFileError when the
/// journal cannot be written (after the batch has ended).
void EvaluateJournaled(BatchEvaluator& evaluator, Journal& journal, SearchState& state,
                       const std::vector<EvalRequest>& requests, int rung, const std::atomic<bool>* stop,
                       const std::function<void(Trial&, const EvalResult&)>& apply);

}  // namespace paretonas::search
