#include "evaluator/command_result.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <stdexcept>

namespace paretonas::evaluator {

std::string ParseCommandResult(const std::string& text, std::map<std::string, double>* metrics) {
  YAML::Node root;
  try {
    root = YAML::Load(text);  // JSON is YAML
  } catch (const YAML::Exception& e) {
    return "not valid JSON (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")";
  }
  if (!root.IsMap()) return "expected a JSON object like {\"metrics\": {\"val_accuracy\": 91.2}}";
  for (const auto& kv : root) {
    const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (k != "metrics" && k != "curve")
      return "unknown member '" + k + "' (allowed: metrics, curve)";
  }
  const YAML::Node m = root["metrics"];
  if (!m || !m.IsMap() || m.size() == 0)
    return "needs a non-empty object 'metrics' of numbers, e.g. {\"metrics\": {\"val_accuracy\": 91.2}}";
  for (const auto& kv : m) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    double v = 0;
    if (!kv.second.IsScalar()) return "metrics." + name + " is not a number";
    try {
      size_t used = 0;
      v = std::stod(kv.second.Scalar(), &used);
      if (used != kv.second.Scalar().size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      return "metrics." + name + ": '" + kv.second.Scalar() + "' is not a number";
    }
    if (!std::isfinite(v)) return "metrics." + name + " is " + kv.second.Scalar() + " (not finite)";
    (*metrics)[name] = v;
  }
  if (const YAML::Node c = root["curve"]; c && !c.IsSequence())
    return "'curve' must be a list of objects, one per epoch";
  return "";
}

}  // namespace paretonas::evaluator
