// What synchronous and asynchronous successive halving share: the request that trains a trial
// to a rung, and the rebuild of an interrupted generation from the journal.
#pragma once

#include <string>

#include "search/eval_contract.h"
#include "search/run_options.h"
#include "search/search_state.h"

namespace paretonas::search {

/// The request that trains `t` to rung `r`, continuing from rung r - 1's state (and, with
/// weight inheritance, starting rung 0 from its parents' weights). `dir` as StatesRunDir gives it.
EvalRequest RungRequest(const Trial& t, int r, const RunOptions& o, const SearchState& state,
                        const std::string& dir);

/// A generation not yet told is rebuilt from the journal: the checkpoint of an interrupted
/// process may hold it half-way. That includes earlier generations' stopped trials this one
/// promoted from a pool: they go back to how their own generation left them.
void ResetGeneration(SearchState& state);

/// What a rung generation starts with: the generation rebuilt (ResetGeneration) and the run
/// directory as StatesRunDir gives it, which it returns.
std::string BeginRungGeneration(SearchState& state, const RunOptions& options);

}  // namespace paretonas::search
