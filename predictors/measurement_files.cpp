#include "predictors/measurement_files.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>

#include "space/csv_table.h"
#include "space/input_error.h"

namespace paretonas::predictors {

MeasuredRows ReadMeasurements(const std::string& path, const space::SearchSpace& sp,
                              const std::string& key_column, const std::string& latency_column) {
  const CsvTable t = ReadCsv(path);
  const int kc = t.Column(path, key_column), lc = t.Column(path, latency_column);
  MeasuredRows m;
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const std::string where = path + ":" + std::to_string(t.row_lines[r]) + ": ";
    const auto& row = t.rows[r];
    if (static_cast<int>(row.size()) <= std::max(kc, lc))
      throw InputError(where + "row has " + std::to_string(row.size()) + " fields; the header has " +
                       std::to_string(t.header.size()));
    double v = 0;
    if (!ParseNumber(row[lc], &v) || !(v > 0))
      throw InputError(where + "column '" + latency_column + "': '" + row[lc] +
                       "' is not a latency; allowed: a number of milliseconds > 0");
    space::Genotype g;
    try {
      g = sp.ParseKey(row[kc]);
    } catch (const InputError& e) {
      throw InputError(where + "column '" + key_column + "': '" + row[kc] +
                       "' is not an architecture of space " + sp.name() + " (" + e.what() + ")");
    }
    m.archs.push_back(std::move(g));
    m.keys.push_back(row[kc]);
    m.ms.push_back(v);
  }
  if (m.archs.empty()) throw InputError(path + ": no data rows");
  return m;
}


KitRecord ReadKitBeside(const std::string& data) {
  KitRecord k;
  const std::size_t slash = data.find_last_of('/');
  k.dir = slash == std::string::npos ? "." : data.substr(0, slash);
  std::ifstream manifest(k.dir + "/manifest.csv");
  if (!manifest) return k;
  const CsvTable t = ReadCsv(k.dir + "/manifest.csv");
  const int kc = t.Column(k.dir + "/manifest.csv", "key");
  for (const auto& row : t.rows)
    if (static_cast<int>(row.size()) > kc) k.keys.insert(row[kc]);
  k.found = true;
  std::ifstream spec(k.dir + "/kit.json");
  if (!spec) return k;  // a kit from before kit.json: the keys only
  try {
    const YAML::Node j = YAML::Load(spec);  // JSON is YAML
    k.ref.name_or_path = j["space"].as<std::string>();
    for (const auto& kv : j["set"]) k.ref.overrides[kv.first.as<std::string>()] = kv.second.as<std::string>();
    k.ref.c = j["input"][0].as<int>(), k.ref.h = j["input"][1].as<int>(), k.ref.w = j["input"][2].as<int>();
    k.ref.classes = j["classes"].as<int>();
    if (j["precision"]) k.precision = j["precision"].as<std::string>();
  } catch (const YAML::Exception& e) {
    throw InputError(k.dir + "/kit.json: not the file `latency kit` wrote (" + e.msg + ")");
  }
  return k;
}

}  // namespace paretonas::predictors
