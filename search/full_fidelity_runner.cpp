#include "search/full_fidelity_runner.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "search/inheritance.h"
#include "search/journaled_batch.h"
#include "search/latency_stage.h"
#include "search/progress_text.h"
#include "search/trial_files.h"
#include "search/trial_results.h"

namespace paretonas::search {

bool FullFidelityRunner::Run(const GenerationContext& g) {
  const Problem& problem = g.problem;
  SearchState& state = g.state;
  const RunOptions& options = g.options;
  RunSummary& summary = g.summary;
  auto stop_requested = [&] { return options.stop && options.stop->load(); };
  if (!MeasureGenerationLatencies(g)) return false;
  // Results already durable (an earlier, interrupted process) are reused, not re-run.
  std::vector<EvalRequest> requests;
  const std::string weights_dir = options.inherit_weights ? StatesRunDir(options.run_dir) : "";
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    if (t.finished()) continue;
    const JournalEntry* entry = g.journal.Find(id, -1);
    if (entry && entry->key == t.key) {
      ApplyResult(t, entry->result, problem);
      ++summary.reused_from_journal;
      continue;
    }
    EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
    q.measure_latency = !HasLatency(t);
    if (options.inherit_weights) AddInheritance(q, t, state, weights_dir);
    requests.push_back(q);
  }
  const int gen_size = static_cast<int>(state.pending.size());
  int gen_done = gen_size - static_cast<int>(requests.size());  // finished before this batch
  const bool budget_cut =
      options.max_evals > 0 &&
      state.NumFinished() + static_cast<std::int64_t>(requests.size()) > options.max_evals;
  if (budget_cut)
    requests.resize(static_cast<std::size_t>(std::max<std::int64_t>(0, options.max_evals - state.NumFinished())));
  EvaluateJournaled(g.evaluator, g.journal, state, requests, -1, options.stop, [&](Trial& t, const EvalResult& r) {
    ApplyResult(t, r, problem);
    g.applied(t);
    ++gen_done;
    ++evals_this_process_;
    const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - g.started).count();
    const std::int64_t total = options.max_evals;
    const std::int64_t finished = state.NumFinished();
    std::ostringstream line;
    line << "[gen " << state.generation << "] " << gen_done << "/" << gen_size << "  total "
         << finished;
    if (total > 0) {
      line << "/" << total << "  eta "
           << FormatDuration(elapsed / std::max<std::int64_t>(1, evals_this_process_) *
                             static_cast<double>(total - finished));
    }
    line << "  #" << t.id << " " << Outcome(t, problem, r.seconds);
    g.log(line.str());
  });

  const bool complete = std::all_of(state.pending.begin(), state.pending.end(),
                                    [&](std::int64_t id) { return state.trials[id].finished(); });
  if (complete) return true;
  if (budget_cut && !stop_requested()) {
    summary.termination = RunSummary::Termination::kMaxEvals;
    summary.message = "reached " + std::to_string(options.max_evals) + " evaluations (" +
                      std::to_string(std::count_if(state.pending.begin(), state.pending.end(),
                                                   [&](std::int64_t id) { return !state.trials[id].finished(); })) +
                      " of generation " + std::to_string(state.generation) +
                      " left pending: `resume --max-evals` with more continues it)";
    SaveCheckpoint(options.run_dir + "/checkpoint.bin", state);
  }
  return false;  // interrupted or out of budget mid-generation; the journal keeps what finished
}

}  // namespace paretonas::search
