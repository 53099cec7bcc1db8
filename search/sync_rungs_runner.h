// Synchronous successive halving: a generation trains all its proposals to the first rung, then
// promotes the best 1/eta of them (with a promotion pool, also trials earlier generations
// stopped at that rung) to the next, rung by rung up to the top.
#pragma once

#include "search/generation_runner.h"

namespace paretonas::search {

class SyncRungsRunner : public GenerationRunner {
 public:
  /// Replays every rung result the journal holds, so that a resumed generation promotes exactly
  /// as an uninterrupted one. Returns false when interrupted before the top rung was done.
  bool Run(const GenerationContext& g) override;
};

}  // namespace paretonas::search
