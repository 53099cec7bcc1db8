// The files of latency measurements taken anywhere: a CSV of architecture keys and milliseconds,
// and the kit it may come from (manifest.csv, kit.json). Torch-free (fuzzed).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "predictors/latency_model.h"
#include "space/search_space.h"

namespace paretonas::predictors {

/// Measured latencies read from a CSV: architecture key column and latency column (ms > 0).
struct MeasuredRows {
  std::vector<space::Genotype> archs;
  std::vector<std::string> keys;
  std::vector<double> ms;
};

MeasuredRows ReadMeasurements(const std::string& path, const space::SearchSpace& sp,
                              const std::string& key_column, const std::string& latency_column);

/// A kit's record of what it was exported for (kit.json, beside manifest.csv), if `data` sits in
/// a kit folder: its space reference and the keys of its models.
struct KitRecord {
  bool found = false;
  SpaceRef ref;
  std::set<std::string> keys;
  std::string dir;
  std::string precision = "fp32";  ///< kit.json's "precision" (`latency kit --precision`); fp32 before it
};

KitRecord ReadKitBeside(const std::string& data);

}  // namespace paretonas::predictors
