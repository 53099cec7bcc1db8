#include "search/sync_rungs_runner.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "search/fidelity.h"
#include "search/journaled_batch.h"
#include "search/latency_stage.h"
#include "search/progress_text.h"
#include "search/rungs.h"
#include "search/trial_files.h"
#include "search/trial_results.h"

namespace paretonas::search {
namespace {

/// Whether `t` (stopped) is in generation `gen`'s promotion pool of `pool` generations (0: all):
/// the generation that stopped it is one of the last `pool`, `gen` included.
bool InPool(const Trial& t, int gen, int pool) {
  if (pool == 0) return true;
  const int stopped_in = t.curve.empty() || t.curve.back().generation < 0 ? t.generation : t.curve.back().generation;
  return stopped_in > gen - pool;
}

}  // namespace

bool SyncRungsRunner::Run(const GenerationContext& g) {
  const Problem& problem = g.problem;
  SearchState& state = g.state;
  const RunOptions& options = g.options;
  const FidelityOptions& f = options.fidelity;
  const std::string dir = BeginRungGeneration(state, options);
  if (!MeasureGenerationLatencies(g)) return false;
  std::vector<std::int64_t> active = state.pending;
  std::vector<std::int64_t> revived;  // stopped in an earlier generation, promoted by this one
  const int gen = state.generation;
  for (int r = 0; r <= f.top(); ++r) {
    const bool top = r == f.top();
    std::vector<EvalRequest> requests;
    for (std::int64_t id : active) {
      Trial& t = state.trials[id];
      const JournalEntry* e = g.journal.Find(id, r);
      if (e && e->key == t.key) {
        ApplyRungResult(t, e->result, r, f.rungs[r], top, problem, gen);
        ++g.summary.reused_from_journal;
        continue;
      }
      requests.push_back(RungRequest(t, r, options, state, dir));
    }
    const int rung_size = static_cast<int>(active.size());
    int rung_done = rung_size - static_cast<int>(requests.size());
    EvaluateJournaled(g.evaluator, g.journal, state, requests, r, options.stop, [&](Trial& t, const EvalResult& res) {
      ApplyRungResult(t, res, r, f.rungs[r], top, problem, gen);
      g.applied(t);
      ++rung_done;
      std::ostringstream line;
      line << "[gen " << gen << " rung " << r << "] " << rung_done << "/" << rung_size << "  #"
           << t.id << " " << Outcome(t, problem, res.seconds);
      g.log(line.str());
    });
    for (std::int64_t id : active)
      if (state.trials[id].rung < r) return false;  // interrupted: the journal keeps what finished

    std::vector<std::int64_t> ok;
    for (std::int64_t id : active) {
      CleanRungStates(dir, state.trials[id], r);
      if (state.trials[id].state != TrialState::kFailed) ok.push_back(id);
    }
    if (top) break;
    const int count = PromoteCount(static_cast<int>(ok.size()), f.eta);
    // The pool: this rung's results and the trials earlier generations stopped at this rung,
    // as far back as the pool reaches.
    std::vector<std::int64_t> pool = ok;
    if (f.promotion_pool != 1) {
      for (const Trial& t : state.trials)
        if (t.state == TrialState::kStopped && t.rung == r && InPool(t, gen, f.promotion_pool)) pool.push_back(t.id);
      std::sort(pool.begin(), pool.end());
    }
    auto select = [&] {
      return f.promotion_pool == 1 ? SelectPromotions(state, problem, ok, count, f.promotion)
                                   : SelectPromotionsFromPool(state, problem, r, pool, count, f.promotion);
    };
    // A cut the latencies' noise could move: measure those candidates again, together, first.
    for (int again = 0; again < kMaxRemeasures; ++again) {
      const std::vector<std::int64_t> near = DecidedWithinNoise(state, problem, pool, select);
      if (near.empty() || !MeasureAgain(g, near, "rung " + std::to_string(r) + " promotion within the noise")) break;
    }
    std::vector<std::int64_t> promoted = select();
    int from_earlier = 0;
    if (f.promotion_pool != 1) {
      for (std::int64_t id : promoted) {
        Trial& t = state.trials[id];
        if (t.state != TrialState::kStopped) continue;
        t.state = TrialState::kRunning;  // continued by this generation
        if (std::find(revived.begin(), revived.end(), id) == revived.end()) revived.push_back(id);
        ++from_earlier;
      }
    }
    for (std::int64_t id : ok) {
      if (std::binary_search(promoted.begin(), promoted.end(), id)) continue;
      state.trials[id].state = TrialState::kStopped;
      if (f.promotion_pool == 1) RemoveFile(RungStatePath(dir, id, r));
    }
    // A stopped trial's state is kept while the next generation's pool still reaches it.
    if (f.promotion_pool > 1)
      for (const Trial& t : state.trials)
        if (t.state == TrialState::kStopped && t.rung == r && !InPool(t, gen + 1, f.promotion_pool))
          RemoveFile(RungStatePath(dir, t.id, r));
    const StateDiskUse disk = RungStateDiskUse(dir);
    std::ostringstream line;
    line << "generation " << gen << " rung " << r << " (" << Fmt(f.rungs[r]) << " " << f.resource
         << "): " << ok.size() << " trained, " << rung_size - static_cast<int>(ok.size())
         << " failed, " << promoted.size() << " promoted to rung " << r + 1;
    if (f.promotion_pool != 1) line << " (" << from_earlier << " stopped in an earlier generation)";
    line << "; states " << disk.files << " files, " << FormatBytes(disk.bytes);
    g.log(line.str());
    active = promoted;
  }
  // The earlier generations' trials this one continued are told with it.
  for (std::int64_t id : revived) state.pending.push_back(id);
  return true;
}

}  // namespace paretonas::search
