// What the parsers of the experiment file's sections share: range checks, metric lists,
// objectives and constraints, numbers as the resolved config prints them. Internal to experiments/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include "experiments/experiment_config.h"
#include "space/yaml_util.h"

namespace paretonas::experiments::config_parse {

// The field readers every section parser uses (they name file, line and field on a bad value).
using yamlutil::AsBool;
using yamlutil::AsDouble;
using yamlutil::AsInt;
using yamlutil::AsString;
using yamlutil::CheckKeys;
using yamlutil::Where;

/// A number as the resolved config writes it (12 significant digits).
std::string Fmt(double v);

/// Throws InputError naming `field` (at `node`'s line) when `v` is outside [lo, hi].
void CheckIn(const std::string& file, const std::string& field, const YAML::Node& node, double v,
             double lo, double hi);

/// One entry of `constraints`: 'metric <= number' or 'metric >= number' on a known metric.
/// Why no value of its metric can meet `c` (a latency <= 0, an accuracy >= 101, ...); "" when one can.
std::string ImpossibleConstraint(const search::Constraint& c);
search::Constraint ParseConstraint(const std::string& file, const YAML::Node& node);

/// "a, b, c".
std::string CommaList(const std::vector<std::string>& names);
std::string KnownMetricList();
std::string ProxyNameList();

/// Whether an evaluator reports `m` at the pre-screen (search.prescreen), without training: the
/// proxies and the static costs.
bool IsKnownBeforeTraining(const std::string& m);
std::string KnownBeforeTrainingList();

/// A list of {metric, goal} at `field`; `check` returns "" for an allowed metric, else why not.
std::vector<search::Objective> ParseObjectives(const std::string& file, const std::string& field,
                                               const YAML::Node& list,
                                               const std::function<std::string(const std::string&)>& check);

/// `path` as given when it exists from the working directory (or is absolute), else the same name
/// beside `file` when that exists, else `path`.
std::string BesideFile(const std::string& file, const std::string& path);

/// The metrics the objectives and constraints read.
std::vector<std::string> MetricsUsed(const ExperimentConfig& c);

// One parser per section of the experiment file, each given the whole file's `root` (a section
// may check its neighbours, e.g. fidelity against training.epochs) and filling `c`. They run in
// the order ParseExperiment calls them; each throws InputError naming file, line and field.

/// space: a preset, or a space file here or beside the experiment; space.set.
void ParseSpaceSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// dataset: the data, its split and normalisation; the user's own data resolved (shape, classes).
void ParseDatasetSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// training: the recipe.
void ParseTrainingSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// objectives (default: val_accuracy max, latency_ms min) and constraints.
void ParseGoalSections(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// search, with search.prescreen. Returns whether search.prescreen.features was given (even empty).
bool ParseSearchSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// evaluator: kind, workers, latency, table, command, proxies.
void ParseEvaluatorSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// What the evaluator's kind allows of the other sections (proxies, inheritance, the pre-screen,
/// the predictor), and what it fills in (the pre-screen's ranking, the proxies named elsewhere).
void CheckEvaluatorAgainstSections(const std::string& file, ExperimentConfig& c,
                                   bool prescreen_features_given);
/// fidelity: the rungs, checked against training.
void ParseFidelitySection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// deploy: precision (fp32 | int8) and the int8 calibration; after the evaluator section (int8
/// needs evaluator.kind train on the CPU), and int8_* metrics only with int8.
void ParseDeploySection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);
/// budget: max_evals, generations and seconds (not all 0).
void ParseBudgetSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c);

}  // namespace paretonas::experiments::config_parse
