// What the latency verbs share (latency_cli.h).
#include "experiments/latency/latency_cli.h"

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
namespace latency_cli {

evaluator::MeasureOptions AutoRounds() {
  evaluator::MeasureOptions m;
  m.rounds = 0;  // auto: see Timing
  return m;
}

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

std::string Fmt(double v, int digits) {
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
                            const std::vector<std::int64_t>& ids) {
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

predictors::LatencyModel LoadModel(const std::string& path) {
  try {
    return predictors::LatencyModel::Load(path);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
}


}  // namespace latency_cli
}  // namespace paretonas::experiments
