// `paretonas status RUN`: progress and the current front, readable while a search runs.
#include <iomanip>
#include <set>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "evaluator/latency_estimate.h"
#include "experiments/cli_common.h"
#include "experiments/live_run.h"
#include "experiments/run_directory.h"
#include "search/front.h"
#include "search/progress_text.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "search/trial_results.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct StatusOptions {
  std::string run_dir;
  std::vector<std::string> run_dirs;  // as given; several: each in turn, then compared in one box
  bool journal = false;
};

/// `status --journal`: every record of the journal as one JSON line, in the order they were
/// written (what resume replays).
int PrintJournal(const RunPaths& paths) {
  const auto journal = search::Journal::Read(paths.journal());
  for (const auto& e : journal.entries) {
    const search::EvalResult& r = e.result;
    std::cout << "{\"trial\":" << r.trial_id << ",\"rung\":" << r.rung << ",\"arch\":" << search::JsonString(e.key)
              << ",\"ok\":" << (r.ok ? "true" : "false") << ",\"seconds\":" << search::JsonNumber(r.seconds);
    if (!r.failure.empty()) std::cout << ",\"failure\":" << search::JsonString(r.failure);
    std::cout << ",\"metrics\":{";
    bool first = true;
    for (const auto& [k, v] : r.metrics) {
      std::cout << (first ? "" : ",") << search::JsonString(k) << ":" << search::JsonNumber(v);
      first = false;
    }
    std::cout << "}}\n";
  }
  if (!journal.error.empty()) std::cerr << "paretonas: warning: " << journal.error << "\n";
  return kExitOk;
}

/// The latency line of `status`: how many of the run's measured latencies are noisy, the
/// descheduled passes and the load while they were taken (the last measurement of each trial in
/// the journal); "" when nothing was measured with its error.
std::string LatencyLine(const search::Journal::ReadResult& journal, double target) {
  std::map<std::int64_t, std::map<std::string, double>> last;
  for (const auto& e : journal.entries)
    if (e.result.ok && e.result.metrics.count("latency_passes")) last[e.result.trial_id] = e.result.metrics;
  if (last.empty()) return "";
  int noisy = 0, remeasured = 0, int8 = 0, int8_noisy = 0;
  std::map<int, int> by_reason;  // NoisyReason bit -> latencies (fp32 and int8) it made noisy
  double discarded = 0, passes = 0, load = -1, slowdown = 1, runnable = -1;
  for (const auto& [id, m] : last) {
    auto get = [&](const char* k, double d = 0) {
      const auto it = m.find(k);
      return it == m.end() ? d : it->second;
    };
    noisy += get("latency_noisy") > 0;
    for (const char* pre : {"", "int8_"}) {
      const int r = evaluator::NoisyReasonsOf(m, pre, target);
      for (int bit = 1; bit <= evaluator::kNoisyNoCleanPass; bit <<= 1)
        if (r & bit) ++by_reason[bit];
    }
    if (m.count("int8_latency_passes")) {  // the int8 model, timed in the same rounds (deploy.precision: int8)
      ++int8;
      int8_noisy += get("int8_latency_noisy") > 0;
    }
    discarded += get("latency_discarded");
    passes += get("latency_passes") + get("latency_discarded");
    load = std::max(load, get("latency_load", -1));
    slowdown = std::max(slowdown, get("latency_slowdown", 1));
    runnable = std::max(runnable, get("latency_runnable", -1));
  }
  for (const auto& e : journal.entries) remeasured += e.result.rung <= search::kRemeasureRung;
  std::ostringstream os;
  os << noisy << " of " << last.size() << " latencies noisy";
  if (!by_reason.empty()) {  // each noisy latency by its real reason(s)
    os << " (";
    const char* sep = "";
    for (const auto& [bit, n] : by_reason) {
      os << sep << n << " " << evaluator::NoisyReasonNames(bit);
      sep = ", ";
    }
    os << ": oversubscribed = more threads ready to run than cores + 1; slowdown = the machine over "
       << 100 * evaluator::kSlowdownTolerance << "% slower than its best; not confirmed = its two fastest "
       << "rounds differ by more than +-" << 100 * target << "%; no undisturbed pass = every pass descheduled)";
  }
  os << "; "
     << (int8 > 0 ? std::to_string(int8_noisy) + " of " + std::to_string(int8) + " int8 latencies noisy; " : "")
     << static_cast<long long>(discarded) << " of " << static_cast<long long>(passes)
     << " timed passes discarded as descheduled";
  if (slowdown > 1.005) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "; the machine ran up to %.2fx slower than its best", slowdown);
    os << buf;
  }
  if (runnable >= 0) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "; up to %.0f threads ready to run", runnable);
    os << buf;
  }
  if (load >= 0) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "; load average up to %.1f per core (%ld cores)", load, ::sysconf(_SC_NPROCESSORS_ONLN));
    os << buf;
  }
  if (remeasured) os << "; " << remeasured << " measured again where a decision depended on them";
  return os.str();
}

std::string Minutes(double seconds) {
  char buf[32];
  if (seconds < 90) std::snprintf(buf, sizeof(buf), "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(buf, sizeof(buf), "%.0f min", seconds / 60);
  else std::snprintf(buf, sizeof(buf), "%.1f h", seconds / 3600);
  return buf;
}

/// Prints one run's status. `loaded`, when given, receives the run read for it (left empty when
/// the run has no checkpoint yet), so that `status A B` compares the runs without reading them again.
int RunStatus(const StatusOptions& o, LoadedRun* loaded = nullptr) {
  const RunPaths paths(o.run_dir);
  RefuseFileAsRunDirectory(paths.dir);
  if (o.journal) return PrintJournal(paths);
  const long holder = LockHolder(paths.dir);
  if (::access(paths.config().c_str(), F_OK) != 0) {
    if (holder != 0) {
      std::cout << paths.dir << ": a search is starting (pid " << holder << "); no config written yet\n";
      return kExitOk;
    }
    throw InputError(paths.dir + ": nothing has run here (no config.yaml): start a search with "
                     "`paretonas search --config FILE --run-dir " + paths.dir + "`");
  }
  if (::access(paths.checkpoint().c_str(), F_OK) != 0) {
    const std::string name = LoadRunConfig(o.run_dir).name;
    if (holder != 0)
      std::cout << name << ": running (pid " << holder << "), loading data or evaluating the first "
                << "generation; no checkpoint yet\n";
    else
      std::cout << name << ": not running, and it stopped before its first checkpoint: nothing to "
                << "resume; start it again with `paretonas search`\n";
    return kExitOk;
  }
  LoadedRun run = LoadRun(o.run_dir);
  const ExperimentConfig& config = run.config;
  const search::SearchState& state = run.state;
  const Session* session = run.session.get();
  const auto journal = search::Journal::Read(paths.journal());
  // Evaluations of the current generation finished since the last checkpoint are in the journal.
  const PendingCounts pending = CountPending(state, journal);
  const std::int64_t unfinished = pending.to_run;
  // (Multi-fidelity: rung results are not evaluations until the trial stops or completes; the
  // rung line below shows them.)
  const std::int64_t done = state.NumFinished() + pending.journaled;
  int failed = 0, stopped = 0, screened = 0;
  std::vector<double> seconds;
  const std::set<std::int64_t> pending_ids(state.pending.begin(), state.pending.end());
  for (const auto& t : state.trials) {
    failed += t.state == search::TrialState::kFailed;
    stopped += t.state == search::TrialState::kStopped;
    screened += t.state == search::TrialState::kScreened;
    if (t.finished() && t.seconds > 0 && t.state != search::TrialState::kScreened) seconds.push_back(t.seconds);
  }
  std::cout << config.name << " (" << paths.dir << ")\n  state:       ";
  const RunCondition condition = ReadRunCondition(paths);
  if (condition.kind == "running") {
    std::cout << condition.text;
    // The generation in progress counts from its journaled results (rungs too), so the estimate
    // moves with every result, not only at checkpoints.
    double journaled_seconds = 0;
    for (const auto& e : journal.entries)
      if (pending_ids.count(e.result.trial_id) && e.result.rung >= -1) {
        journaled_seconds += e.result.seconds;
        if (e.result.rung == -1 && e.result.seconds > 0) seconds.push_back(e.result.seconds);
      }
    const int workers = std::max(1, config.ResolvedWorkers());
    if (config.max_evals > 0 && !seconds.empty() && done < config.max_evals && !config.fidelity.enabled()) {
      std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
      const double median = seconds[seconds.size() / 2];
      std::cout << "; about " << Minutes(median * static_cast<double>(config.max_evals - done) / workers)
                << " left (" << config.max_evals - done << " evaluations at the median "
                << Minutes(median) << " each, " << workers << " at a time)";
    } else if (config.max_evals > 0 && config.fidelity.enabled() && state.generation > 0 && !state.pending.empty()) {
      // Multi-fidelity: a generation's evaluation seconds (every rung of its trials), the
      // generations left, less what the one in progress has done.
      double told = 0;
      for (const auto& t : state.trials)
        if (t.finished() && t.state != search::TrialState::kScreened) told += t.seconds;
      const double per_generation = told / state.generation / workers;
      const double gen_size = static_cast<double>(state.pending.size());
      const double left_gens = std::ceil(static_cast<double>(config.max_evals - state.NumFinished()) / gen_size);
      const double left = std::max(0.0, per_generation * left_gens - journaled_seconds / workers);
      std::cout << "; about " << Minutes(left) << " left (" << static_cast<long long>(left_gens)
                << " generation(s) at " << Minutes(per_generation) << " each, the one in progress "
                << Minutes(journaled_seconds / workers) << " in)";
    }
  } else {
    std::cout << condition.text;
  }
  std::cout << "\n  strategy:    " << state.strategy << ", " << state.generation << " generation(s) done";
  if (state.generation > 0)
    std::cout << (state.generation == 1 ? " (generation 0)" : " (generations 0 to " + std::to_string(state.generation - 1) + ")");
  if (!state.pending.empty()) std::cout << "; generation " << state.generation << " in progress";
  std::cout << "\n  evaluations: " << done;
  if (config.max_evals > 0) std::cout << " of a budget of " << config.max_evals;
  std::cout << " (" << failed << " failed";
  if (config.fidelity.enabled()) std::cout << ", " << stopped << " stopped below the top rung";
  std::cout << ")";
  if (config.budget_seconds > 0)
    std::cout << "\n  time:        " << Minutes(state.search_seconds) << " of a budget of "
              << Minutes(config.budget_seconds) << " searched (as of the last checkpoint; a generation "
              << "that has started ends after the budget)";
  if (config.prescreen.enabled())
    std::cout << "\n  pre-screen:  " << screened << " proposal(s) screened out without training (keep "
              << config.prescreen.keep << " a generation)";
  if (config.fidelity.enabled()) {
    // Every rung result is in the journal: how many trials reached each rung, and where the
    // generation in progress stands (its promotions are decided when a rung is complete).
    const auto& f = config.fidelity;
    std::vector<std::int64_t> reached(f.rungs.size(), 0), in_gen(f.rungs.size(), 0);
    for (const auto& e : journal.entries) {
      const int r = e.result.rung;
      if (r < 0 || r > f.top()) continue;
      ++reached[r];
      // This generation's: its own trials', and those of earlier trials a promotion pool
      // (fidelity.promotion_pool) continued in it, which the checkpoint does not show at that
      // rung yet or shows as trained by this generation.
      const std::int64_t id = e.result.trial_id;
      bool current = pending_ids.count(id) > 0;
      if (!current && id >= 0 && id < static_cast<std::int64_t>(state.trials.size())) {
        const search::Trial& t = state.trials[static_cast<size_t>(id)];
        current = r > t.rung;
        for (const search::RungResult& c : t.curve)
          if (c.rung == r) current = c.generation == state.generation;
      }
      if (current) ++in_gen[r];
    }
    std::cout << "\n  rungs:       ";
    for (size_t r = 0; r < f.rungs.size(); ++r)
      std::cout << (r ? ", " : "") << reached[r] << " trained to rung " << r << " ("
                << f.rungs[r] << " " << f.resource << ")";
    const search::StateDiskUse disk = search::RungStateDiskUse(paths.dir);
    std::cout << "\n  states:      " << disk.files << " training state file(s), "
              << std::fixed << std::setprecision(1) << static_cast<double>(disk.bytes) / (1 << 20)
              << " MB in " << paths.dir << "/states" << std::defaultfloat;
    if (!state.pending.empty()) {
      std::cout << "\n  in progress: generation " << state.generation << " of "
                << state.pending.size() << " trials:";
      std::int64_t expect = static_cast<std::int64_t>(state.pending.size());
      for (size_t r = 0; r < f.rungs.size(); ++r) {
        std::cout << (r ? "," : "") << " rung " << r << " " << in_gen[r] << " of " << expect;
        expect = search::PromoteCount(static_cast<int>(expect), f.eta);
      }
      std::cout << " (later rungs' sizes assume no failures)";
    }
  }
  if (unfinished > 0 && !config.fidelity.enabled()) {
    std::cout << "; generation " << state.generation << " has " << unfinished << " of its "
              << state.pending.size() << " still to evaluate";
    if (holder != 0) std::cout << " (running or queued)";
    else if (config.max_evals > 0 && done >= config.max_evals)
      std::cout << " (beyond the budget: `paretonas resume " << paths.dir << " --max-evals N` continues them)";
  }
  const std::string latency = LatencyLine(journal, config.training.latency_target);
  if (!latency.empty()) std::cout << "\n  latency:     " << latency;
  if (::access(paths.int8().c_str(), F_OK) == 0) {  // the int8 arithmetic the run computed with
    try {
      const YAML::Node r = YAML::LoadFile(paths.int8());
      std::cout << "\n  int8:        " << (r["engine"] ? r["engine"].as<std::string>() : "?") << " kernels; weights "
                << (r["weights"] ? r["weights"].as<std::string>() : "?") << "; activations "
                << (r["activations"] ? r["activations"].as<std::string>() : "?");
      if (r["cpu"]) std::cout << "; started on " << r["cpu"].as<std::string>();
      if (r["warning"]) std::cout << "\n  warning:     " << r["warning"].as<std::string>();
      if (r["resumed_with_another_arithmetic"])
        std::cout << "\n  warning:     resumed with another int8 arithmetic:"
                  << r["resumed_with_another_arithmetic"].as<std::string>();
    } catch (const YAML::Exception& e) {
      std::cout << "\n  int8:        " << paths.int8() << " unreadable (" << e.what() << ")";
    }
  }
  std::cout << "\n  hypervolume: "
            << (state.hv_history.empty()
                    ? std::string("- (its box is fixed once complete trials differ in every objective)")
                    : std::to_string(state.hv_history.back()))
            << "\n";
  if (!journal.error.empty()) std::cout << "  warning: " << journal.error << "\n";
  // The front of everything complete: the checkpoint's trials and what the journal holds of the
  // generation in progress (a checkpoint is written between generations only).
  search::SearchState now = state;
  int in_gen_complete = 0;
  std::map<std::int64_t, int> last_rung;  // the generation's trials: the highest rung journaled
  const std::set<std::int64_t> pending_set(state.pending.begin(), state.pending.end());
  for (const auto& e : journal.entries) {
    const std::int64_t id = e.result.trial_id;
    if (!pending_set.count(id) || id < 0 || id >= static_cast<std::int64_t>(now.trials.size())) continue;
    search::Trial& t = now.trials[static_cast<std::size_t>(id)];
    const bool was_complete = t.state == search::TrialState::kComplete;
    ApplyInProgress(t, e.result, config, session->problem, state.generation);
    in_gen_complete += !was_complete && t.state == search::TrialState::kComplete;
    if (e.result.rung >= 0) last_rung[id] = std::max(last_rung.count(id) ? last_rung[id] : -1, e.result.rung);
  }
  if (config.fidelity.enabled() && !state.pending.empty() && holder != 0) {
    std::cout << "\n  in flight:   ";
    int shown = 0;
    for (std::int64_t id : state.pending) {
      const search::Trial& t = now.trials[static_cast<std::size_t>(id)];
      if (t.state == search::TrialState::kComplete || t.state == search::TrialState::kFailed) continue;
      const auto it = last_rung.find(id);
      if (shown++ < 12)
        std::cout << (shown > 1 ? ", " : "") << "#" << id << " "
                  << (it == last_rung.end() ? std::string("rung 0 (queued or training)")
                                            : "rung " + std::to_string(it->second) + " done");
    }
    if (shown > 12) std::cout << ", ... (" << shown << " in all)";
  }
  std::cout << "\nPareto front (of the " << state.generation << " generation(s) done"
            << (in_gen_complete > 0 ? " and the " + std::to_string(in_gen_complete) + " trial(s) of generation " +
                                          std::to_string(state.generation) + " complete so far"
                                    : std::string(""))
            << "):\n" << FrontTable(now, session->problem);
  if (loaded) *loaded = std::move(run);
  return kExitOk;
}

/// `status A B ...`: each run's status, then their hypervolumes in one common box.
int RunStatuses(const StatusOptions& o) {
  if (o.run_dirs.size() == 1) {
    StatusOptions one = o;
    one.run_dir = o.run_dirs[0];
    return RunStatus(one);
  }
  if (o.journal) throw InputError("status --journal: give one run directory (" + std::to_string(o.run_dirs.size()) + " given)");
  std::vector<LoadedRun> runs;
  for (const auto& dir : o.run_dirs) {
    StatusOptions one = o;
    one.run_dir = dir;
    std::cout << "== " << dir << "\n";
    runs.emplace_back();  // stays empty (no session) for a run without a checkpoint: nothing to compare
    const int rc = RunStatus(one, &runs.back());
    if (rc != kExitOk) return rc;
    std::cout << "\n";
  }
  std::vector<const search::SearchState*> states;
  std::vector<const search::Problem*> problems;
  std::vector<size_t> index;
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].session) states.push_back(&runs[i].state), problems.push_back(&runs[i].session->problem), index.push_back(i);
  std::cout << "compared in one box (ideal: the best of each objective over these runs' complete, feasible "
               "trials; reference: the worst + 10% of the range; a run's own hypervolume above is in its own "
               "box and does not compare with another's):\n";
  if (states.size() < 2) {
    std::cout << "  fewer than two of them have a checkpoint yet: nothing to compare\n";
    return kExitOk;
  }
  const search::CommonBox box = search::CommonBoxHypervolumes(states, problems);
  if (!box.error.empty()) {
    std::cout << "  " << box.error << "\n";
    return kExitOk;
  }
  for (size_t k = 0; k < index.size(); ++k) {
    const auto& st = runs[index[k]].state;
    std::cout << "  " << o.run_dirs[index[k]] << "  hypervolume "
              << (std::isnan(box.hv[k]) ? "- (" + box.why[k] + ")" : search::Fmt(box.hv[k]))
              << "  (own box: " << (st.hv_history.empty() ? std::string("-") : search::Fmt(st.hv_history.back()))
              << ")\n";
  }
  return kExitOk;
}

}  // namespace

void SetupStatus(CLI::App& app) {
  auto o = std::make_shared<StatusOptions>();
  auto* sub = app.add_subcommand("status", "Show a search's progress and current Pareto front");
  sub->add_option("run_dir", o->run_dirs,
                  "Run directory; several: each one's status, then their hypervolumes in one common box")
      ->required();
  sub->add_flag("--journal", o->journal,
                "Print every record of the journal (what resume replays) as one JSON line each: trial, rung "
                "(-1: a full evaluation; 0, 1, ...: a rung; -2: the pre-screen; -3: the latency stage; -10, "
                "-11, ...: a latency measured again), arch, ok, seconds, failure, metrics");
  sub->callback([o] { RunCommand([o] { return RunStatuses(*o); }); });
}

}  // namespace paretonas::experiments
