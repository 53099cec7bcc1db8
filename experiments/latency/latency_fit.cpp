// `paretonas latency fit`: a model from latencies measured anywhere (a CSV), with priors of other devices.
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
#include "space/csv_table.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace latency_cli {

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
        rest << CsvField(rows.keys[r]) << "," << Fmt(rows.ms[r], 10) << "\n";
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

}  // namespace latency_cli
}  // namespace paretonas::experiments
