#include "search/rungs.h"

#include <map>

#include "search/fidelity.h"
#include "search/inheritance.h"
#include "search/latency_stage.h"
#include "search/trial_files.h"
#include "search/trial_results.h"

namespace paretonas::search {

EvalRequest RungRequest(const Trial& t, int r, const RunOptions& o, const SearchState& state,
                        const std::string& dir) {
  const FidelityOptions& f = o.fidelity;
  EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
  if (o.inherit_weights) AddInheritance(q, t, state, dir);
  q.measure_latency = !HasLatency(t);
  q.rung = r;
  q.resource = f.rungs[r];
  q.max_resource = f.max_resource();
  q.resource_unit = f.resource;
  if (r > 0) q.state_in = RungStatePath(dir, t.id, r - 1);
  if (r < f.top()) q.state_out = RungStatePath(dir, t.id, r);
  return q;
}

void ResetGeneration(SearchState& state) {
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    t.state = TrialState::kPending;
    t.failure.clear();
    t.metrics.clear();
    t.curve.clear();
    t.rung = -1;
    t.seconds = 0;
  }
  for (Trial& t : state.trials) {
    if (t.generation >= state.generation) continue;
    const bool continued = !t.curve.empty() && t.curve.back().generation == state.generation;
    // kRunning without a result of this generation: promoted, not yet trained.
    if (!continued && t.state != TrialState::kRunning) continue;
    // What was measured once per architecture outside the curve (the latency stage's) stays.
    std::map<std::string, double> metrics;
    for (const auto& [k, v] : t.metrics)
      if (IsPerArchitectureMetric(k)) metrics[k] = v;
    while (!t.curve.empty() && t.curve.back().generation == state.generation) t.curve.pop_back();
    t.seconds = 0;
    for (const RungResult& c : t.curve) {  // as ApplyRungResult merged and summed them
      t.seconds += c.seconds;
      metrics = MergeRungMetrics(metrics, c.metrics);
    }
    t.metrics = metrics;
    t.rung = t.curve.empty() ? -1 : t.curve.back().rung;
    t.state = TrialState::kStopped;
    t.failure.clear();
  }
}

std::string BeginRungGeneration(SearchState& state, const RunOptions& options) {
  const std::string dir = StatesRunDir(options.run_dir);
  ResetGeneration(state);
  return dir;
}

}  // namespace paretonas::search
