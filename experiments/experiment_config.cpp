#include "experiments/experiment_config.h"

#include <sched.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "experiments/config_sections.h"
#include "space/input_error.h"
#include "space/search_space.h"
#include "space/yaml_util.h"

namespace paretonas::experiments {
namespace {

using yamlutil::AsDouble;
using yamlutil::AsString;
using yamlutil::CheckKeys;
using namespace config_parse;  // the section parsers

void ApplyOverride(YAML::Node root, const std::string& file, const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set '" + text + "': expected key=value, e.g. --set search.population=20");
  }
  const std::string path = text.substr(0, eq), value = text.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  const std::string where = "--set " + text + " (command line): ";
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    // name[k]: the k-th element of a list, e.g. --set objectives[1].metric=int8_latency_ms
    std::string name = parts[i];
    long index = -1;
    const size_t open = name.find('[');
    if (open != std::string::npos) {
      char* end = nullptr;
      index = std::strtol(name.c_str() + open + 1, &end, 10);
      if (name.back() != ']' || end != name.c_str() + name.size() - 1 || index < 0)
        throw InputError(where + "'" + name + "': a list element is name[index], e.g. objectives[1]");
      name = name.substr(0, open);
    }
    if (node[name] && !node[name].IsMap() && !(index >= 0 && node[name].IsSequence())) {
      throw InputError(where + "'" + name + "' is not a section" +
                       (node[name].IsSequence() ? "; it is a list: name its element, e.g. " + name + "[0]" : ""));
    }
    YAML::Node child = node[name];
    if (index >= 0) {
      if (!child.IsSequence())
        throw InputError(where + "'" + name + "' is not a list" + (child ? "" : " in " + file));
      if (static_cast<std::size_t>(index) >= child.size())
        throw InputError(where + "'" + name + "' has " + std::to_string(child.size()) + " element(s) (indices 0 to " +
                         std::to_string(static_cast<long>(child.size()) - 1) + ")");
      YAML::Node element = child[static_cast<std::size_t>(index)];
      child.reset(element);
    }
    node.reset(child);
  }
  if (parts.back().find('[') != std::string::npos)
    throw InputError(where + "'" + parts.back() + "': set a list whole (e.g. --set 'objectives=[...]') or a field of "
                     "one of its elements (objectives[1].metric=...)");
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw InputError("--set '" + text + "': value is not valid YAML: " + e.msg);
  }
  node[parts.back()] = parsed;
}

}  // namespace

namespace {
int OnlineCores() {
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}
}  // namespace

int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return OnlineCores();
  return std::max(1, std::min(OnlineCores(), CPU_COUNT(&set)));
}

int ExperimentConfig::ResolvedWorkers(int share) const {
  if (workers > 0) return workers;
  int cores = UsableCores();
  // Not pinned (all the machine's cores usable): share them with the other evaluating
  // processes here. Pinned (taskset, a cpuset, mpirun's --bind-to): the launcher already did.
  if (cores >= OnlineCores()) cores = std::max(1, cores / std::max(1, share));
  // On a GPU, small candidates leave it idle: several trainers share it, each on its own
  // stream (8 measured 2.7x one on an H200; see bench/RESULTS.md), one core each.
  if (evaluator_kind == "train" && training.device == "cuda") return std::min(8, std::max(1, cores));
  return cores;
}

ExperimentConfig LoadExperiment(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open experiment file");
  std::stringstream ss;
  ss << in.rdbuf();
  ExperimentConfig c = ParseExperiment(ss.str(), path, overrides);
  // A relative space file is looked up from the working directory, then beside the experiment.
  const auto presets = space::SearchSpace::PresetNames();
  const bool preset = std::find(presets.begin(), presets.end(), c.space) != presets.end();
  const auto slash = path.find_last_of('/');
  if (!preset && !c.space.empty() && c.space[0] != '/' && slash != std::string::npos &&
      !std::ifstream(c.space)) {
    const std::string beside = path.substr(0, slash + 1) + c.space;
    if (std::ifstream(beside)) c.space = beside;
  }
  return c;
}

namespace {
ExperimentConfig ParseExperimentImpl(const std::string& text, const std::string& file,
                                     const std::vector<std::string>& overrides);

/// How a user gave an override: --set key=value, or one of the verbs' own options that set it.
std::string OverrideLabel(const std::string& o) {
  const size_t eq = o.find('=');
  const std::string key = o.substr(0, eq), value = eq == std::string::npos ? "" : o.substr(eq + 1);
  static const std::map<std::string, std::string> flags{
      {"budget.max_evals", "--max-evals"}, {"budget.generations", "--generations"},
      {"budget.seconds", "--seconds"}, {"seed", "--seed"}};
  const auto it = flags.find(key);
  if (it != flags.end()) return it->second + " " + value + " (or --set " + o + ")";
  return "--set " + o;
}
}  // namespace

ExperimentConfig ParseExperiment(const std::string& text, const std::string& file,
                                 const std::vector<std::string>& overrides) {
  try {
    return ParseExperimentImpl(text, file, overrides);
  } catch (const YAML::Exception& e) {  // anything the field checks did not name
    throw InputError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const InputError& e) {
    // A value from the command line is not on a line of the file: name the override instead.
    const std::string what = e.what();
    for (const std::string& o : overrides) {
      const size_t eq = o.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = o.substr(0, eq);
      if (what.find("'" + key + "'") == std::string::npos && what.find(key + ":") == std::string::npos &&
          what.find(key + " ") == std::string::npos && what.find("(" + key + ")") == std::string::npos)
        continue;
      std::string rest = what;
      if (rest.rfind(file + ":", 0) == 0) {  // drop "file:line: "
        const size_t colon = rest.find(": ", file.size());
        if (colon != std::string::npos) rest = rest.substr(colon + 2);
      }
      throw InputError(OverrideLabel(o) + " (command line): " + rest);
    }
    // No override named in the message: the one without which the config is valid caused it
    // (e.g. --max-evals 0 with no generations: "field 'budget': ...").
    if (!overrides.empty() && what.rfind("--set ", 0) != 0) {
      for (std::size_t i = 0; i < overrides.size(); ++i) {
        std::vector<std::string> others = overrides;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
        try {
          ParseExperimentImpl(text, file, others);
        } catch (const std::exception&) {
          continue;
        }
        std::string rest = what;
        if (rest.rfind(file + ":", 0) == 0) {
          const size_t colon = rest.find(": ", file.size());
          if (colon != std::string::npos) rest = rest.substr(colon + 2);
        }
        throw InputError(OverrideLabel(overrides[i]) + " (command line): " + rest);
      }
    }
    throw;
  }
}

namespace {
ExperimentConfig ParseExperimentImpl(const std::string& text, const std::string& file,
                                     const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(yamlutil::MalformedYaml(file, text, e.mark, e.msg));
  }
  if (!root.IsMap()) throw InputError(file + ": an experiment file must be a YAML map of sections");
  for (const auto& o : overrides) ApplyOverride(root, file, o);
  CheckKeys(file, "", root,
            {"name", "seed", "space", "dataset", "training", "objectives", "constraints", "search",
             "fidelity", "evaluator", "deploy", "budget"});
  ExperimentConfig c;
  c.file = file;
  if (root["name"]) c.name = AsString(file, "name", root["name"]);
  if (root["seed"]) {
    const double s = AsDouble(file, "seed", root["seed"]);
    CheckIn(file, "seed", root["seed"], s, 0, 4294967295.0);
    c.seed = static_cast<std::uint64_t>(s);
  }

  ParseSpaceSection(file, root, c);
  ParseDatasetSection(file, root, c);
  ParseTrainingSection(file, root, c);
  ParseGoalSections(file, root, c);
  const bool prescreen_features_given = ParseSearchSection(file, root, c);
  ParseEvaluatorSection(file, root, c);
  CheckEvaluatorAgainstSections(file, c, prescreen_features_given);
  ParseDeploySection(file, root, c);
  ParseFidelitySection(file, root, c);
  ParseBudgetSection(file, root, c);
  return c;
}
}  // namespace

std::string ExperimentConfig::Hash() const {
  std::string text = ToYaml();
  const size_t budget = text.find("\nbudget:");
  if (budget != std::string::npos) text = text.substr(0, budget);
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : text) h = (h ^ ch) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {
void Flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, std::string>* out) {
  if (n.IsMap()) {
    for (const auto& kv : n)
      Flatten(kv.second, prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>(), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) Flatten(n[i], prefix + "[" + std::to_string(i) + "]", out);
    if (n.size() == 0) (*out)[prefix] = "[]";
  } else if (n.IsScalar()) {
    (*out)[prefix] = n.Scalar();
  }
}
}  // namespace

std::map<std::string, std::string> FlattenYaml(const std::string& text) {
  std::map<std::string, std::string> out;
  Flatten(YAML::Load(text), "", &out);
  return out;
}

}  // namespace paretonas::experiments
