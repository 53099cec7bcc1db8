// `paretonas latency calibrate`: a per-op table and random architectures timed on this machine, fitted.
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

#include "experiments/cli_common.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace latency_cli {

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

}  // namespace latency_cli
}  // namespace paretonas::experiments
