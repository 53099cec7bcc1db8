// BatchEvaluator: the search's batch interface (search/eval_contract.h), named here for the
// evaluators that implement it.
#pragma once

#include "evaluator/eval_types.h"
#include "search/eval_contract.h"

namespace paretonas::evaluator {

using search::BatchEvaluator;

}  // namespace paretonas::evaluator
