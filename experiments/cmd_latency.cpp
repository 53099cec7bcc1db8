// `paretonas latency calibrate|measure|fit|eval|predict`: the latency predictor.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "evaluator/measure.h"
#include "evaluator/train_evaluator.h"
#include "predictors/measurement_files.h"
#include "evaluator/table_evaluator.h"
#include "experiments/cli_common.h"
#include "experiments/onnx_export.h"
#include "experiments/run_directory.h"
#include "experiments/torchscript_export.h"
#include "predictors/latency_model.h"
#include "predictors/prediction_metrics.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {

// The kit's device-side scripts (experiments/kit/, embedded by CMake into kit_files.cpp).
extern const char* const kKitRunner;
extern const char* const kKitOrtParser;

namespace {
predictors::LatencyModel LoadModel(const std::string& path);
}  // namespace
namespace {

evaluator::MeasureOptions AutoRounds() {
  evaluator::MeasureOptions m;
  m.rounds = 0;  // auto: see Timing
  return m;
}

struct LatencyOptions {
  // the space
  std::string config;  // an experiment file: its space and dataset input
  std::string space = "nb201";
  std::vector<std::string> sets;
  std::string input;
  int classes = 10;
  // measuring
  evaluator::MeasureOptions measure = AutoRounds();
  int samples = 200;
  std::uint64_t seed = 0;
  // fitting / evaluating
  std::string data, key_column = "arch", latency_column = "latency_ms";
  std::string out, model, plot;
  int sample_rows = 0;
  std::string rest_out;
  double lambda = 0;
  int members = 8;
  bool json = false;
  std::vector<std::string> archs;
  std::string front_of;  // measure: a run directory whose Pareto front to measure
  bool compare = false;  // measure --front-of: compare with the run's own latencies
  std::string precision;  // measure, calibrate: fp32 | int8; "": fp32, or a --front-of run's deploy.precision
  std::string passes_out;  // measure: every timed pass (benchmarks)
  std::string ops;       // fit: a per-op table (op, latency_ms), e.g. calibrate's MODEL.ops.csv
  std::vector<std::string> priors;  // fit: models of other devices (few-shot)
  int n = 100;                      // kit: architectures to export
  int pool = 20000;                 // kit: candidates to choose them from
  std::string select = "spread";    // kit: spread (k-centre) | random
  bool kit_ops = true;              // kit: also export each operation configuration alone
};

predictors::SpaceRef SpaceRefOf(const LatencyOptions& o) {
  predictors::SpaceRef ref;
  if (!o.config.empty()) {
    const ExperimentConfig c = LoadExperiment(o.config, {});
    const space::InputSpec in = evaluator::DatasetInput(c.dataset);
    ref.name_or_path = c.space;
    ref.overrides = c.space_set;
    ref.c = in.shape.c, ref.h = in.shape.h, ref.w = in.shape.w, ref.classes = in.num_classes;
    return ref;
  }
  const space::InputSpec in = ParseInputOption(o.input, o.classes, o.space);
  ref.name_or_path = o.space;
  ref.overrides = ParseSpaceSets(o.sets);
  ref.c = in.shape.c, ref.h = in.shape.h, ref.w = in.shape.w, ref.classes = in.num_classes;
  return ref;
}

/// What differs between the space and input `theirs` was sized for and `ours` ("" when nothing):
/// "space 'a' vs 'b'", "space.set channels: 8 vs 16 (--set channels=8)", "input 1x28x28 vs 3x32x32".
std::string SpaceRefDifference(const predictors::SpaceRef& theirs, const predictors::SpaceRef& ours) {
  std::vector<std::string> d;
  if (theirs.name_or_path != ours.name_or_path)
    d.push_back("space '" + theirs.name_or_path + "' vs '" + ours.name_or_path + "'");
  std::set<std::string> keys;
  for (const auto& [k, v] : theirs.overrides) keys.insert(k);
  for (const auto& [k, v] : ours.overrides) keys.insert(k);
  for (const auto& k : keys) {
    const auto a = theirs.overrides.find(k), b = ours.overrides.find(k);
    const std::string va = a == theirs.overrides.end() ? "the space's default" : a->second;
    const std::string vb = b == ours.overrides.end() ? "the space's default" : b->second;
    if (va != vb)
      d.push_back("space.set " + k + ": " + va + " vs " + vb +
                  (a == theirs.overrides.end() ? "" : " (--set " + k + "=" + a->second + ")"));
  }
  auto shape = [](const predictors::SpaceRef& r) {
    return std::to_string(r.c) + "x" + std::to_string(r.h) + "x" + std::to_string(r.w);
  };
  if (shape(theirs) != shape(ours)) d.push_back("input " + shape(theirs) + " vs " + shape(ours) + " (--input " + shape(theirs) + ")");
  std::string out;
  for (const auto& x : d) out += (out.empty() ? "" : "; ") + x;
  return out;
}


/// A per-op table (columns op, latency_ms): `calibrate`'s MODEL.ops.csv, or one measured on
/// another device with the same operation keys.
predictors::OpTable ReadOpTable(const std::string& path) {
  const evaluator::CsvTable t = evaluator::ReadCsv(path);
  const int kc = t.Column(path, "op"), lc = t.Column(path, "latency_ms");
  predictors::OpTable table;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const std::string where = path + ":" + std::to_string(t.row_lines[r]) + ": ";
    double v = 0;
    if (static_cast<int>(row.size()) <= std::max(kc, lc) || !evaluator::ParseNumber(row[lc], &v) || !(v > 0))
      throw InputError(where + "column 'latency_ms': expected a number of milliseconds > 0");
    table[row[kc]] = v;
  }
  if (table.empty()) throw InputError(path + ": no data rows");
  return table;
}

std::string Fmt(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

/// Random distinct architectures (by key) of the space.
std::vector<space::Genotype> DistinctSample(const space::SearchSpace& sp, int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<std::string> seen;
  std::vector<space::Genotype> out;
  for (int tries = 0; static_cast<int>(out.size()) < n && tries < 100 * n; ++tries) {
    space::Genotype g = sp.Sample(rng);
    if (seen.insert(sp.Key(g)).second) out.push_back(std::move(g));
  }
  return out;
}

/// The measurement options with `--rounds` resolved: by default 5 interleaved rounds (at most one
/// per timed pass). Here a mobilenet model calibrated that way was within ±10% of 99.5-100% of
/// fresh measurements, against 87.5-94.5% with each architecture timed back to back
/// (bench/RESULTS.md § Latency predictor, on this machine).
evaluator::MeasureOptions Timing(evaluator::MeasureOptions m) {
  if (m.rounds == 0) m.rounds = evaluator::DefaultRounds(m.repeats);
  return m;
}

/// A progress line (percent done, ETA) on stderr for MeasureArchitectures/MeasureOperations.
evaluator::MeasureProgress ProgressLineFor(const char* what) {
  auto line = std::make_shared<ProgressLine>();
  return [line, what](std::size_t done, std::size_t total) {
    line->Update(static_cast<double>(done) / static_cast<double>(total),
                 [&] { return std::string(what) + " " + std::to_string(100 * done / total) + "%"; });
  };
}

/// With `ids` (the trials of a run), a first column trial_id matches each row to its trial. Every
/// row carries its error: the 95% interval of the median, the passes kept and discarded
/// (descheduled), and whether the interval ended wider than the target (noisy).
std::string MeasurementsCsv(const space::SearchSpace& sp, const std::vector<space::Genotype>& archs,
                            const std::vector<evaluator::Measured>& m,
                            const std::vector<std::int64_t>& ids = {}) {
  std::ostringstream csv;
  csv << (ids.empty() ? "" : "trial_id,")
      << "arch,latency_ms,latency_iqr_ms,latency_ci_low_ms,latency_ci_high_ms,passes,discarded,noisy,slowdown\n";
  for (std::size_t i = 0; i < archs.size(); ++i)
    csv << (ids.empty() ? "" : std::to_string(ids[i]) + ",") << evaluator::CsvField(sp.Key(archs[i]))
        << "," << Fmt(m[i].median_ms, 6) << "," << Fmt(m[i].iqr_ms, 4) << "," << Fmt(m[i].ci_low_ms, 6) << ","
        << Fmt(m[i].ci_high_ms, 6) << "," << m[i].kept << "," << m[i].discarded << "," << (m[i].noisy ? 1 : 0)
        << "," << Fmt(m[i].slowdown, 4) << "\n";
  return csv.str();
}

/// Every timed pass (`measure --passes FILE`): row (0-based, as in the CSV), round, wall and
/// CPU milliseconds, and whether it counted.
void WritePasses(const std::string& path, const std::vector<std::vector<evaluator::Pass>>& passes,
                 const evaluator::TimingPolicy& policy) {
  std::ostringstream csv;
  csv << "row,round,wall_ms,cpu_ms,kept\n";
  const evaluator::PassLog judge(policy);
  for (std::size_t i = 0; i < passes.size(); ++i)
    for (const auto& p : passes[i])
      csv << i << "," << p.round << "," << Fmt(p.wall_ms, 6) << "," << Fmt(p.cpu_ms, 6) << ","
          << (judge.Descheduled(p) ? 0 : 1) << "\n";
  search::WriteFileAtomic(path, csv.str());
}

/// Says on stderr which rows are noisy or had passes discarded (NoiseSummary, then the first
/// rows by their key), so that a user does not fit a model on numbers the machine decided.
void WarnNoise(const space::SearchSpace& sp, const std::vector<space::Genotype>& archs,
               const std::vector<evaluator::Measured>& m, double target, const std::string& what) {
  const std::string summary = evaluator::NoiseSummary(m, target);
  int noisy = 0;
  for (const auto& e : m) noisy += e.noisy;
  if (noisy == 0) {
    if (!summary.empty()) std::cerr << "paretonas: note: " << what << ": " << summary << " (all within +-" << Fmt(100 * target, 3) << "% in the end)\n";
    return;
  }
  std::cerr << "paretonas: warning: " << what << ": " << summary
            << "; a busy machine: re-measure these when it is quiet, or raise --max-seconds. Noisy rows:\n";
  int shown = 0;
  for (std::size_t i = 0; i < m.size() && shown < 10; ++i) {
    if (!m[i].noisy) continue;
    ++shown;
    std::cerr << "  row " << i + 1 << ": " << Fmt(m[i].median_ms, 4) << " ms +-"
              << Fmt(100 * m[i].RelativeHalfWidth(), 3) << "% (" << m[i].discarded << " of "
              << m[i].kept + m[i].discarded << " passes discarded) "
              << (i < archs.size() ? sp.Key(archs[i]) : std::string()) << "\n";
  }
  if (noisy > shown) std::cerr << "  ... and " << noisy - shown << " more (column noisy = 1 in the CSV)\n";
}

std::string Describe(const evaluator::MeasureOptions& mo) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  return std::string("measured on ") + host + " (" + mo.device + ", " + std::to_string(mo.threads) +
         " thread(s), batch 1, median of " + std::to_string(mo.repeats) +
         (mo.rounds > 1 ? " in " + std::to_string(mo.rounds) + " interleaved rounds" : "") +
         (mo.target > 0 ? ", more rounds until +-" + Fmt(100 * mo.target, 3) + "%" : "") +
         (mo.discard_descheduled ? ", descheduled passes replaced" : "") +
         (mo.precision == "int8" ? ", the int8 model (" + evaluator::Int8EngineName() + " kernels)" : "") + ") on " + date;
}

void PrintModel(const predictors::LatencyModel& m, const std::string& path) {
  std::cout << "wrote " << path << ": " << (m.precision == "fp32" ? "" : m.precision + " latency, ")
            << m.num_samples() << " architectures, " << m.num_features()
            << " features, lambda " << Fmt(m.lambda(), 3)
            << (m.table().empty() ? "" : ", per-op table of " + std::to_string(m.table().size()) + " entries")
            << "\n";
  if (m.relative_sigma() > 0)
    std::cout << "quality (5-fold cross-validation on these measurements): 68% of held-out "
              << "architectures are predicted within ±" << Fmt(100 * m.relative_sigma(), 3)
              << "%; `latency predict` reports that as its ± spread, `latency eval` checks it on "
              << "fresh measurements\n";
}

/// Every operation configuration (OpConfigKey, `none` left out) that `archs` and 4000 random
/// architectures (seed `seed`) use: the per-op table of `calibrate` and of the kit.
std::map<std::string, space::PlanEdge> OperationConfigs(const space::SearchSpace& sp,
                                                        const std::vector<space::Genotype>& archs,
                                                        std::uint64_t seed) {
  std::map<std::string, space::PlanEdge> configs;
  auto add = [&](const space::Genotype& g) {
    for (const auto& e : sp.Plan(g).edges)
      if (e.op.kind != space::OpKind::kNone) configs.emplace(predictors::OpConfigKey(e), e);
  };
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 4000; ++i) add(sp.Sample(rng));
  for (const auto& g : archs) add(g);
  return configs;
}

int Calibrate(const LatencyOptions& o) {
  evaluator::MeasureOptions mo = Timing(o.measure);
  if (!o.precision.empty()) mo.precision = o.precision;
  if (o.out.empty()) throw InputError("latency calibrate: --out MODEL is required");
  const predictors::SpaceRef ref = SpaceRefOf(o);
  const space::SearchSpace sp = ref.Load();
  const auto archs = DistinctSample(sp, o.samples, o.seed);
  // The per-op table: every operation configuration the space uses (read off many plans).
  const std::map<std::string, space::PlanEdge> configs = OperationConfigs(sp, archs, o.seed + 1);
  std::cout << "calibrating " << sp.name() << (mo.precision == "int8" ? " in int8" : "") << " on " << o.measure.device
            << " (" << o.measure.threads << " thread(s)): " << configs.size()
            << " operation configurations, then " << archs.size() << " architectures\n";
  std::cout.flush();
  predictors::OpTable table;
  std::ostringstream ops_csv;
  ops_csv << "op,latency_ms,latency_iqr_ms\n";  // op keys hold no comma
  std::vector<space::PlanEdge> edges;
  for (const auto& kv : configs) edges.push_back(kv.second);
  const auto op_ms = evaluator::MeasureOperations(edges, mo, ProgressLineFor("operations"));
  std::size_t k = 0;
  for (const auto& kv : configs) {
    const auto& m = op_ms[k++];
    table[kv.first] = m.median_ms;
    ops_csv << kv.first << "," << Fmt(m.median_ms, 6) << "," << Fmt(m.iqr_ms, 4) << "\n";
  }
  const auto measured = evaluator::MeasureArchitectures(sp, archs, mo, ProgressLineFor("architectures"));
  WarnNoise(sp, {}, op_ms, mo.target, "operations");
  WarnNoise(sp, archs, measured, mo.target, "architectures");
  std::vector<double> ms;
  for (const auto& m : measured) ms.push_back(m.median_ms);
  search::WriteFileAtomic(o.out + ".csv", MeasurementsCsv(sp, archs, measured));
  search::WriteFileAtomic(o.out + ".ops.csv", ops_csv.str());
  predictors::LatencyFitOptions fo;
  fo.lambda = o.lambda, fo.members = o.members, fo.seed = o.seed;
  auto model = predictors::LatencyModel::Fit(sp, ref, archs, ms, table, fo);
  model.description = Describe(mo);
  model.precision = mo.precision;
  model.Save(o.out);
  PrintModel(model, o.out);
  std::cout << "measurements: " << o.out << ".csv (architectures), " << o.out
            << ".ops.csv (per-op table)\n";
  return kExitOk;
}

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

int Fit(const LatencyOptions& o) {
  if (o.out.empty()) throw InputError("latency fit: --out MODEL is required");
  if (o.data.empty()) throw InputError("latency fit: --data CSV is required");
  const predictors::SpaceRef ref = SpaceRefOf(o);
  const space::SearchSpace sp = ref.Load();
  predictors::MeasuredRows rows = predictors::ReadMeasurements(o.data, sp, o.key_column, o.latency_column);
  // Measurements from a kit: the kit's models only, and the space and input it was exported for.
  const predictors::KitRecord kit = predictors::ReadKitBeside(o.data);
  // The precision the measured networks ran in: the kit's (kit.json), --precision, else fp32.
  std::string precision = o.precision.empty() ? "fp32" : o.precision;
  if (kit.found) {
    if (!o.precision.empty() && o.precision != kit.precision)
      throw InputError("latency fit --precision " + o.precision + ": the kit in " + kit.dir + " holds " +
                       kit.precision + " models (its kit.json), so these are " + kit.precision +
                       " latencies; leave --precision out or measure a kit exported with --precision " +
                       o.precision);
    precision = kit.precision;
    if (!kit.ref.name_or_path.empty()) {
      const std::string diff = SpaceRefDifference(kit.ref, ref);
      if (!diff.empty())
        throw InputError("latency fit --data " + o.data + ": the kit in " + kit.dir + " was exported for "
                         "another space or input than this fit's (kit vs this fit: " + diff +
                         "); fit with the kit's settings (its README.txt shows the command)");
    }
    for (std::size_t i = 0; i < rows.keys.size(); ++i)
      if (!kit.keys.count(rows.keys[i]))
        throw InputError(o.data + ": row " + std::to_string(i + 1) + ": architecture '" + rows.keys[i] +
                         "' is not one of the kit's models (" + kit.dir + "/manifest.csv): were these "
                         "measurements taken with another kit?");
  }
  if (o.sample_rows > 0) {  // fit on a random subset; optionally keep the rest for `eval`
    if (o.sample_rows >= static_cast<int>(rows.archs.size()))
      throw InputError("--sample " + std::to_string(o.sample_rows) + ": the data has only " +
                       std::to_string(rows.archs.size()) + " rows");
    std::vector<std::size_t> idx(rows.archs.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::mt19937_64 rng(o.seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    predictors::MeasuredRows fit;
    std::ostringstream rest;
    rest << "arch,latency_ms\n";
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const std::size_t r = idx[i];
      if (static_cast<int>(i) < o.sample_rows) {
        fit.archs.push_back(rows.archs[r]), fit.keys.push_back(rows.keys[r]), fit.ms.push_back(rows.ms[r]);
      } else {
        rest << evaluator::CsvField(rows.keys[r]) << "," << Fmt(rows.ms[r], 10) << "\n";
      }
    }
    if (!o.rest_out.empty()) search::WriteFileAtomic(o.rest_out, rest.str());
    rows = std::move(fit);
  }
  predictors::LatencyFitOptions fo;
  fo.lambda = o.lambda, fo.members = o.members, fo.seed = o.seed;
  // Few-shot: models of other devices for the same space and input.
  std::vector<predictors::LatencyModel> priors;
  for (const auto& path : o.priors) {
    predictors::LatencyModel p = LoadModel(path);
    const auto& r = p.space();
    const std::string diff = SpaceRefDifference(r, ref);
    if (!diff.empty())
      throw InputError("--prior " + path + ": that model was fit for another space or input than this "
                       "fit (the prior vs this fit: " + diff + "); a prior must describe the same "
                       "networks");
    if (p.precision != precision)
      throw InputError("--prior " + path + ": that model predicts " + p.precision + " latency, this fit's "
                       "measurements are " + precision + " (" +
                       (kit.found ? "the kit's kit.json" : o.precision.empty() ? "the default" : "--precision") +
                       "); a prior must describe networks of the same precision");
    priors.push_back(std::move(p));
  }
  predictors::LatencyModel model;
  const predictors::OpTable table = o.ops.empty() ? predictors::OpTable{} : ReadOpTable(o.ops);
  if (!table.empty()) {
    // The table is summed over each architecture's operations: an operation it lacks counts as
    // 0 ms. Say so; refuse a table that lacks most of them (another space or input shape).
    std::set<std::string> used, missing;
    std::size_t archs_missing = 0;
    for (const auto& g : rows.archs) {
      bool lacks = false;
      for (const auto& e : sp.Plan(g).edges) {
        if (e.op.kind == space::OpKind::kNone) continue;
        const std::string key = predictors::OpConfigKey(e);
        used.insert(key);
        if (!table.count(key)) missing.insert(key), lacks = true;
      }
      archs_missing += lacks;
    }
    if (2 * missing.size() > used.size())
      throw InputError("--ops " + o.ops + ": the table has " + std::to_string(used.size() - missing.size()) +
                       " of the " + std::to_string(used.size()) +
                       " operation configurations these architectures use (e.g. it lacks '" +
                       *missing.begin() + "'): was it measured for another space or input shape?");
    if (!missing.empty())
      std::cerr << "warning: --ops " << o.ops << " lacks " << missing.size() << " of the " << used.size()
                << " operation configurations the measured architectures use (e.g. '" << *missing.begin()
                << "'; " << archs_missing << " of the " << rows.archs.size()
                << " architectures use one); the table's sum counts them as 0 ms\n";
  }
  try {
    model = predictors::LatencyModel::Fit(sp, ref, rows.archs, rows.ms, table, fo, priors);
  } catch (const std::invalid_argument& e) {
    throw InputError(o.data + ": " + e.what());
  }
  model.description = "fit from " + o.data + " (column " + o.latency_column + ")" +
                      (precision == "fp32" ? "" : ", " + precision + " models") +
                      (priors.empty() ? "" : " with " + std::to_string(priors.size()) + " prior model(s)");
  model.precision = precision;
  if (!priors.empty())
    std::cout << "few-shot: " << rows.archs.size() << " measurements of this device, with the "
              << priors.size() << " prior model(s) as features\n";
  model.Save(o.out);
  PrintModel(model, o.out);
  if (!o.rest_out.empty()) std::cout << "rows not used for fitting: " << o.rest_out << "\n";
  return kExitOk;
}

predictors::LatencyModel LoadModel(const std::string& path) {
  try {
    return predictors::LatencyModel::Load(path);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
}

/// Predicted vs measured, log-log, with the y = x line and the +-10% band.
std::string PlotSvg(const std::vector<double>& pred, const std::vector<double>& meas,
                    const std::string& title, const predictors::PredictionMetrics& m) {
  double lo = 1e300, hi = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    lo = std::min({lo, meas[i], std::max(pred[i], 1e-6)});
    hi = std::max({hi, meas[i], pred[i]});
  }
  lo = std::log10(lo) - 0.05, hi = std::log10(hi) + 0.05;
  const double W = 520, H = 520, L = 70, B = 60, T = 40, R = 20;
  auto sx = [&](double v) { return L + (std::log10(std::max(v, 1e-6)) - lo) / (hi - lo) * (W - L - R); };
  auto sy = [&](double v) { return H - B - (std::log10(std::max(v, 1e-6)) - lo) / (hi - lo) * (H - B - T); };
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
  s << "<text x='" << L << "' y='20' font-size='14'>" << title << "</text>\n";
  const double a = std::pow(10, lo), b = std::pow(10, hi);
  s << "<polygon fill='#e8f0fe' points='" << sx(a) << "," << sy(a * 1.1) << " " << sx(b) << ","
    << sy(b * 1.1) << " " << sx(b) << "," << sy(b * 0.9) << " " << sx(a) << "," << sy(a * 0.9) << "'/>\n";
  s << "<line x1='" << sx(a) << "' y1='" << sy(a) << "' x2='" << sx(b) << "' y2='" << sy(b)
    << "' stroke='#888' stroke-dasharray='4 3'/>\n";
  const std::size_t stride = pred.size() / 4000 + 1;  // at most ~4,000 points keep the file small
  for (std::size_t i = 0; i < pred.size(); i += stride)
    s << "<circle cx='" << Fmt(sx(meas[i]), 5) << "' cy='" << Fmt(sy(pred[i]), 5)
      << "' r='2' fill='#1a73e8' fill-opacity='0.5'/>\n";
  s << "<rect x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << H - B - T
    << "' fill='none' stroke='black'/>\n";
  // Labelled ticks: decades, then 1-2-5, then every digit, until at least three fall in range.
  std::vector<double> ticks;
  for (const std::vector<int>& mantissas : {std::vector<int>{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    ticks.clear();
    for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
      for (int m : mantissas) {
        const double v = m * std::pow(10, e);
        if (std::log10(v) >= lo && std::log10(v) <= hi) ticks.push_back(v);
      }
    if (ticks.size() >= 3) break;
  }
  for (const double v : ticks) {
    s << "<line x1='" << sx(v) << "' y1='" << H - B << "' x2='" << sx(v) << "' y2='" << H - B + 5 << "' stroke='black'/>";
    s << "<line x1='" << L - 5 << "' y1='" << sy(v) << "' x2='" << L << "' y2='" << sy(v) << "' stroke='black'/>";
    s << "<text x='" << sx(v) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << Fmt(v) << "</text>\n";
    s << "<text x='" << L - 6 << "' y='" << sy(v) + 4 << "' text-anchor='end'>" << Fmt(v) << "</text>\n";
  }
  s << "<text x='" << (W + L - R) / 2 << "' y='" << H - 20 << "' text-anchor='middle'>measured latency (ms)</text>\n";
  s << "<text x='16' y='" << (H - B + T) / 2 << "' transform='rotate(-90 16 " << (H - B + T) / 2
    << ")' text-anchor='middle'>predicted latency (ms)</text>\n";
  s << "<text x='" << L + 8 << "' y='" << T + 18 << "'>n " << m.n << ", Spearman " << Fmt(m.spearman)
    << ", within ±10% " << Fmt(100 * m.within_10, 3) << "% (band)</text>\n</svg>\n";
  return s.str();
}

int Eval(const LatencyOptions& o) {
  if (o.model.empty() || o.data.empty()) throw InputError("latency eval: --model and --data are required");
  const auto model = LoadModel(o.model);
  const space::SearchSpace sp = model.space().Load();
  const predictors::MeasuredRows rows = predictors::ReadMeasurements(o.data, sp, o.key_column, o.latency_column);
  if (rows.archs.size() < 2) throw InputError(o.data + ": eval needs at least 2 rows");
  std::vector<double> pred, spread, boot;
  for (const auto& g : rows.archs) {
    const auto p = model.Predict(sp, g);
    pred.push_back(p.ms);
    spread.push_back(p.std_ms);
    boot.push_back(p.bootstrap_std_ms);
  }
  const double boot_coverage = predictors::ComparePredictions(pred, rows.ms, boot).coverage;
  const auto m = predictors::ComparePredictions(pred, rows.ms, spread);
  const std::string plot = o.plot.empty() ? o.model + ".eval.svg" : o.plot;
  search::WriteFileAtomic(plot, PlotSvg(pred, rows.ms, o.model + " on " + o.data, m));
  if (o.json) {
    std::cout << m.ToJson() << "\n";
    return kExitOk;
  }
  std::sort(spread.begin(), spread.end());
  std::cout << "precision              " << model.precision << "\n"
            << "n                      " << m.n << "\n"
            << "median relative error  " << Fmt(m.median_ape, 4) << "%\n"
            << "within ±5%             " << Fmt(100 * m.within_5, 4) << "%\n"
            << "within ±10%            " << Fmt(100 * m.within_10, 4) << "%\n"
            << "spearman               " << Fmt(m.spearman, 5) << "\n"
            << "kendall                " << Fmt(m.kendall, 5) << "\n"
            << "inside ±1 spread       " << Fmt(100 * m.coverage, 4) << "% (nominal 68%"
            << (model.relative_sigma() > 0 ? "; the spread is calibrated at fit time"
                                           : "; an old model: bootstrap spread, not calibrated")
            << ")\n"
            << "inside ±1 bootstrap    " << Fmt(100 * boot_coverage, 4)
            << "% (the spread of the refits alone: the model's own uncertainty, not the error)\n"
            << "mape                   " << Fmt(m.mape, 4) << "% (the mean: a few measurements near "
            << "zero can make it large while the figures above are good)\n"
            << "median spread          " << Fmt(spread[spread.size() / 2], 3) << " ms\nplot: " << plot
            << "\n";
  return kExitOk;
}

int Predict(const LatencyOptions& o) {
  if (o.model.empty() || o.archs.empty()) throw InputError("latency predict: --model and --arch are required");
  const auto model = LoadModel(o.model);
  const space::SearchSpace sp = model.space().Load();
  for (const auto& a : o.archs) {
    const auto p = model.Predict(sp, sp.ParseKey(a));
    if (o.json)
      std::cout << "{\"arch\":\"" << a << "\",\"latency_ms\":" << Fmt(p.ms, 6) << ",\"std_ms\":" << Fmt(p.std_ms, 4)
                << ",\"precision\":\"" << model.precision << "\"}\n";
    else
      std::cout << a << "  " << Fmt(p.ms) << " ms ± " << Fmt(p.std_ms, 2)
                << (model.precision == "fp32" ? "" : " (" + model.precision + ")")
                << (model.relative_sigma() > 0 ? " (one standard deviation, calibrated: ±" +
                                                     Fmt(100 * model.relative_sigma(), 3) + "%)"
                                               : " (bootstrap spread: an old model, not calibrated)")
                << "\n";
  }
  return kExitOk;
}

/// `latency kit`: N architectures that cover the space's latency features, exported for timing on
/// the user's device, with a standalone runner and a parser for ONNX Runtime's benchmark tool.
int Kit(const LatencyOptions& o) {
  if (o.out.empty()) throw InputError("latency kit: --out DIR is required");
  const bool int8 = o.precision == "int8";
  if (int8 && evaluator::Int8EngineName().empty())
    throw InputError("latency kit --precision int8: this LibTorch has no quantized engine to build the "
                     "int8 models with");
  const predictors::SpaceRef ref = SpaceRefOf(o);
  const space::SearchSpace sp = ref.Load();
  // The candidates: the whole space when it is small enough, else a random pool; cells whose
  // output is cut off from the input are left out (they compute a constant).
  std::vector<space::Genotype> pool;
  if (sp.NumGenotypes() <= static_cast<std::uint64_t>(o.pool)) {
    for (auto& g : sp.Enumerate(static_cast<std::uint64_t>(o.pool)))
      if (sp.Connected(g)) pool.push_back(std::move(g));
  } else {
    for (auto& g : DistinctSample(sp, o.pool, o.seed))
      if (sp.Connected(g)) pool.push_back(std::move(g));
  }
  if (pool.size() < static_cast<std::size_t>(o.n))
    throw InputError("latency kit --n " + std::to_string(o.n) + ": the space has only " +
                     std::to_string(pool.size()) + " connected architectures to choose from");
  std::cout << "choosing " << o.n << " of " << pool.size() << " architectures of " << sp.name()
            << (o.select == "random" ? " at random (seed " + std::to_string(o.seed) + ")"
                                     : std::string(" spread over the latency features (greedy k-centre)"))
            << "\n";
  std::cout.flush();
  std::vector<std::size_t> chosen;
  if (o.select == "random") {
    chosen.resize(pool.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    std::mt19937_64 rng(o.seed);
    std::shuffle(chosen.begin(), chosen.end(), rng);
    chosen.resize(static_cast<std::size_t>(o.n));
  } else {
    chosen = predictors::SpreadSelection(sp, pool, static_cast<std::size_t>(o.n));
  }
  MakeDirectories(o.out + "/models");
  const bool onnx = OnnxSupported();
  const space::InputSpec in = sp.input();
  const std::string shape = std::to_string(in.shape.c) + "x" + std::to_string(in.shape.h) + "x" +
                            std::to_string(in.shape.w);
  std::ostringstream manifest;
  manifest << "index,key,onnx,torchscript,input,params,macs\n";
  ProgressLine progress;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const space::Genotype& g = pool[chosen[i]];
    char name[16];
    std::snprintf(name, sizeof(name), "%03zu", i);
    const std::string ts = std::string("models/") + name + ".torchscript.pt";
    const std::string ox = onnx ? std::string("models/") + name + ".onnx" : "";
    if (int8) {
      Int8ExportOptions q;
      q.random_calibration = true;
      ExportInt8TorchScript(sp, g, "", o.seed + i, o.out + "/" + ts, nullptr, q);
      if (onnx) ExportInt8Onnx(sp, g, "", o.seed + i, o.out + "/" + ox, nullptr, q);
    } else {
      ExportTorchScript(sp, g, "", o.seed + i, o.out + "/" + ts);
      if (onnx) ExportOnnx(sp, g, "", o.seed + i, o.out + "/" + ox);
    }
    const space::StaticCosts c = sp.Costs(g);
    manifest << i << "," << evaluator::CsvField(sp.Key(g)) << "," << ox << "," << ts << "," << shape
             << "," << c.params_pruned << "," << c.macs_pruned << "\n";
    progress.Update(static_cast<double>(i + 1) / static_cast<double>(chosen.size()),
                    [&] { return "exporting " + std::to_string(i + 1) + " / " + std::to_string(chosen.size()); });
  }
  search::WriteFileAtomic(o.out + "/manifest.csv", manifest.str());
  {  // what the kit was exported for: `latency fit` checks its measurements against it
    const predictors::SpaceRef ref = SpaceRefOf(o);
    std::ostringstream j;
    j << "{\"space\": " << search::JsonString(ref.name_or_path) << ", \"set\": {";
    bool first = true;
    for (const auto& [k, v] : ref.overrides) {
      j << (first ? "" : ", ") << search::JsonString(k) << ": " << search::JsonString(v);
      first = false;
    }
    j << "}, \"input\": [" << ref.c << ", " << ref.h << ", " << ref.w << "], \"classes\": " << ref.classes
      << ", \"precision\": \"" << (int8 ? "int8" : "fp32") << "\"";
    // The engine the int8 weights were packed for: the runner picks it where PyTorch has it.
    if (int8) j << ", \"int8_engine\": " << search::JsonString(evaluator::Int8EngineName());
    j << "}\n";
    search::WriteFileAtomic(o.out + "/kit.json", j.str());
  }
  // The per-op table: each operation configuration of the space alone at its shapes, timed by the
  // same runner. A chain space's latency is mostly the sum of its operations; 100 whole networks
  // cannot teach a model hundreds of per-op features, a measured table gives them as one nearly
  // unpenalised feature (as `latency calibrate` does on this machine).
  std::size_t num_ops = 0;
  if (o.kit_ops) {
    const auto configs = OperationConfigs(sp, pool, o.seed + 1);
    MakeDirectories(o.out + "/ops");
    std::ostringstream ops;
    ops << "index,op,onnx,torchscript,input\n";
    ProgressLine op_progress;
    for (const auto& [key, edge] : configs) {
      char name[16];
      std::snprintf(name, sizeof(name), "%03zu", num_ops);
      const std::string ts = std::string("ops/") + name + ".torchscript.pt";
      const std::string ox = onnx ? std::string("ops/") + name + ".onnx" : "";
      if (int8) {
        ExportInt8OperationTorchScript(edge, o.seed + num_ops, o.out + "/" + ts);
        if (onnx) ExportInt8OperationOnnx(edge, o.seed + num_ops, o.out + "/" + ox);
      } else {
        ExportOperationTorchScript(edge, o.seed + num_ops, o.out + "/" + ts);
        if (onnx) ExportOperationOnnx(edge, o.seed + num_ops, o.out + "/" + ox);
      }
      ops << num_ops << "," << evaluator::CsvField(key) << "," << ox << "," << ts << "," << edge.in.c
          << "x" << edge.in.h << "x" << edge.in.w << "\n";
      ++num_ops;
      op_progress.Update(static_cast<double>(num_ops) / static_cast<double>(configs.size()), [&] {
        return "exporting operations " + std::to_string(num_ops) + " / " + std::to_string(configs.size());
      });
    }
    search::WriteFileAtomic(o.out + "/ops.csv", ops.str());
  }
  search::WriteFileAtomic(o.out + "/run_latency.py", kKitRunner);
  search::WriteFileAtomic(o.out + "/parse_ort_perf.py", kKitOrtParser);
  ::chmod((o.out + "/run_latency.py").c_str(), 0755);
  ::chmod((o.out + "/parse_ort_perf.py").c_str(), 0755);
  std::string space_args = "--space " + ref.name_or_path;
  for (const auto& [k, v] : ref.overrides) space_args += " --set " + k + "=" + v;
  space_args += " --input " + shape;
  std::ostringstream readme;
  readme << "paretonas latency kit: " << chosen.size() << (int8 ? " int8" : "") << " architectures of " << sp.name()
         << " (input " << shape << "), chosen to cover the space's latency features\n"
         << "(greedy k-centre on the standardised features of " << pool.size() << " candidates).\n"
         << (int8 ? "The models are int8, quantized as paretonas's deploy stage does (batch norm folded,\n"
                    "per-channel int8 weights, uint8 activations): ONNX in QDQ form, which ONNX Runtime\n"
                    "runs on its int8 kernels, and TorchScript on PyTorch's quantized engine (the runner\n"
                    "sets it; the weights were packed for " + evaluator::Int8EngineName() + "). The fit reads kit.json\n"
                    "and records that the model predicts int8 latency.\n"
                  : "")
         << "\n"
         << "1. Copy this folder to the device and time the models at batch 1 (Python 3 with NumPy and\n"
         << "   onnxruntime or PyTorch; nothing of paretonas):\n"
         << "     python3 run_latency.py --threads 1        # writes latency.csv and latency.json\n"
         << (num_ops ? "   It also times the " + std::to_string(num_ops) +
                           " operation configurations of ops/ alone (ops_latency.csv).\n"
                     : std::string())
         << "   On Android, with ONNX Runtime's benchmark tool instead (onnxruntime_perf_test):\n"
         << "     adb push models /data/local/tmp/kit/models\n"
         << "     for f in models/*.onnx; do i=$(basename \"$f\" .onnx); adb shell \\\n"
         << "       /data/local/tmp/onnxruntime_perf_test -e cpu -x 1 -r 100 -I /data/local/tmp/kit/$f \\\n"
         << "       > ort_logs/$i.txt; done\n"
         << "     python3 parse_ort_perf.py ort_logs       # writes latency.csv\n"
         << (num_ops ? "   (and the same for ops/*.onnx into op_logs/, then\n"
                       "     python3 parse_ort_perf.py op_logs --ops   # writes ops_latency.csv)\n"
                     : std::string())
         << "\n"
         << "2. Back on the machine with paretonas, fit the device's model (add --prior MODEL for the\n"
         << "   models of other devices you have: few measurements then go much further):\n"
         << "     paretonas latency fit " << space_args << " \\\n"
         << "       --data latency.csv --key-column key"
         << (num_ops ? " --ops ops_latency.csv" : "") << " --out device.model\n\n"
         << "3. Use it in a search: evaluator.latency.predictor: device.model, objective\n"
         << "   predicted_latency_ms.\n";
  search::WriteFileAtomic(o.out + "/README.txt", readme.str());
  std::cout << "\nwrote " << o.out << ": " << chosen.size() << (int8 ? " int8" : "") << " models (TorchScript" << (onnx ? " and ONNX" : "")
            << "), manifest.csv, "
            << (num_ops ? std::to_string(num_ops) + " operation models with ops.csv, " : std::string())
            << "run_latency.py, parse_ort_perf.py, README.txt\n"
            << "next: copy it to the device and run `python3 run_latency.py`; README.txt says the rest\n";
  return kExitOk;
}

void SpaceOptions(CLI::App* c, LatencyOptions* o) {
  c->add_option("--config", o->config, "Take the space and input shape from this experiment file");
  c->add_option("-s,--space", o->space, "Preset (nb201, mobilenet) or space file")->capture_default_str();
  c->add_option("--set", o->sets, "Override a space parameter, e.g. --set channels=16 (repeatable)");
  c->add_option("--input", o->input, "Input shape CxHxW (default 3x32x32; 1x28x28 for mobilenet)");
  c->add_option("--classes", o->classes, "Number of classes")->check(CLI::Range(1, 100000))->capture_default_str();
}

void MeasureFlags(CLI::App* c, LatencyOptions* o) {
  c->add_option("--device", o->measure.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  c->add_option("--threads", o->measure.threads, "Intra-op threads while timing")->check(CLI::Range(1, 1024))->capture_default_str();
  c->add_option("--warmup", o->measure.warmup, "Untimed passes first")->check(CLI::Range(0, 100000))->capture_default_str();
  c->add_option("--repeats", o->measure.repeats, "Timed passes (the median is kept)")->check(CLI::Range(3, 100000))->capture_default_str();
  c->add_option("--rounds", o->measure.rounds,
                "Spread each architecture's timed passes over R rounds that visit every architecture "
                "in turn, so that the machine's drift hits all alike (1: back to back; default 5, "
                "at most --repeats)")
      ->check(CLI::Range(1, 100000));
  c->add_option("--target", o->measure.target,
                "Keep timing (more rounds, for the architectures that need them) until the 95% interval "
                "of each median is within +-target of it (0: no more rounds)")
      ->check(CLI::Range(0.0, 0.5))->capture_default_str();
  c->add_option("--max-seconds", o->measure.max_seconds,
                "Per architecture: no more rounds after this much timing; what is still wider than "
                "the target is flagged noisy")
      ->check(CLI::Range(0.0, 3600.0))->capture_default_str();
  c->add_option("--max-passes", o->measure.max_passes, "Per architecture: timed passes at the most")
      ->check(CLI::Range(3, 10000000))->capture_default_str();
  c->add_flag("--keep-descheduled{false}", o->measure.discard_descheduled,
              "Count every timed pass, also those during which the timing thread lost its core (its "
              "wall time well above its CPU time); by default they are replaced");
  c->add_option("--seed", o->seed, "Seed of the random architectures")->capture_default_str();
}

void FitFlags(CLI::App* c, LatencyOptions* o) {
  c->add_option("--lambda", o->lambda, "Ridge penalty (default: chosen by 5-fold cross-validation)")->check(NonNegative());
  c->add_option("--members", o->members, "Bootstrap refits for the uncertainty")->check(CLI::Range(0, 100))->capture_default_str();
}

}  // namespace

void SetupLatency(CLI::App& app) {
  auto o = std::make_shared<LatencyOptions>();
  auto* sub = app.add_subcommand("latency", "Latency predictor: calibrate on this machine, fit from "
                                            "measurements taken anywhere, evaluate, predict");
  sub->require_subcommand(1);
  sub->footer("Example (a device that is not attached, NAS-Bench-201's table):\n"
              "  paretonas latency fit --space nb201 --data nb201_cifar10.csv --key-column arch_string \\\n"
              "      --latency-column pixel3_ms --sample 100 --rest-out rest.csv --out pixel3.model\n"
              "  paretonas latency eval --model pixel3.model --data rest.csv");

  auto* cal = sub->add_subcommand("calibrate", "Measure a per-op table and N random architectures "
                                               "on this machine, fit, write MODEL, MODEL.csv, MODEL.ops.csv");
  SpaceOptions(cal, o.get());
  MeasureFlags(cal, o.get());
  FitFlags(cal, o.get());
  cal->add_option("--precision", o->precision,
                  "fp32 | int8: the per-op table and the architectures timed as int8 models (CPU), so "
                  "that the model predicts int8 latency (its description says int8)")
      ->check(CLI::IsMember({"fp32", "int8"}));
  cal->add_option("--samples", o->samples, "Architectures to measure")->check(CLI::Range(5, 1000000))->capture_default_str();
  cal->add_option("-o,--out", o->out, "Model file to write")->required();
  cal->callback([o] { RunCommand([o] { return Calibrate(*o); }); });

  auto* me = sub->add_subcommand("measure", "Measure architectures on this machine into a CSV "
                                            "(arch, latency_ms, latency_iqr_ms, the interval of the median, "
                                            "passes kept and discarded, noisy)");
  SpaceOptions(me, o.get());
  MeasureFlags(me, o.get());
  me->add_option("--samples", o->samples, "Random architectures (without --arch)")->check(CLI::Range(1, 1000000))->capture_default_str();
  me->add_option("-a,--arch", o->archs, "Architecture key (repeatable) instead of random ones");
  me->add_option("--front-of", o->front_of, "Measure the Pareto front of this run directory (its space)");
  me->add_option("--precision", o->precision,
                 "fp32 | int8: time each network, or its int8 model on the CPU's int8 kernels (default: "
                 "fp32; with --front-of, the run's deploy.precision)")
      ->check(CLI::IsMember({"fp32", "int8"}));
  me->add_flag("--compare", o->compare,
               "With --front-of: time the front interleaved in many rounds (at least 60 passes in 12 "
               "rounds) and compare with the run's latencies: each member's old and new number, "
               "the rank agreement, and whether the front would change");
  me->add_option("--passes", o->passes_out,
                 "Also write every timed pass to this CSV (row, round, wall_ms, cpu_ms, kept): what "
                 "the estimates were made of");
  me->add_option("-o,--out", o->out, "CSV file to write")->required();
  me->callback([o] { RunCommand([o] { return Measure(*o); }); });

  auto* fit = sub->add_subcommand("fit", "Fit a model from measured latencies (a CSV taken anywhere)");
  SpaceOptions(fit, o.get());
  FitFlags(fit, o.get());
  fit->add_option("--data", o->data, "CSV with an architecture key column and a latency column (ms)")->required();
  fit->add_option("--key-column", o->key_column, "Column of architecture keys (NB201 strings, or keys from `space sample`)")->capture_default_str();
  fit->add_option("--latency-column", o->latency_column, "Column of latencies in ms")->capture_default_str();
  fit->add_option("--sample", o->sample_rows, "Fit on this many random rows only");
  fit->add_option("--rest-out", o->rest_out, "With --sample: write the other rows here (for eval)");
  fit->add_option("--seed", o->seed, "Seed of --sample and of the bootstrap")->capture_default_str();
  fit->add_option("--ops", o->ops, "Per-op table (CSV: op, latency_ms), e.g. calibrate's MODEL.ops.csv, "
                                   "used as the model's prior");
  fit->add_option("--prior", o->priors,
                  "A model of another device for the same space (repeatable): few-shot, its "
                  "predictions become features this device's measurements only have to relate to");
  fit->add_option("--precision", o->precision,
                  "fp32 | int8: which networks the measurements timed, recorded in the model (a search "
                  "with deploy.precision int8 needs an int8 model). Default: the kit's (kit.json beside "
                  "the data), else fp32")
      ->check(CLI::IsMember({"fp32", "int8"}));
  fit->add_option("-o,--out", o->out, "Model file to write")->required();
  fit->callback([o] { RunCommand([o] { return Fit(*o); }); });

  auto* kit = sub->add_subcommand("kit", "Export N architectures that cover the space, with a "
                                         "standalone runner, to measure latency on your own device");
  SpaceOptions(kit, o.get());
  kit->add_option("-n,--n", o->n, "Architectures to export (the measurements to take)")
      ->check(CLI::Range(5, 100000))->capture_default_str();
  kit->add_option("--pool", o->pool, "Candidates to choose from (the whole space when it is smaller)")
      ->check(CLI::Range(10, 10000000))->capture_default_str();
  kit->add_option("--seed", o->seed, "Seed of the pool and of the exported weights")->capture_default_str();
  kit->add_option("--select", o->select, "spread: cover the latency features (greedy k-centre); "
                                         "random: a uniform sample (e.g. to test a model on)")
      ->check(CLI::IsMember({"spread", "random"}))->capture_default_str();
  kit->add_flag("!--no-ops", o->kit_ops,
                "Leave out the per-op models (each operation configuration alone, timed into "
                "ops_latency.csv for `latency fit --ops`)");
  kit->add_option("--precision", o->precision,
                  "fp32 | int8: export the models (and per-op models) as int8, quantized as the deploy "
                  "stage does (QDQ ONNX, quantized TorchScript), to fit a device's int8 latency")
      ->check(CLI::IsMember({"fp32", "int8"}));
  kit->add_option("-o,--out", o->out, "Folder to write")->required();
  kit->callback([o] { RunCommand([o] { return Kit(*o); }); });

  auto* ev = sub->add_subcommand("eval", "Compare a model's predictions with measurements; writes a "
                                         "predicted-vs-measured SVG next to the model");
  ev->add_option("-m,--model", o->model, "Model file")->required();
  ev->add_option("--data", o->data, "CSV of measurements")->required();
  ev->add_option("--key-column", o->key_column, "Column of architecture keys")->capture_default_str();
  ev->add_option("--latency-column", o->latency_column, "Column of latencies in ms")->capture_default_str();
  ev->add_option("--plot", o->plot, "SVG to write (default MODEL.eval.svg)");
  ev->add_flag("--json", o->json, "Print one JSON object: n, within_5, within_10, spearman, kendall, mape");
  ev->callback([o] { RunCommand([o] { return Eval(*o); }); });

  auto* pr = sub->add_subcommand("predict", "Predicted latency (ms) and its spread for architectures");
  pr->add_option("-m,--model", o->model, "Model file")->required();
  pr->add_option("-a,--arch", o->archs, "Architecture key (repeatable)")->required();
  pr->add_flag("--json", o->json, "One JSON object per line");
  pr->callback([o] { RunCommand([o] { return Predict(*o); }); });
}

}  // namespace paretonas::experiments
