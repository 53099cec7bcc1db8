// Asynchronous successive halving (ASHA): a worker that comes free takes the due promotion of the
// highest rung (a rung promotes its best 1/eta as results arrive), else a new proposal.
#pragma once

#include "search/generation_runner.h"

namespace paretonas::search {

class AsyncRungsRunner : public GenerationRunner {
 public:
  /// The generation in progress is rebuilt from the journal in the order its results arrived,
  /// so that with one worker a resume takes the same decisions as an uninterrupted run.
  bool Run(const GenerationContext& g) override;
};

}  // namespace paretonas::search
