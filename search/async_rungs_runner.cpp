#include "search/async_rungs_runner.h"

#include <cmath>
#include <deque>
#include <optional>
#include <set>
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

bool AsyncRungsRunner::Run(const GenerationContext& g) {
  const Problem& problem = g.problem;
  SearchState& state = g.state;
  const RunOptions& options = g.options;
  const FidelityOptions& f = options.fidelity;
  const std::string dir = BeginRungGeneration(state, options);
  if (!MeasureGenerationLatencies(g)) return false;
  const int gen = state.generation;
  const int top = f.top();
  const std::set<std::int64_t> in_gen(state.pending.begin(), state.pending.end());
  std::vector<std::vector<std::int64_t>> ok(f.rungs.size());        // finished fine at rung r
  std::vector<std::set<std::int64_t>> promoted(f.rungs.size());     // sent from rung r to r + 1
  std::set<std::int64_t> started;
  int running = 0;

  auto absorb = [&](const EvalResult& res, int r) {
    Trial& t = state.trials.at(res.trial_id);
    ApplyRungResult(t, res, r, f.rungs[r], r == top, problem, gen);
    CleanRungStates(dir, t, r);
    if (t.state != TrialState::kFailed && r < top) ok[r].push_back(t.id);
  };
  // Replay: the results of this generation, in arrival order; a result at rung r > 0 records the
  // promotion from r - 1 that asked for it.
  for (const Journal::Key& k : g.journal.order()) {
    if (!in_gen.count(k.first) || k.second < 0 || k.second > top) continue;
    const JournalEntry* e = g.journal.Find(k.first, k.second);
    const Trial& t = state.trials[k.first];
    if (!e || e->key != t.key || t.rung != k.second - 1 || t.state == TrialState::kFailed) continue;
    if (k.second > 0) promoted[k.second - 1].insert(t.id);
    started.insert(t.id);
    absorb(e->result, k.second);
    ++g.summary.reused_from_journal;
  }
  std::deque<std::int64_t> fresh;
  for (std::int64_t id : state.pending)
    if (!started.count(id)) fresh.push_back(id);

  // The next job: the due promotion of the highest rung, else a new candidate, else nothing.
  auto next = [&]() -> std::optional<EvalRequest> {
    const bool last_call = fresh.empty() && running == 0;
    for (int r = top - 1; r >= 0; --r) {
      const int n = static_cast<int>(ok[r].size());
      const int quota = last_call ? PromoteCount(n, f.eta)
                                  : static_cast<int>(std::floor(n / f.eta + 1e-9));
      if (static_cast<int>(promoted[r].size()) >= quota) continue;
      for (std::int64_t id : SelectPromotions(state, problem, ok[r], quota, f.promotion)) {
        if (promoted[r].count(id)) continue;
        promoted[r].insert(id);
        ++running;
        return RungRequest(state.trials[id], r + 1, options, state, dir);
      }
    }
    if (fresh.empty()) return std::nullopt;
    const std::int64_t id = fresh.front();
    fresh.pop_front();
    started.insert(id);
    ++running;
    return RungRequest(state.trials[id], 0, options, state, dir);
  };
  std::string io_error;
  auto on_done = [&](const EvalResult& res) {
    --running;
    if (!io_error.empty()) return;
    const Trial& t = state.trials.at(res.trial_id);
    const int r = t.rung + 1;  // a trial has one job at a time: the rung after its last
    EvalResult stored = res;
    stored.rung = r;
    if (!AppendToJournal(g.journal, t, stored, io_error)) return;
    absorb(stored, r);
    g.applied(state.trials.at(res.trial_id));
    g.log("[gen " + std::to_string(gen) + " rung " + std::to_string(r) + "] #" + std::to_string(t.id) +
        " " + Outcome(t, problem, res.seconds));
  };
  std::atomic<bool> cancel{false};
  const std::atomic<bool>* cancel_flag = options.stop ? options.stop : &cancel;
  g.evaluator.EvaluateAsReady(next, on_done, cancel_flag);
  if (!io_error.empty()) throw RunFileError(io_error);
  if (cancel_flag->load()) return false;  // the journal keeps what finished
  // Whatever was not promoted from its last rung stops there.
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    if (t.state != TrialState::kRunning) continue;
    t.state = TrialState::kStopped;
    RemoveFile(RungStatePath(dir, id, t.rung));
  }
  std::ostringstream line;
  line << "generation " << gen << " (async):";
  for (int r = 0; r <= top; ++r) {
    int reached = 0;
    for (std::int64_t id : state.pending) reached += state.trials[id].rung >= r;
    line << (r ? "," : "") << " rung " << r << " (" << Fmt(f.rungs[r]) << " " << f.resource
         << ") " << reached << " trained";
  }
  g.log(line.str());
  return true;
}

}  // namespace paretonas::search
