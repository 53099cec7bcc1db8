#include "search/journaled_batch.h"

#include <chrono>
#include <mutex>

namespace paretonas::search {

bool AppendToJournal(Journal& journal, const Trial& t, EvalResult& result, std::string& io_error) {
  if (result.finished_unix == 0)
    result.finished_unix =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  try {
    journal.Append({t.key, result});
    return true;
  } catch (const RunFileError& e) {
    io_error = e.what();
    return false;
  }
}

void EvaluateJournaled(BatchEvaluator& evaluator, Journal& journal, SearchState& state,
                       const std::vector<EvalRequest>& requests, int rung, const std::atomic<bool>* stop,
                       const std::function<void(Trial&, const EvalResult&)>& apply) {
  std::mutex mu;
  std::string io_error;
  auto on_done = [&](const EvalResult& res) {
    std::lock_guard<std::mutex> lock(mu);
    if (!io_error.empty()) return;
    Trial& t = state.trials.at(res.trial_id);
    EvalResult stored = res;
    stored.rung = rung;
    if (!AppendToJournal(journal, t, stored, io_error)) return;
    apply(t, stored);
  };
  std::atomic<bool> cancel{false};
  evaluator.EvaluateBatch(requests, on_done, stop ? stop : &cancel);
  if (!io_error.empty()) throw RunFileError(io_error);
}

}  // namespace paretonas::search
