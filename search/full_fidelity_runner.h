// Full fidelity: every pending proposal of a generation is trained once, to the end, in one batch.
#pragma once

#include <cstdint>

#include "search/generation_runner.h"

namespace paretonas::search {

class FullFidelityRunner : public GenerationRunner {
 public:
  /// Results the journal holds (an earlier, interrupted process) are reused. When the budget
  /// (RunOptions::max_evals) ends inside the generation, only what fits is evaluated, the rest
  /// stays pending, and g.summary says so (kMaxEvals); then it returns false.
  bool Run(const GenerationContext& g) override;

 private:
  std::int64_t evals_this_process_ = 0;  ///< for the time-left estimate of the progress lines
};

}  // namespace paretonas::search
