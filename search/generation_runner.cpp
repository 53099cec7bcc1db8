#include "search/generation_runner.h"

#include "search/async_rungs_runner.h"
#include "search/full_fidelity_runner.h"
#include "search/sync_rungs_runner.h"

namespace paretonas::search {

std::unique_ptr<GenerationRunner> CreateGenerationRunner(const FidelityOptions& fidelity) {
  if (!fidelity.enabled()) return std::make_unique<FullFidelityRunner>();
  if (fidelity.mode == "async") return std::make_unique<AsyncRungsRunner>();
  return std::make_unique<SyncRungsRunner>();
}

}  // namespace paretonas::search
