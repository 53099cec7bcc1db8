// What the `paretonas latency` verbs share: their options and helpers. One file per verb:
// latency_calibrate.cpp, latency_measure.cpp, latency_fit.cpp, latency_eval.cpp (eval, predict),
// latency_kit.cpp; the command line in experiments/cmd_latency.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "evaluator/measure.h"
#include "predictors/latency_model.h"
#include "predictors/measurement_files.h"
#include "space/network_plan.h"
#include "space/search_space.h"

namespace paretonas::experiments::latency_cli {

/// Timing options whose rounds are chosen per verb (see Timing).
evaluator::MeasureOptions AutoRounds();

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

// The verbs: each returns the process's exit code.
int Calibrate(const LatencyOptions& o);
int Measure(const LatencyOptions& o);
int Fit(const LatencyOptions& o);
int Eval(const LatencyOptions& o);
int Predict(const LatencyOptions& o);
int Kit(const LatencyOptions& o);

predictors::SpaceRef SpaceRefOf(const LatencyOptions& o);

/// What differs between the space and input `theirs` was sized for and `ours` ("" when nothing):
/// "space 'a' vs 'b'", "space.set channels: 8 vs 16 (--set channels=8)", "input 1x28x28 vs 3x32x32".
std::string SpaceRefDifference(const predictors::SpaceRef& theirs, const predictors::SpaceRef& ours);

/// A per-op table (columns op, latency_ms): `calibrate`'s MODEL.ops.csv, or one measured on
/// another device with the same operation keys.
predictors::OpTable ReadOpTable(const std::string& path);

std::string Fmt(double v, int digits = 4);

/// Random distinct architectures (by key) of the space.
std::vector<space::Genotype> DistinctSample(const space::SearchSpace& sp, int n, std::uint64_t seed);

/// The measurement options with `--rounds` resolved: by default 5 interleaved rounds (at most one
/// per timed pass). Here a mobilenet model calibrated that way was within ±10% of 99.5-100% of
/// fresh measurements, against 87.5-94.5% with each architecture timed back to back
/// (bench/RESULTS.md § Latency predictor, on this machine).
evaluator::MeasureOptions Timing(evaluator::MeasureOptions m);

/// A progress line (percent done, ETA) on stderr for MeasureArchitectures/MeasureOperations.
evaluator::MeasureProgress ProgressLineFor(const char* what);

/// With `ids` (the trials of a run), a first column trial_id matches each row to its trial. Every
/// row carries its error: the 95% interval of the median, the passes kept and discarded
/// (descheduled), and whether the interval ended wider than the target (noisy).
std::string MeasurementsCsv(const space::SearchSpace& sp, const std::vector<space::Genotype>& archs,
                            const std::vector<evaluator::Measured>& m,
                            const std::vector<std::int64_t>& ids = {});

/// Every timed pass (`measure --passes FILE`): row (0-based, as in the CSV), round, wall and
/// CPU milliseconds, and whether it counted.
void WritePasses(const std::string& path, const std::vector<std::vector<evaluator::Pass>>& passes,
                 const evaluator::TimingPolicy& policy);

/// Says on stderr which rows are noisy or had passes discarded (NoiseSummary, then the first
/// rows by their key), so that a user does not fit a model on numbers the machine decided.
void WarnNoise(const space::SearchSpace& sp, const std::vector<space::Genotype>& archs,
               const std::vector<evaluator::Measured>& m, double target, const std::string& what);

std::string Describe(const evaluator::MeasureOptions& mo);

void PrintModel(const predictors::LatencyModel& m, const std::string& path);

/// Every operation configuration (OpConfigKey, `none` left out) that `archs` and 4000 random
/// architectures (seed `seed`) use: the per-op table of `calibrate` and of the kit.
std::map<std::string, space::PlanEdge> OperationConfigs(const space::SearchSpace& sp,
                                                        const std::vector<space::Genotype>& archs,
                                                        std::uint64_t seed);

/// A latency model file, with its errors named (a model of another space, precision...).
predictors::LatencyModel LoadModel(const std::string& path);

}  // namespace paretonas::experiments::latency_cli
