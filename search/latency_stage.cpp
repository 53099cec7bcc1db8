#include "search/latency_stage.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "search/generation_runner.h"
#include "search/journaled_batch.h"
#include "search/progress_text.h"

namespace paretonas::search {
namespace {

double Metric(const Trial& t, const std::string& m, double fallback = 0) {
  const auto it = t.metrics.find(m);
  return it == t.metrics.end() ? fallback : it->second;
}

int Remeasured(const Trial& t) { return static_cast<int>(Metric(t, "latency_remeasured")); }

/// "2.41 ms +-1.2%" (and " noisy" when flagged).
std::string Describe(const Trial& t) {
  const double ms = Metric(t, "latency_ms");
  std::ostringstream os;
  os << Fmt(ms) << " ms";
  if (ms > 0 && t.metrics.count("latency_ci_ms")) os << " +-" << Fmt(100 * Metric(t, "latency_ci_ms") / ms) << "%";
  if (Metric(t, "latency_noisy") > 0) os << " noisy";
  return os.str();
}

/// Copies a latency result's metrics into `t` (replacing the latency it had).
void ApplyLatency(Trial& t, const EvalResult& r) {
  if (!r.ok) return;  // the training request fails it for the same reason, with its own message
  for (const auto& [k, v] : r.metrics) t.metrics[k] = v;
}

bool Stop(const GenerationContext& g) { return g.options.stop && g.options.stop->load(); }

EvalRequest LatencyRequest(const Trial& t, int rung) {
  EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
  q.rung = rung;
  return q;
}

/// Evaluates `requests` with MeasureLatencies and journals each result under `rungs[i]` before
/// `apply` sees it. Throws RunFileError when the journal cannot be written.
void MeasureJournaled(const GenerationContext& g, const std::vector<EvalRequest>& requests,
                      const std::vector<int>& rungs,
                      const std::function<void(Trial&, const EvalResult&)>& apply) {
  if (requests.empty()) return;
  const std::vector<EvalResult> results = g.evaluator.MeasureLatencies(requests);
  std::string io_error;
  for (std::size_t i = 0; i < results.size() && i < requests.size(); ++i) {
    Trial& t = g.state.trials.at(requests[i].trial_id);
    EvalResult stored = results[i];
    stored.trial_id = t.id;
    stored.rung = rungs[i];
    if (!AppendToJournal(g.journal, t, stored, io_error)) throw RunFileError(io_error);
    apply(t, stored);
  }
}

}  // namespace

bool HasLatency(const Trial& t) { return t.metrics.count("latency_ms") > 0; }

void LatencyInterval(const Trial& t, double* low, double* high) {
  const double ms = Metric(t, "latency_ms", NAN);
  const double half = Metric(t, "latency_ci_ms");
  *low = ms - half;
  *high = ms + half;
}

std::vector<std::int64_t> StraddlingConstraint(const SearchState& state, const Problem& problem,
                                               const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> out;
  for (std::int64_t id : ids) {
    const Trial& t = state.trials[id];
    if (!HasLatency(t)) continue;
    double low = 0, high = 0;
    LatencyInterval(t, &low, &high);
    for (const Constraint& c : problem.constraints)
      if (c.metric == "latency_ms" && low < c.bound && c.bound < high) {
        out.push_back(id);
        break;
      }
  }
  return out;
}

std::vector<std::int64_t> DecidedWithinNoise(SearchState& state, const Problem& problem,
                                             const std::vector<std::int64_t>& candidates,
                                             const std::function<std::vector<std::int64_t>()>& select) {
  bool reads = false;
  for (const auto& o : problem.objectives) reads |= o.metric == "latency_ms";
  for (const auto& c : problem.constraints) reads |= c.metric == "latency_ms";
  std::vector<std::int64_t> out;
  if (!reads) return out;
  auto chosen = [&](std::int64_t id) {
    const auto picks = select();
    return std::find(picks.begin(), picks.end(), id) != picks.end();
  };
  for (std::int64_t id : candidates) {
    Trial& t = state.trials[id];
    if (!HasLatency(t) || Metric(t, "latency_ci_ms") <= 0 || Remeasured(t) >= kMaxRemeasures) continue;
    double low = 0, high = 0;
    LatencyInterval(t, &low, &high);
    const double median = t.metrics["latency_ms"];
    t.metrics["latency_ms"] = std::max(0.0, low);
    const bool fast = chosen(id);
    t.metrics["latency_ms"] = high;
    const bool slow = chosen(id);
    t.metrics["latency_ms"] = median;
    if (fast != slow) out.push_back(id);
  }
  return out;
}

bool MeasureAgain(const GenerationContext& g, const std::vector<std::int64_t>& ids, const std::string& why) {
  if (ids.empty() || !g.evaluator.CanMeasureLatencies()) return false;
  std::vector<EvalRequest> requests;
  std::vector<int> rungs;
  std::ostringstream line;
  line << "[gen " << g.state.generation << " latency] " << why << ": measured again together:";
  auto apply = [&](Trial& t, const EvalResult& r) {
    const std::string before = Describe(t);
    const int k = Remeasured(t);
    ApplyLatency(t, r);
    t.metrics["latency_remeasured"] = k + 1;
    line << " #" << t.id << " " << before << " -> " << Describe(t) << ";";
  };
  for (std::int64_t id : ids) {
    Trial& t = g.state.trials[id];
    const int rung = kRemeasureRung - Remeasured(t);
    const JournalEntry* e = g.journal.Find(id, rung);
    if (e && e->key == t.key) {
      apply(t, e->result);
      ++g.summary.reused_from_journal;
      continue;
    }
    requests.push_back(LatencyRequest(t, rung));
    rungs.push_back(rung);
  }
  MeasureJournaled(g, requests, rungs, apply);
  std::string text = line.str();
  if (!text.empty() && text.back() == ';') text.pop_back();
  g.log(text);
  return true;
}

bool MeasureGenerationLatencies(const GenerationContext& g) {
  if (!g.options.latency_stage || !g.evaluator.CanMeasureLatencies()) return true;
  SearchState& state = g.state;
  std::vector<std::int64_t> ids;  // the proposals to train, with their latency once this ends
  std::vector<EvalRequest> requests;
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    if (t.finished()) continue;
    ids.push_back(id);
    if (HasLatency(t)) continue;
    const JournalEntry* e = g.journal.Find(id, kLatencyRung);
    if (e && e->key == t.key) {
      ApplyLatency(t, e->result);
      ++g.summary.reused_from_journal;
      continue;
    }
    requests.push_back(LatencyRequest(t, kLatencyRung));
  }
  if (!requests.empty()) {
    if (Stop(g)) return false;
    int measured = 0, noisy = 0, failed = 0, discarded = 0, passes = 0;
    double seconds = 0, load = -1;
    std::vector<std::string> noisy_lines;
    MeasureJournaled(g, requests, std::vector<int>(requests.size(), kLatencyRung),
                     [&](Trial& t, const EvalResult& r) {
                       ApplyLatency(t, r);
                       seconds += r.seconds;
                       if (!r.ok) {
                         ++failed;
                         return;
                       }
                       ++measured;
                       discarded += static_cast<int>(Metric(t, "latency_discarded"));
                       passes += static_cast<int>(Metric(t, "latency_passes") + Metric(t, "latency_discarded"));
                       load = std::max(load, Metric(t, "latency_load", -1));
                       if (Metric(t, "latency_noisy") > 0) {
                         ++noisy;
                         noisy_lines.push_back("[gen " + std::to_string(state.generation) + " latency] #" +
                                               std::to_string(t.id) + " " + Describe(t) + " (" +
                                               Fmt(Metric(t, "latency_discarded")) + " of " +
                                               Fmt(Metric(t, "latency_passes") + Metric(t, "latency_discarded")) +
                                               " passes descheduled) " + t.key);
                       }
                     });
    for (const auto& l : noisy_lines) g.log(l);
    std::ostringstream line;
    line << "generation " << state.generation << " latency: " << measured << " measured together in "
         << Fmt(seconds) << " s";
    if (failed) line << " (" << failed << " refused by the evaluator: their training says why)";
    line << "; " << noisy << " noisy; " << discarded << " of " << passes << " timed passes discarded as descheduled";
    if (load >= 0) line << "; load average " << Fmt(load) << " per core";
    g.log(line.str());
  }
  // A constraint on latency decided within the noise: measure those again, together.
  for (;;) {
    std::vector<std::int64_t> again;
    for (std::int64_t id : StraddlingConstraint(state, g.problem, ids))
      if (Remeasured(state.trials[id]) < kMaxRemeasures) again.push_back(id);
    if (again.empty() || Stop(g)) break;
    std::string bounds;
    for (const Constraint& c : g.problem.constraints)
      if (c.metric == "latency_ms") bounds += (bounds.empty() ? "" : ", ") + c.ToString();
    if (!MeasureAgain(g, again, "interval across " + bounds)) break;
  }
  return !Stop(g);
}

}  // namespace paretonas::search
