#include "experiments/config_sections.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "evaluator/dataset_info.h"
#include "search/proxy_names.h"
#include "space/input_error.h"
#include "space/yaml_util.h"

namespace paretonas::experiments::config_parse {

std::string Fmt(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

void CheckIn(const std::string& file, const std::string& field, const YAML::Node& node, double v,
             double lo, double hi) {
  if (v < lo || v > hi) {
    throw InputError(Where(file, node) + "field '" + field + "': " + Fmt(v) +
                     " is out of range [" + Fmt(lo) + ", " + Fmt(hi) + "]");
  }
}

search::Constraint ParseConstraint(const std::string& file, const YAML::Node& node) {
  static const std::regex kRe(R"(\s*([A-Za-z_][A-Za-z_0-9]*)\s*(<=|>=)\s*([-+0-9.eE]+)\s*)");
  const std::string text = AsString(file, "constraints[]", node);
  std::smatch m;
  double bound = 0;
  if (!std::regex_match(text, m, kRe) || !evaluator::ParseNumber(m[3], &bound)) {
    throw InputError(Where(file, node) + "field 'constraints': '" + text +
                     "' is not of the form 'metric <= number' or 'metric >= number'");
  }
  const auto& known = search::KnownMetrics();
  if (std::find(known.begin(), known.end(), m[1].str()) == known.end()) {
    std::string msg = Where(file, node) + "field 'constraints': unknown metric '" + m[1].str() + "'";
    const std::string close = yamlutil::ClosestWord(m[1], known);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    throw InputError(msg);
  }
  search::Constraint c{m[1], m[2] == "<=", bound};
  const std::string impossible = ImpossibleConstraint(c);
  if (!impossible.empty())
    throw InputError(Where(file, node) + "field 'constraints': '" + text + "' can never be met: " + impossible +
                     "; every trial would be infeasible and the search would spend its budget on no front");
  return c;
}

std::string ImpossibleConstraint(const search::Constraint& c) {
  static const std::vector<std::string> percent{"val_accuracy", "int8_val_accuracy", "val_error", "int8_val_error"};
  static const std::vector<std::string> positive{"latency_ms", "int8_latency_ms", "predicted_latency_ms",
                                                 "train_seconds", "proxy_seconds"};
  static const std::vector<std::string> counts{"params", "macs", "model_bytes", "activation_bytes",
                                               "peak_activation_bytes", "int8_model_bytes", "int8_peak_memory_bytes",
                                               "torchscript_bytes", "onnx_bytes", "int8_torchscript_bytes", "int8_onnx_bytes"};
  auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), c.metric) != v.end(); };
  if (in(percent)) {
    if (c.less_equal && c.bound < 0) return c.metric + " is a percentage, from 0 to 100";
    if (!c.less_equal && c.bound > 100) return c.metric + " is a percentage, from 0 to 100";
  } else if (in(positive)) {
    if (c.less_equal && c.bound <= 0) return c.metric + " is a time, above 0";
  } else if (in(counts)) {
    if (c.less_equal && c.bound < 0) return c.metric + " is a count of parameters, operations or bytes, 0 or more";
  }
  return "";
}

std::string CommaList(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& m : names) s += (s.empty() ? "" : ", ") + m;
  return s;
}

std::string KnownMetricList() { return CommaList(search::KnownMetrics()); }
std::string ProxyNameList() { return CommaList(search::ProxyNames()); }

namespace {
/// Metrics an evaluator reports at the pre-screen (search.prescreen), without training: the
/// proxies and these.
const std::vector<std::string> kStaticBeforeTraining{"params", "macs", "activation_bytes", "predicted_latency_ms"};
}  // namespace

bool IsKnownBeforeTraining(const std::string& m) {
  return search::IsProxyName(m) ||
         std::find(kStaticBeforeTraining.begin(), kStaticBeforeTraining.end(), m) != kStaticBeforeTraining.end();
}

std::string KnownBeforeTrainingList() { return ProxyNameList() + ", " + CommaList(kStaticBeforeTraining); }

std::vector<search::Objective> ParseObjectives(const std::string& file, const std::string& field,
                                               const YAML::Node& list,
                                               const std::function<std::string(const std::string&)>& check) {
  if (!list.IsSequence())
    throw InputError(Where(file, list) + "field '" + field + "': expected a list of {metric, goal}");
  std::vector<search::Objective> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    CheckKeys(file, f, list[i], {"metric", "goal"});
    if (!list[i]["metric"] || !list[i]["goal"])
      throw InputError(Where(file, list[i]) + "field '" + f + "': needs 'metric' and 'goal'");
    search::Objective o;
    o.metric = AsString(file, f + ".metric", list[i]["metric"]);
    const std::string why = check(o.metric);
    if (!why.empty())
      throw InputError(Where(file, list[i]["metric"]) + "field '" + f + ".metric': '" + o.metric + "' " + why);
    const std::string goal = AsString(file, f + ".goal", list[i]["goal"]);
    if (goal != "min" && goal != "max")
      throw InputError(Where(file, list[i]["goal"]) + "field '" + f + ".goal': '" + goal +
                       "' is not allowed; allowed: min, max");
    o.maximize = goal == "max";
    out.push_back(o);
  }
  return out;
}

std::vector<std::string> MetricsUsed(const ExperimentConfig& c) {
  std::vector<std::string> out;
  for (const auto& o : c.objectives) out.push_back(o.metric);
  for (const auto& k : c.constraints) out.push_back(k.metric);
  return out;
}

std::string BesideFile(const std::string& file, const std::string& path) {
  if (path.empty() || path[0] == '/' || std::ifstream(path).good()) return path;
  const size_t slash = file.find_last_of('/');
  if (slash == std::string::npos) return path;
  const std::string beside = file.substr(0, slash + 1) + path;
  return std::ifstream(beside).good() ? beside : path;
}

}  // namespace paretonas::experiments::config_parse
