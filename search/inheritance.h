// Weight inheritance (RunOptions::inherit_weights): what a request says about where its trained
// weights go and which parents' weights it starts from.
#pragma once

#include <string>

#include "search/eval_contract.h"
#include "search/search_state.h"

namespace paretonas::search {

/// Weight inheritance for `q` (a request of `t`): where its trained weights go, and the complete
/// parents whose weights it starts from (not a parent that is the same network under another
/// key, nor one whose weight file is missing). `dir` as StatesRunDir gives it.
void AddInheritance(EvalRequest& q, const Trial& t, const SearchState& state, const std::string& dir);

}  // namespace paretonas::search
