// `paretonas latency measure`: architectures (or a run's front, compared with its own numbers) timed on this machine.
#include "experiments/latency/latency_cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "evaluator/latency_estimate.h"
#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/front.h"
#include "search/pareto.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace latency_cli {

/// Kendall's tau-b of two equally long lists (1: the same order).
double KendallTau(const std::vector<double>& a, const std::vector<double>& b) {
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const double x = a[i] - a[j], y = b[i] - b[j];
      if (x == 0 && y == 0) continue;
      if (x == 0) ++ties_a;
      else if (y == 0) ++ties_b;
      else if ((x > 0) == (y > 0)) ++concordant;
      else ++discordant;
    }
  const double d = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return d > 0 ? (concordant - discordant) / d : 1.0;
}

/// `measure --front-of RUN --compare`: each front member's latency in the run and now, their
/// rank agreement, and whether the front would change with the new numbers: outside the noise
/// (a member dominated even when its latency is at the favourable end of its interval and its
/// dominator's at the other; a newcomer non-dominated with every interval against it), or only
/// inside it. Members the run has no latency for are listed and left out of the comparison.
void CompareFront(const LoadedRun& run, const std::vector<std::int64_t>& ids,
                  const std::vector<evaluator::Measured>& now, const std::string& precision) {
  const std::string pre = precision == "int8" ? "int8_" : "";  // the run's int8_latency_ms, ...
  const std::string key = pre + "latency_ms";
  const search::Problem& problem = run.session->problem;
  search::SearchState retimed = run.state;
  std::vector<double> before, after;
  std::vector<std::int64_t> without;
  std::cout << "\n  id   in the run (ms)        now (ms)              now / run\n";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    search::Trial& t = retimed.trials[static_cast<std::size_t>(ids[i])];
    const auto it = t.metrics.find(key);
    const auto ci = t.metrics.find(pre + "latency_ci_ms");
    char line[200];
    if (it == t.metrics.end()) {
      without.push_back(ids[i]);
      std::snprintf(line, sizeof line, "  %-4lld %-22s %8.4g +-%-8s   (none in the run)\n", static_cast<long long>(ids[i]),
                    "-", now[i].median_ms, (Fmt(100 * now[i].RelativeHalfWidth(), 2) + "%").c_str());
      std::cout << line;
      continue;
    }
    const double old = it->second;
    std::snprintf(line, sizeof line, "  %-4lld %8.4g +-%-8s     %8.4g +-%-8s   %6.3f%s\n", static_cast<long long>(ids[i]),
                  old, ci == t.metrics.end() ? "?" : (Fmt(100 * ci->second / old, 2) + "%").c_str(), now[i].median_ms,
                  (Fmt(100 * now[i].RelativeHalfWidth(), 2) + "%").c_str(), now[i].median_ms / old,
                  now[i].noisy ? "  (noisy now)" : "");
    std::cout << line;
    before.push_back(old);
    after.push_back(now[i].median_ms);
    std::map<std::string, double> m;
    evaluator::AddLatencyMetrics(now[i], &m);
    for (const auto& [k, v] : m) t.metrics[pre + k] = v;
  }
  auto list = [](const std::vector<std::int64_t>& v) {
    std::string s;
    for (std::int64_t id : v) s += (s.empty() ? "#" : ", #") + std::to_string(id);
    return s;
  };
  if (!without.empty())
    std::cout << "not compared: " << list(without) << " (the run has no " << key << " for them)\n";
  if (before.size() >= 2)
    std::cout << "rank agreement (Kendall tau, front members by latency): " << Fmt(KendallTau(before, after), 3) << "\n";
  else
    std::cout << "rank agreement: not defined for " << before.size() << " member(s) with both latencies\n";
  const std::vector<std::int64_t> front = search::ParetoFront(retimed, problem);
  std::vector<std::int64_t> left, joined;
  for (std::int64_t id : ids)
    if (std::find(front.begin(), front.end(), id) == front.end()) left.push_back(id);
  for (std::int64_t id : front)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) joined.push_back(id);
  // A trial's latency at an end of its interval: the new one's for re-timed members, the run's
  // (+- latency_ci_ms) for the others.
  auto at_end = [&](const search::Trial& t, bool high) {
    search::Trial c = t;
    const auto ms = c.metrics.find(key);
    if (ms == c.metrics.end()) return c;
    const auto ci = c.metrics.find(pre + "latency_ci_ms");
    const double half = ci == c.metrics.end() ? 0.0 : ci->second;
    ms->second = high ? ms->second + half : std::max(0.0, ms->second - half);
    return c;
  };
  auto robustly_dominates = [&](const search::Trial& a, const search::Trial& b) {  // a over b, intervals against a
    return search::Dominates(problem.ObjectiveVector(at_end(a, true)), problem.ObjectiveVector(at_end(b, false)));
  };
  const auto candidates = search::FeasibleComplete(retimed, problem);
  std::vector<std::int64_t> left_out, left_in, joined_out, joined_in;
  for (std::int64_t id : left) {
    bool robust = false;
    for (std::int64_t j : candidates)
      if (j != id && robustly_dominates(retimed.trials[j], retimed.trials[id])) robust = true;
    (robust ? left_out : left_in).push_back(id);
  }
  for (std::int64_t id : joined) {
    bool robust = true;
    for (std::int64_t j : candidates)  // j at its low end against id at its high end
      if (j != id && search::Dominates(problem.ObjectiveVector(at_end(retimed.trials[j], false)),
                                       problem.ObjectiveVector(at_end(retimed.trials[id], true))))
        robust = false;
    (robust ? joined_out : joined_in).push_back(id);
  }
  if (left_out.empty() && joined_out.empty()) {
    std::cout << "the front would not change beyond the intervals: every member stays non-dominated with its new "
                 "latency"
              << (left_in.empty() && joined_in.empty() ? "" : " at some point of its interval") << "\n";
  } else {
    std::cout << "the front would change with these numbers, beyond the intervals:";
    if (!left_out.empty()) std::cout << " " << list(left_out) << " would leave it (dominated even at the ends of the intervals)";
    if (!joined_out.empty()) std::cout << (left_out.empty() ? " " : "; ") << list(joined_out) << " would join it";
    std::cout << " (others keep their latency in the run; re-time them too with --arch to be sure)\n";
  }
  if (!left_in.empty() || !joined_in.empty()) {
    std::cout << "inside the intervals (they overlap; re-time on a quiet machine to tell):";
    if (!left_in.empty()) std::cout << " " << list(left_in) << " would leave it at the estimates";
    if (!joined_in.empty()) std::cout << (left_in.empty() ? " " : "; ") << list(joined_in) << " would join it";
    std::cout << "\n";
  }
  // A measurement's interval says how its rounds agreed, not how far the machine drifts between
  // the run's measurement and this one (docs/determinism.md: a median 5.6%, up to 12%, measured).
  std::cout << "note: the run's latencies and these were taken apart in time; a machine's speed drifts between "
               "measurements by more than one measurement's interval, so a change of a few percent may be the "
               "machine: to rank members, re-time them together (latency measure --arch ... --arch ...)\n";
}

int Measure(const LatencyOptions& o) {
  evaluator::MeasureOptions mo = Timing(o.measure);
  if (!o.precision.empty()) mo.precision = o.precision;
  if (o.out.empty()) throw InputError("latency measure: --out CSV is required");
  if (o.compare && o.front_of.empty()) throw InputError("latency measure: --compare goes with --front-of RUN");
  std::vector<std::vector<evaluator::Pass>> passes;
  auto* want_passes = o.passes_out.empty() ? nullptr : &passes;
  if (!o.front_of.empty()) {  // the run's space and its current front
    const LoadedRun run = LoadRun(o.front_of);
    if (o.precision.empty()) mo.precision = run.config.training.deploy_precision;  // as the run measured
    const space::SearchSpace& sp = *run.session->space;
    std::vector<space::Genotype> archs;
    const std::vector<std::int64_t> ids = search::ParetoFront(run.state, run.session->problem);
    if (ids.empty())
      throw InputError("latency measure --front-of " + o.front_of + ": the run has no front yet (no complete, "
                       "feasible trial): nothing to " + (o.compare ? "re-time and compare" : "measure"));
    for (std::int64_t id : ids) archs.push_back(run.state.trials[static_cast<std::size_t>(id)].genotype);
    if (o.compare) {
      const std::string key = (mo.precision == "int8" ? "int8_" : "") + std::string("latency_ms");
      bool any = false;
      for (std::int64_t id : ids) any = any || run.state.trials[static_cast<std::size_t>(id)].metrics.count(key);
      if (!any)
        throw InputError("latency measure --front-of " + o.front_of + " --compare: the run measured no " + key +
                         " for its front (evaluator.latency.measure: false, a table or a predicted latency): "
                         "nothing to compare with; drop --compare to measure the front");
    }
    if (o.compare) {  // many rounds: a second opinion worth its time
      mo.repeats = std::max(mo.repeats, 60);
      mo.rounds = std::max(mo.rounds, 12);
      mo.max_passes = std::max(mo.max_passes, 600);
    }
    const auto measured = evaluator::MeasureArchitectures(sp, archs, mo, ProgressLineFor("front members"), want_passes);
    search::WriteFileAtomic(o.out, MeasurementsCsv(sp, archs, measured, ids));
    if (want_passes) WritePasses(o.passes_out, passes, mo.Policy());
    WarnNoise(sp, archs, measured, mo.target, "front members");
    std::cout << "wrote " << o.out << ": the " << archs.size() << " front members of " << o.front_of
              << ", " << Describe(mo) << "\n";
    if (o.compare) CompareFront(run, ids, measured, mo.precision);
    return kExitOk;
  }
  const space::SearchSpace sp = SpaceRefOf(o).Load();
  std::vector<space::Genotype> archs;
  if (!o.archs.empty()) {
    for (const auto& a : o.archs) archs.push_back(sp.ParseKey(a));
  } else {
    archs = DistinctSample(sp, o.samples, o.seed);
  }
  const auto measured = evaluator::MeasureArchitectures(sp, archs, mo, ProgressLineFor("architectures"), want_passes);
  search::WriteFileAtomic(o.out, MeasurementsCsv(sp, archs, measured));
  if (want_passes) WritePasses(o.passes_out, passes, mo.Policy());
  WarnNoise(sp, archs, measured, mo.target, "architectures");
  std::cout << "wrote " << o.out << ": " << archs.size() << " architectures, " << Describe(mo) << "\n";
  return kExitOk;
}

}  // namespace latency_cli
}  // namespace paretonas::experiments
