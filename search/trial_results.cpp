#include "search/trial_results.h"

#include "search/fidelity.h"

namespace paretonas::search {

void ApplyResult(Trial& t, const EvalResult& r, const Problem& problem) {
  t.seconds = r.seconds;
  if (r.finished_unix > 0) t.finished_unix = r.finished_unix, t.started_unix = r.finished_unix - r.seconds;
  t.metrics = MergeRungMetrics(t.metrics, r.metrics);  // keeps the latency stage's measurement
  if (!r.ok) {
    t.state = TrialState::kFailed;
    t.failure = r.failure.empty() ? "the evaluator gave no reason" : r.failure;
    return;
  }
  const std::string problem_text = problem.CheckMetrics(t);
  if (!problem_text.empty()) {
    t.state = TrialState::kFailed;
    t.failure = problem_text;
    return;
  }
  t.state = TrialState::kComplete;
}

std::map<std::string, double> MergeRungMetrics(const std::map<std::string, double>& before,
                                               const std::map<std::string, double>& rung) {
  std::map<std::string, double> merged = rung;
  for (const auto& [k, v] : before)
    if (IsPerArchitectureMetric(k) && !merged.count(k)) merged[k] = v;
  return merged;
}

void ApplyRungResult(Trial& t, const EvalResult& r, int rung, double resource, bool top,
                     const Problem& problem, int generation) {
  if (r.finished_unix > 0) {
    if (t.curve.empty() || t.started_unix == 0) t.started_unix = r.finished_unix - r.seconds;
    t.finished_unix = r.finished_unix;
  }
  t.seconds += r.seconds;
  t.metrics = MergeRungMetrics(t.metrics, r.metrics);
  t.curve.push_back({rung, resource, r.metrics, r.seconds, generation});
  t.rung = rung;
  if (!r.ok) {
    t.state = TrialState::kFailed;
    t.failure = "rung " + std::to_string(rung) + ": " +
                (r.failure.empty() ? "the evaluator gave no reason" : r.failure);
    return;
  }
  const std::string problem_text = problem.CheckMetrics(t);
  if (!problem_text.empty()) {
    t.state = TrialState::kFailed;
    t.failure = "rung " + std::to_string(rung) + ": " + problem_text;
    return;
  }
  t.state = top ? TrialState::kComplete : TrialState::kRunning;
}

}  // namespace paretonas::search
