#include "search/prescreen.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "search/fidelity.h"
#include "search/generation_runner.h"
#include "search/journaled_batch.h"
#include "search/progress_text.h"
#include "search/surrogate.h"

namespace paretonas::search {

std::string PrescreenOptions::Describe() const {
  std::string s;
  if (surrogate) {
    s = "the surrogates, features: architecture";
    for (const auto& f : features) s += ", " + f;
  }
  for (const auto& o : by) s += (s.empty() ? "" : " ") + o.metric + (o.maximize ? " max" : " min");
  return s;
}

std::vector<std::int64_t> SelectPrescreened(const SearchState& state, const Problem& problem,
                                            const PrescreenOptions& options,
                                            const std::vector<std::int64_t>& ids, int count) {
  std::vector<std::int64_t> keep;
  if (options.surrogate) {
    std::vector<space::Genotype> candidates;
    ExtraFeatures extra{options.features, {}};
    for (std::int64_t id : ids) {
      const Trial& t = state.trials[id];
      candidates.push_back(t.genotype);
      std::vector<double> row;
      for (const auto& m : options.features) {
        const auto it = t.metrics.find(m);
        row.push_back(it == t.metrics.end() ? NAN : it->second);
      }
      extra.candidates.push_back(row);
    }
    const std::uint64_t seed = state.seed * 1000003ULL + static_cast<std::uint64_t>(state.generation);
    for (std::size_t pick : SelectBySurrogate(state, problem, candidates, static_cast<std::size_t>(count),
                                              options.kappa, seed, &extra))
      keep.push_back(ids[pick]);
    std::sort(keep.begin(), keep.end());
    return keep;
  }
  Problem by = problem;
  by.objectives = options.by;
  by.constraints.clear();
  // The experiment's constraints take part where every result has their metric (static costs).
  for (const Constraint& c : problem.constraints)
    if (std::all_of(ids.begin(), ids.end(), [&](std::int64_t id) { return state.trials[id].metrics.count(c.metric) > 0; }))
      by.constraints.push_back(c);
  return SelectPromotions(state, by, ids, count);
}

bool PrescreenGeneration(const GenerationContext& g) {
  const Problem& problem = g.problem;
  SearchState& state = g.state;
  const RunOptions& options = g.options;
  const PrescreenOptions& p = options.prescreen;
  const int n = static_cast<int>(state.pending.size());
  if (n <= p.keep) return true;  // nothing to screen, or screened before a resume
  const int gen = state.generation;
  std::vector<EvalRequest> requests;
  std::set<std::int64_t> scored;
  auto apply = [&](Trial& t, const EvalResult& r) {
    t.metrics = r.metrics;
    t.seconds = r.seconds;
    if (!r.ok) {
      t.state = TrialState::kFailed;
      t.failure = "pre-screen: " + (r.failure.empty() ? std::string("the evaluator gave no reason") : r.failure);
    }
    scored.insert(t.id);
  };
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    const JournalEntry* e = g.journal.Find(id, kPrescreenRung);
    if (e && e->key == t.key) {
      apply(t, e->result);
      ++g.summary.reused_from_journal;
      continue;
    }
    EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
    q.rung = kPrescreenRung;
    requests.push_back(q);
  }
  int done = n - static_cast<int>(requests.size());
  EvaluateJournaled(g.evaluator, g.journal, state, requests, kPrescreenRung, options.stop, [&](Trial& t, const EvalResult& res) {
    apply(t, res);
    ++done;
    std::ostringstream line;
    line << "[gen " << gen << " pre-screen] " << done << "/" << n << "  #" << t.id << " ";
    if (t.state == TrialState::kFailed) {
      line << "FAILED: " << t.failure;
    } else {
      std::vector<std::string> shown = p.features;  // what ranks it
      for (const auto& o : p.by) shown.push_back(o.metric);
      for (const auto& m : shown) {
        auto it = t.metrics.find(m);
        line << m << "=" << (it == t.metrics.end() ? std::string("missing") : Fmt(it->second)) << " ";
      }
    }
    line << " " << t.key;
    g.log(line.str());
  });
  if (static_cast<int>(scored.size()) < n) return false;  // interrupted: the journal keeps what finished

  // A result without a ranking metric fails its trial, as a missing objective does.
  Problem by = problem;
  by.objectives = p.by;
  by.constraints.clear();
  std::vector<std::int64_t> ok;
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    if (t.state == TrialState::kFailed) continue;
    const std::string missing = by.CheckMetrics(t);
    if (!missing.empty()) {
      t.state = TrialState::kFailed;
      t.failure = "pre-screen: " + missing;
      continue;
    }
    ok.push_back(id);
  }
  const std::vector<std::int64_t> keep = SelectPrescreened(state, problem, p, ok, p.keep);
  std::vector<std::int64_t> next;
  double seconds = 0;
  for (std::int64_t id : state.pending) {
    Trial& t = state.trials[id];
    seconds += t.seconds;
    if (t.state == TrialState::kFailed) continue;  // finished: nothing left to evaluate
    if (std::binary_search(keep.begin(), keep.end(), id)) {
      t.metrics.clear();  // the training's result replaces them (the evaluator reports the proxies again)
      t.seconds = 0;
      next.push_back(id);
    } else {
      t.state = TrialState::kScreened;
    }
  }
  state.pending = next;
  SaveCheckpoint(options.run_dir + "/checkpoint.bin", state);
  std::ostringstream line;
  line << "generation " << gen << " pre-screen: " << n << " proposals, " << n - static_cast<int>(ok.size())
       << " failed, " << keep.size() << " passed to training, " << ok.size() - keep.size()
       << " screened out (by " << p.Describe() << "); " << Fmt(seconds) << " s of scoring";
  g.log(line.str());
  return true;
}

}  // namespace paretonas::search
