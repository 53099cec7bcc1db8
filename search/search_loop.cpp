#include "search/search_loop.h"

#include "space/text_io.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "search/pareto.h"
#include "search/run_files.h"
#include "search/surrogate.h"

namespace paretonas::search {
namespace {

using Clock = std::chrono::steady_clock;

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  char buf[32];
  const long s = std::lround(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof(buf), "%lds", s);
  return buf;
}

std::string Fmt(double v) {
  char buf[32];
  if (std::abs(v) >= 1e5 && std::floor(v) == v) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

}  // namespace

void ApplyResult(Trial& t, const EvalResult& r, const Problem& problem) {
  t.seconds = r.seconds;
  t.metrics = r.metrics;
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

namespace {

std::vector<std::int64_t> FeasibleComplete(const SearchState& s, const Problem& p) {
  std::vector<std::int64_t> ids;
  for (const Trial& t : s.trials)
    if (t.state == TrialState::kComplete && p.Violation(t) <= 0) ids.push_back(t.id);
  return ids;
}

void FixNormalisation(SearchState& state, const Problem& problem) {
  if (!state.hv_ideal.empty()) return;
  const auto ids = FeasibleComplete(state, problem);
  if (ids.empty()) return;
  const size_t m = problem.objectives.size();
  std::vector<double> lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  for (auto id : ids) {
    const Point p = problem.ObjectiveVector(state.trials[id]);
    for (size_t i = 0; i < m; ++i) {
      lo[i] = std::min(lo[i], p[i]);
      hi[i] = std::max(hi[i], p[i]);
    }
  }
  state.hv_ideal = lo;
  state.hv_reference.resize(m);
  for (size_t i = 0; i < m; ++i) {
    const double range = hi[i] - lo[i] > 0 ? hi[i] - lo[i] : std::max(std::abs(hi[i]), 1.0);
    state.hv_reference[i] = hi[i] + 0.1 * range;
  }
}

}  // namespace

std::string RunSummary::BriefReport() const {
  std::ostringstream os;
  os << message << " | " << evaluations << " evaluations (" << failed << " failed";
  if (stopped) os << ", " << stopped << " stopped below the top rung";
  if (screened) os << "; " << screened << " more proposals screened out by the pre-screen";
  if (reused_from_journal) os << ", " << reused_from_journal << " from the journal";
  os << "), " << generations << " generations, front " << front_size << ", hypervolume "
     << Fmt(hypervolume) << ", " << FormatDuration(seconds);
  return os.str();
}

std::vector<std::int64_t> ParetoFront(const SearchState& state, const Problem& problem) {
  const auto ids = FeasibleComplete(state, problem);
  std::vector<Point> pts;
  for (auto id : ids) pts.push_back(problem.ObjectiveVector(state.trials[id]));
  std::vector<std::int64_t> front;
  if (pts.empty()) return front;
  const auto fronts = NonDominatedSort(pts);  // NOTE: keep alive; do not range over [0] of a temporary
  for (int i : fronts[0]) front.push_back(ids[i]);
  return front;
}

double NormalizedHypervolume(const SearchState& state, const Problem& problem) {
  if (state.hv_ideal.empty()) return 0.0;
  const size_t m = problem.objectives.size();
  std::vector<Point> pts;
  for (auto id : ParetoFront(state, problem)) {
    Point p = problem.ObjectiveVector(state.trials[id]);
    for (size_t i = 0; i < m; ++i)
      p[i] = (p[i] - state.hv_ideal[i]) / (state.hv_reference[i] - state.hv_ideal[i]);
    pts.push_back(p);
  }
  return Hypervolume(pts, Point(m, 1.0));
}

std::string JsonString(const std::string& s) { return JsonQuote(s); }

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

void WriteTrialFiles(const std::string& run_dir, const SearchState& state, const Problem& problem) {
  std::ostringstream jsonl;
  std::set<std::string> metric_names;
  for (const Trial& t : state.trials) {
    if (!t.finished()) continue;
    for (const auto& [k, v] : t.metrics) metric_names.insert(k);
    jsonl << "{\"id\":" << t.id << ",\"generation\":" << t.generation
          << ",\"arch\":" << JsonString(t.key) << ",\"hash\":" << JsonString(t.hash)
          << ",\"status\":" << JsonString(TrialStateName(t.state)) << ",\"seed\":" << t.seed
          << ",\"parents\":[";
    for (size_t i = 0; i < t.parents.size(); ++i) jsonl << (i ? "," : "") << t.parents[i];
    jsonl << "],\"seconds\":" << JsonNumber(t.seconds);
    if (!t.failure.empty()) jsonl << ",\"failure\":" << JsonString(t.failure);
    for (const auto& [k, v] : t.metrics) jsonl << "," << JsonString(k) << ":" << JsonNumber(v);
    if (t.rung >= 0) {  // multi-fidelity: the rung reached and the learning curve
      jsonl << ",\"rung\":" << t.rung << ",\"curve\":[";
      for (size_t i = 0; i < t.curve.size(); ++i) {
        const RungResult& c = t.curve[i];
        jsonl << (i ? "," : "") << "{\"rung\":" << c.rung << ",\"resource\":"
              << JsonNumber(c.resource) << ",\"seconds\":" << JsonNumber(c.seconds);
        if (c.generation >= 0) jsonl << ",\"generation\":" << c.generation;
        for (const auto& [k, v] : c.metrics) jsonl << "," << JsonString(k) << ":" << JsonNumber(v);
        jsonl << "}";
      }
      jsonl << "]";
    }
    jsonl << "}\n";
  }
  WriteFileAtomic(run_dir + "/trials.jsonl", jsonl.str());

  std::ostringstream csv;
  csv << "id,arch,hash,generation";
  for (const auto& m : metric_names) csv << "," << m;
  csv << "\n";
  for (auto id : ParetoFront(state, problem)) {
    const Trial& t = state.trials[id];
    csv << t.id << ",\"" << t.key << "\"," << t.hash << "," << t.generation;
    for (const auto& m : metric_names) {
      auto it = t.metrics.find(m);
      csv << ",";
      if (it != t.metrics.end()) csv << JsonNumber(it->second);
    }
    csv << "\n";
  }
  WriteFileAtomic(run_dir + "/front.csv", csv.str());
}


std::string WeightsPath(const std::string& run_dir, std::int64_t id) {
  return run_dir + "/weights/" + std::to_string(id) + ".pt";
}

std::string RungStatePath(const std::string& run_dir, std::int64_t id, int rung) {
  return run_dir + "/states/" + std::to_string(id) + ".r" + std::to_string(rung) + ".pt";
}

StateDiskUse RungStateDiskUse(const std::string& run_dir) {
  StateDiskUse use;
  const std::string dir = run_dir + "/states";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return use;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      ++use.files;
      use.bytes += static_cast<std::int64_t>(st.st_size);
    }
  }
  ::closedir(d);
  return use;
}

namespace {

std::string FormatBytes(std::int64_t b) {
  char buf[32];
  if (b >= (1 << 20)) std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(b) / (1 << 20));
  else std::snprintf(buf, sizeof(buf), "%.1f kB", static_cast<double>(b) / 1024);
  return buf;
}

/// A trial's metrics after a rung: the rung's, with those measured once per architecture carried
/// over from `before` where the rung did not report them.
std::map<std::string, double> MergeRungMetrics(const std::map<std::string, double>& before,
                                               const std::map<std::string, double>& rung) {
  std::map<std::string, double> merged = rung;
  for (const auto& [k, v] : before)
    if (IsPerArchitectureMetric(k) && !merged.count(k)) merged[k] = v;
  return merged;
}

/// Records rung `rung`'s result in `t` (its curve, its metrics, its state).
void ApplyRungResult(Trial& t, const EvalResult& r, int rung, double resource, bool top,
                     const Problem& problem, int generation) {
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

/// `run_dir` as an absolute path, for the evaluators that open state files (MPI worker ranks
/// may run in another working directory); creates its states and weights folders.
std::string StatesRunDir(const std::string& run_dir) {
  std::string dir = run_dir;
  if (char* real = ::realpath(dir.c_str(), nullptr)) {
    dir = real;
    std::free(real);
  }
  ::mkdir((dir + "/states").c_str(), 0755);
  ::mkdir((dir + "/weights").c_str(), 0755);
  return dir;
}

/// Weight inheritance for `q` (a request of `t`): where its trained weights go, and the complete
/// parents whose weights it starts from. `dir` as StatesRunDir gives it.
void AddInheritance(EvalRequest& q, const Trial& t, const SearchState& state, const std::string& dir) {
  q.weights_out = WeightsPath(dir, t.id);
  for (std::int64_t p : t.parents) {
    const Trial& parent = state.trials.at(p);
    // A twin (the same network under another key) would hand over its whole training.
    if (parent.state != TrialState::kComplete || parent.hash == t.hash) continue;
    const std::string path = WeightsPath(dir, p);
    if (::access(path.c_str(), R_OK) != 0) continue;
    q.parent_genotypes.push_back(parent.genotype);
    q.parent_weights.push_back(path);
  }
}

/// A generation not yet told is rebuilt from the journal: the checkpoint of an interrupted
/// process may hold it half-way. That includes earlier generations' stopped trials this one
/// promoted from a pool: they go back to how their own generation left them.
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
    std::map<std::string, double> metrics;
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

/// Whether `t` (stopped) is in generation `gen`'s promotion pool of `pool` generations (0: all):
/// the generation that stopped it is one of the last `pool`, `gen` included.
bool InPool(const Trial& t, int gen, int pool) {
  if (pool == 0) return true;
  const int stopped_in = t.curve.empty() || t.curve.back().generation < 0 ? t.generation : t.curve.back().generation;
  return stopped_in > gen - pool;
}

/// The request that trains `t` to rung `r`, continuing from rung r - 1's state.
EvalRequest RungRequest(const Trial& t, int r, const RunOptions& o, const SearchState& state,
                        const std::string& dir) {
  const FidelityOptions& f = o.fidelity;
  EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
  if (o.inherit_weights) AddInheritance(q, t, state, dir);
  q.rung = r;
  q.resource = f.rungs[r];
  q.max_resource = f.max_resource();
  q.resource_unit = f.resource;
  if (r > 0) q.state_in = RungStatePath(dir, t.id, r - 1);
  if (r < f.top()) q.state_out = RungStatePath(dir, t.id, r);
  return q;
}

void RemoveFile(const std::string& path) { ::unlink(path.c_str()); }

/// After `t`'s result at rung `r`: rung r - 1's state is replaced by rung r's, and a failed
/// trial needs neither.
void CleanRungStates(const std::string& dir, const Trial& t, int r) {
  if (r > 0) RemoveFile(RungStatePath(dir, t.id, r - 1));
  if (t.state == TrialState::kFailed) RemoveFile(RungStatePath(dir, t.id, r));
}

/// Appends `result` to the journal under `t`'s key. On failure records the message in
/// `io_error` (the caller throws it when its batch has ended) and returns false.
bool AppendToJournal(Journal& journal, const Trial& t, const EvalResult& result, std::string& io_error) {
  try {
    journal.Append({t.key, result});
    return true;
  } catch (const RunFileError& e) {
    io_error = e.what();
    return false;
  }
}

/// Evaluates `requests` as one batch: each result, stored under journal rung `rung`, is journaled
/// (fsynced) before `apply` sees it; `apply` calls are serialised. Throws RunFileError when the
/// journal cannot be written (after the batch has ended).
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

/// The end of a progress line: the objectives (or the failure), the seconds and the key.
std::string Outcome(const Trial& t, const Problem& problem, double seconds) {
  std::ostringstream line;
  if (t.state == TrialState::kFailed) {
    line << "FAILED: " << t.failure << " ";
  } else {
    for (const auto& o : problem.objectives) line << o.metric << "=" << Fmt(t.metrics.at(o.metric)) << " ";
  }
  line << "(" << Fmt(seconds) << "s) " << t.key;
  return line.str();
}

}  // namespace


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

/// The pre-screen of the pending generation (see PrescreenOptions): proxies and static costs of
/// every proposal (replayed from the journal where it has them), then the best `keep` stay
/// pending and the others become kScreened. Returns false when interrupted before every
/// proposal was scored.
bool PrescreenGeneration(const Problem& problem, SearchState& state, Journal& journal,
                         BatchEvaluator& evaluator, const RunOptions& options,
                         const std::function<void(const std::string&)>& log, RunSummary& summary) {
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
    const JournalEntry* e = journal.Find(id, kPrescreenRung);
    if (e && e->key == t.key) {
      apply(t, e->result);
      ++summary.reused_from_journal;
      continue;
    }
    EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
    q.rung = kPrescreenRung;
    requests.push_back(q);
  }
  int done = n - static_cast<int>(requests.size());
  EvaluateJournaled(evaluator, journal, state, requests, kPrescreenRung, options.stop, [&](Trial& t, const EvalResult& res) {
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
    log(line.str());
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
  log(line.str());
  return true;
}

/// Successive halving over the pending generation (see FidelityOptions). Replays every rung
/// result the journal holds, so that a resumed generation promotes exactly as an uninterrupted
/// one. Returns false when interrupted before the top rung was done.
bool RunGenerationRungs(const Problem& problem, SearchState& state, Journal& journal,
                        BatchEvaluator& evaluator, const RunOptions& options,
                        const std::function<void(const std::string&)>& log, RunSummary& summary) {
  const FidelityOptions& f = options.fidelity;
  const std::string dir = StatesRunDir(options.run_dir);
  ResetGeneration(state);
  std::vector<std::int64_t> active = state.pending;
  std::vector<std::int64_t> revived;  // stopped in an earlier generation, promoted by this one
  const int gen = state.generation;
  for (int r = 0; r <= f.top(); ++r) {
    const bool top = r == f.top();
    std::vector<EvalRequest> requests;
    for (std::int64_t id : active) {
      Trial& t = state.trials[id];
      const JournalEntry* e = journal.Find(id, r);
      if (e && e->key == t.key) {
        ApplyRungResult(t, e->result, r, f.rungs[r], top, problem, gen);
        ++summary.reused_from_journal;
        continue;
      }
      requests.push_back(RungRequest(t, r, options, state, dir));
    }
    const int rung_size = static_cast<int>(active.size());
    int rung_done = rung_size - static_cast<int>(requests.size());
    EvaluateJournaled(evaluator, journal, state, requests, r, options.stop, [&](Trial& t, const EvalResult& res) {
      ApplyRungResult(t, res, r, f.rungs[r], top, problem, gen);
      ++rung_done;
      std::ostringstream line;
      line << "[gen " << gen << " rung " << r << "] " << rung_done << "/" << rung_size << "  #"
           << t.id << " " << Outcome(t, problem, res.seconds);
      log(line.str());
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
    std::vector<std::int64_t> promoted;
    int from_earlier = 0;
    if (f.promotion_pool == 1) {
      promoted = SelectPromotions(state, problem, ok, count, f.promotion);
    } else {
      // The pool: this rung's results and the trials earlier generations stopped at this rung,
      // as far back as the pool reaches.
      std::vector<std::int64_t> pool = ok;
      for (const Trial& t : state.trials)
        if (t.state == TrialState::kStopped && t.rung == r && InPool(t, gen, f.promotion_pool)) pool.push_back(t.id);
      std::sort(pool.begin(), pool.end());
      promoted = SelectPromotionsFromPool(state, problem, r, pool, count, f.promotion);
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
    log(line.str());
    active = promoted;
  }
  // The earlier generations' trials this one continued are told with it.
  for (std::int64_t id : revived) state.pending.push_back(id);
  return true;
}


/// Asynchronous successive halving over the pending generation (see FidelityOptions). The
/// generation in progress is rebuilt from the journal in the order its results arrived, so that
/// with one worker a resume takes the same decisions as an uninterrupted run.
bool RunGenerationAsync(const Problem& problem, SearchState& state, Journal& journal,
                        BatchEvaluator& evaluator, const RunOptions& options,
                        const std::function<void(const std::string&)>& log, RunSummary& summary) {
  const FidelityOptions& f = options.fidelity;
  const std::string dir = StatesRunDir(options.run_dir);
  ResetGeneration(state);
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
  for (const Journal::Key& k : journal.order()) {
    if (!in_gen.count(k.first) || k.second < 0 || k.second > top) continue;
    const JournalEntry* e = journal.Find(k.first, k.second);
    const Trial& t = state.trials[k.first];
    if (!e || e->key != t.key || t.rung != k.second - 1 || t.state == TrialState::kFailed) continue;
    if (k.second > 0) promoted[k.second - 1].insert(t.id);
    started.insert(t.id);
    absorb(e->result, k.second);
    ++summary.reused_from_journal;
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
    if (!AppendToJournal(journal, t, stored, io_error)) return;
    absorb(stored, r);
    log("[gen " + std::to_string(gen) + " rung " + std::to_string(r) + "] #" + std::to_string(t.id) +
        " " + Outcome(t, problem, res.seconds));
  };
  std::atomic<bool> cancel{false};
  const std::atomic<bool>* cancel_flag = options.stop ? options.stop : &cancel;
  evaluator.EvaluateAsReady(next, on_done, cancel_flag);
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
  log(line.str());
  return true;
}

RunSummary RunSearch(const Problem& problem, const Strategy& strategy, SearchState& state,
                     BatchEvaluator& evaluator, const RunOptions& options) {
  const auto start = Clock::now();
  std::ofstream log_file(options.run_dir + "/log.txt", std::ios::app);
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
    log_file << line << "\n";
    log_file.flush();
  };
  const std::string checkpoint = options.run_dir + "/checkpoint.bin";
  Journal journal(options.run_dir + "/journal.bin");
  if (!journal.warning().empty()) log("warning: " + journal.warning());

  RunSummary summary;
  std::int64_t evals_this_process = 0;
  auto stop_requested = [&] { return options.stop && options.stop->load(); };

  while (true) {
    if (state.pending.empty()) {
      if (options.max_generations > 0 && state.generation >= options.max_generations) {
        summary.termination = RunSummary::Termination::kMaxGenerations;
        summary.message = "reached " + std::to_string(options.max_generations) + " generations";
        break;
      }
      if (options.max_evals > 0 && state.NumFinished() >= options.max_evals) {
        summary.termination = RunSummary::Termination::kMaxEvals;
        summary.message = "reached " + std::to_string(options.max_evals) + " evaluations";
        break;
      }
      // Always a whole generation, even when the budget ends inside it: its unevaluated rest
      // stays pending, so that `resume --max-evals` with more continues exactly the search a
      // larger budget would have run.
      const int made = strategy.Ask(state, problem, 1 << 30);
      if (made == 0) {
        summary.termination = RunSummary::Termination::kSpaceExhausted;
        summary.message = "the space has no unevaluated architecture left";
        break;
      }
      SaveCheckpoint(checkpoint, state);
    }
    if (stop_requested()) break;
    if (options.prescreen.enabled() &&
        !PrescreenGeneration(problem, state, journal, evaluator, options, log, summary))
      break;

    if (options.fidelity.enabled()) {
      const bool done = options.fidelity.mode == "async"
                            ? RunGenerationAsync(problem, state, journal, evaluator, options, log, summary)
                            : RunGenerationRungs(problem, state, journal, evaluator, options, log, summary);
      if (!done) break;
    } else {
      // Results already durable (an earlier, interrupted process) are reused, not re-run.
      std::vector<EvalRequest> requests;
      const std::string weights_dir = options.inherit_weights ? StatesRunDir(options.run_dir) : "";
      for (std::int64_t id : state.pending) {
        Trial& t = state.trials[id];
        if (t.finished()) continue;
        const JournalEntry* entry = journal.Find(id, -1);
        if (entry && entry->key == t.key) {
          ApplyResult(t, entry->result, problem);
          ++summary.reused_from_journal;
          continue;
        }
        EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
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
      EvaluateJournaled(evaluator, journal, state, requests, -1, options.stop, [&](Trial& t, const EvalResult& r) {
        ApplyResult(t, r, problem);
        ++gen_done;
        ++evals_this_process;
        const auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const std::int64_t total = options.max_evals;
        const std::int64_t finished = state.NumFinished();
        std::ostringstream line;
        line << "[gen " << state.generation << "] " << gen_done << "/" << gen_size << "  total "
             << finished;
        if (total > 0) {
          line << "/" << total << "  eta "
               << FormatDuration(elapsed / std::max<std::int64_t>(1, evals_this_process) *
                                 static_cast<double>(total - finished));
        }
        line << "  #" << t.id << " " << Outcome(t, problem, r.seconds);
        log(line.str());
      });

      const bool complete = std::all_of(state.pending.begin(), state.pending.end(),
                                        [&](std::int64_t id) { return state.trials[id].finished(); });
      if (!complete) {
        if (budget_cut && !stop_requested()) {
          summary.termination = RunSummary::Termination::kMaxEvals;
          summary.message = "reached " + std::to_string(options.max_evals) + " evaluations (" +
                            std::to_string(std::count_if(state.pending.begin(), state.pending.end(),
                                                         [&](std::int64_t id) { return !state.trials[id].finished(); })) +
                            " of generation " + std::to_string(state.generation) +
                            " left pending: `resume --max-evals` with more continues it)";
          SaveCheckpoint(checkpoint, state);
        }
        break;  // interrupted or out of budget mid-generation; the journal keeps what finished
      }
    }

    const int finished_generation = state.generation;  // Tell moves on to the next one
    strategy.Tell(state, problem);
    FixNormalisation(state, problem);
    const double hv = NormalizedHypervolume(state, problem);
    state.hv_history.push_back(hv);
    state.hv_evals.push_back(state.NumFinished());
    WriteTrialFiles(options.run_dir, state, problem);
    SaveCheckpoint(checkpoint, state);
    std::ostringstream line;
    // Generations are numbered from 0, as in the "[gen N]" lines of their evaluations.
    line << "generation " << finished_generation << " done: " << state.NumFinished()
         << " evaluations, front " << ParetoFront(state, problem).size() << ", hypervolume "
         << Fmt(hv);
    if (strategy.options().remeasure_front) {  // trials that measure their parent's network again
      int second = 0;
      for (const Trial& t : state.trials)
        if (t.generation == finished_generation && t.parents.size() == 1 &&
            problem.space->CanonicalHash(t.genotype, space::EdgeSet::kAll) ==
                problem.space->CanonicalHash(state.trials[t.parents[0]].genotype, space::EdgeSet::kAll))
          ++second;
      line << "; second measurements in this generation: " << second;
    }
    log(line.str());
  }
  if (stop_requested() && summary.message.empty()) {
    summary.termination = RunSummary::Termination::kInterrupted;
    summary.message = "interrupted; finished evaluations are saved";
    SaveCheckpoint(checkpoint, state);
  }
  WriteTrialFiles(options.run_dir, state, problem);
  summary.evaluations = state.NumFinished();
  for (const Trial& t : state.trials) {
    summary.failed += t.state == TrialState::kFailed;
    summary.stopped += t.state == TrialState::kStopped;
    summary.screened += t.state == TrialState::kScreened;
  }
  summary.generations = state.generation;
  summary.front_size = ParetoFront(state, problem).size();
  summary.hypervolume = state.hv_history.empty() ? 0.0 : state.hv_history.back();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace paretonas::search
