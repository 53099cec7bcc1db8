#include "search/inheritance.h"

#include <unistd.h>

#include "search/trial_files.h"

namespace paretonas::search {

void AddInheritance(EvalRequest& q, const Trial& t, const SearchState& state, const std::string& dir) {
  q.weights_out = WeightsPath(dir, t.id);
  for (std::int64_t p : t.parents) {
    const Trial& parent = state.trials.at(p);
    // A twin (the same network under another key) would hand over its whole training.
    if (parent.state != TrialState::kComplete || parent.hash == t.hash) continue;
    const std::string path = WeightsPath(dir, p);
    if (::access(path.c_str(), R_OK) != 0) continue;
    q.parent_genotypes.push_back(parent.genotype);
    q.parent_weights.push_back(path);
  }
}

}  // namespace paretonas::search
