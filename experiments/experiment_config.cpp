#include "experiments/experiment_config.h"

#include <sched.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "evaluator/user_data.h"
#include "search/proxy_names.h"
#include "space/input_error.h"
#include "space/yaml_util.h"

namespace paretonas::experiments {
namespace {

using yamlutil::AsBool;
using yamlutil::AsDouble;
using yamlutil::AsInt;
using yamlutil::AsString;
using yamlutil::CheckKeys;
using yamlutil::Where;

void ApplyOverride(YAML::Node root, const std::string& file, const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set '" + text + "': expected key=value, e.g. --set search.population=20");
  }
  const std::string path = text.substr(0, eq), value = text.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (node[parts[i]] && !node[parts[i]].IsMap()) {
      throw InputError(file + ": --set " + text + ": '" + parts[i] + "' is not a section");
    }
    YAML::Node child = node[parts[i]];
    node.reset(child);
  }
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw InputError("--set '" + text + "': value is not valid YAML: " + e.msg);
  }
  node[parts.back()] = parsed;
}

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
  return {m[1], m[2] == "<=", bound};
}

/// "a, b, c".
std::string CommaList(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& m : names) s += (s.empty() ? "" : ", ") + m;
  return s;
}

std::string KnownMetricList() { return CommaList(search::KnownMetrics()); }
std::string ProxyNameList() { return CommaList(search::ProxyNames()); }

/// Metrics an evaluator reports at the pre-screen (search.prescreen), without training: the
/// proxies and these.
const std::vector<std::string> kStaticBeforeTraining{"params", "macs", "activation_bytes", "predicted_latency_ms"};

bool IsKnownBeforeTraining(const std::string& m) {
  return search::IsProxyName(m) ||
         std::find(kStaticBeforeTraining.begin(), kStaticBeforeTraining.end(), m) != kStaticBeforeTraining.end();
}

std::string KnownBeforeTrainingList() { return ProxyNameList() + ", " + CommaList(kStaticBeforeTraining); }

/// A list of {metric, goal} at `field`; `check` returns "" for an allowed metric, else why not.
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

/// The metrics the objectives and constraints read.
std::vector<std::string> MetricsUsed(const ExperimentConfig& c) {
  std::vector<std::string> out;
  for (const auto& o : c.objectives) out.push_back(o.metric);
  for (const auto& k : c.constraints) out.push_back(k.metric);
  return out;
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
          what.find(key + " ") == std::string::npos)
        continue;
      std::string rest = what;
      if (rest.rfind(file + ":", 0) == 0) {  // drop "file:line: "
        const size_t colon = rest.find(": ", file.size());
        if (colon != std::string::npos) rest = rest.substr(colon + 2);
      }
      throw InputError("--set " + o + " (command line): " + rest);
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
    throw InputError(file + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) throw InputError(file + ": an experiment file must be a YAML map of sections");
  for (const auto& o : overrides) ApplyOverride(root, file, o);
  CheckKeys(file, "", root,
            {"name", "seed", "space", "dataset", "training", "objectives", "constraints", "search",
             "fidelity", "evaluator", "budget"});
  ExperimentConfig c;
  bool prescreen_features_given = false;  // search.prescreen.features, even empty
  c.file = file;
  if (root["name"]) c.name = AsString(file, "name", root["name"]);
  if (root["seed"]) {
    const double s = AsDouble(file, "seed", root["seed"]);
    CheckIn(file, "seed", root["seed"], s, 0, 4294967295.0);
    c.seed = static_cast<std::uint64_t>(s);
  }

  // A preset, or a space file here or beside the experiment: else say so with the line.
  auto check_space = [&](const YAML::Node& where) {
    const auto presets = space::SearchSpace::PresetNames();
    const size_t slash = file.find_last_of('/');
    const bool found = std::find(presets.begin(), presets.end(), c.space) != presets.end() ||
                       std::ifstream(c.space).good() ||
                       (slash != std::string::npos && std::ifstream(file.substr(0, slash + 1) + c.space).good());
    if (found) return;
    std::string names;
    for (const auto& n : presets) names += (names.empty() ? "" : ", ") + n;
    std::string msg = Where(file, where) + "field 'space.name': '" + c.space + "' is not a preset (" +
                      names + ") and no such space file";
    const std::string close = yamlutil::ClosestWord(c.space, presets);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    throw InputError(msg);
  };
  if (const YAML::Node sp = root["space"]) {
    if (sp.IsScalar()) {
      c.space = AsString(file, "space", sp);
      check_space(sp);
    } else {
      CheckKeys(file, "space", sp, {"name", "set"});
      if (sp["name"]) {
        c.space = AsString(file, "space.name", sp["name"]);
        check_space(sp["name"]);
      }
      if (const YAML::Node set = sp["set"]) {
        if (!set.IsMap()) throw InputError(Where(file, set) + "field 'space.set': expected a map");
        for (const auto& kv : set)
          c.space_set[yamlutil::KeyName(file, kv.first)] =
              AsString(file, "space.set." + yamlutil::KeyName(file, kv.first), kv.second);
      }
    }
  }

  if (const YAML::Node d = root["dataset"]) {
    CheckKeys(file, "dataset", d,
              {"name", "path", "validation", "train_subset", "split_seed", "augment",
               "synthetic_train", "synthetic_test", "synthetic_size", "synthetic_channels",
               "synthetic_classes", "train_images", "train_labels", "test_images",
               "test_labels", "layout", "size", "channels", "skip_unreadable", "cache_dir",
               "max_memory_mb", "mean", "std", "pixel_max", "classes", "class_names", "input"});
    auto& o = c.dataset;
    if (d["name"]) o.name = AsString(file, "dataset.name", d["name"]);
    if (d["path"]) o.path = AsString(file, "dataset.path", d["path"]);
    if (d["validation"]) o.validation = AsInt(file, "dataset.validation", d["validation"]);
    if (d["train_subset"]) o.train_subset = AsInt(file, "dataset.train_subset", d["train_subset"]);
    if (d["split_seed"]) o.split_seed = AsInt(file, "dataset.split_seed", d["split_seed"]);
    if (d["augment"]) o.augment = AsBool(file, "dataset.augment", d["augment"]);
    if (d["synthetic_train"]) o.synthetic_train = AsInt(file, "dataset.synthetic_train", d["synthetic_train"]);
    if (d["synthetic_test"]) o.synthetic_test = AsInt(file, "dataset.synthetic_test", d["synthetic_test"]);
    if (d["synthetic_size"]) o.synthetic_size = AsInt(file, "dataset.synthetic_size", d["synthetic_size"]);
    if (d["synthetic_channels"]) o.synthetic_channels = AsInt(file, "dataset.synthetic_channels", d["synthetic_channels"]);
    if (d["synthetic_classes"]) o.synthetic_classes = AsInt(file, "dataset.synthetic_classes", d["synthetic_classes"]);
    for (auto [key, field] : {std::pair{"train_images", &o.train_images},
                              {"train_labels", &o.train_labels}, {"test_images", &o.test_images},
                              {"test_labels", &o.test_labels}, {"layout", &o.layout},
                              {"cache_dir", &o.cache_dir}})
      if (d[key]) *field = AsString(file, std::string("dataset.") + key, d[key]);
    if (d["size"]) o.size = AsInt(file, "dataset.size", d["size"]);
    if (d["channels"]) o.channels = AsInt(file, "dataset.channels", d["channels"]);
    if (d["skip_unreadable"]) o.skip_unreadable = AsBool(file, "dataset.skip_unreadable", d["skip_unreadable"]);
    if (d["max_memory_mb"]) o.max_memory_mb = AsInt(file, "dataset.max_memory_mb", d["max_memory_mb"]);
    if (d["classes"]) o.classes = AsInt(file, "dataset.classes", d["classes"]);
    if (d["pixel_max"]) o.pixel_max = AsDouble(file, "dataset.pixel_max", d["pixel_max"]);
    if (const YAML::Node in = d["input"]) {  // recorded by the resolved config: C, H, W
      const std::vector<int> chw = yamlutil::AsIntList(file, "dataset.input", in);
      if (chw.size() != 3 || chw[0] < 1 || chw[1] < 1 || chw[2] < 1 || chw[0] > 4 || chw[1] > 4096 || chw[2] > 4096)
        throw InputError(Where(file, in) + "field 'dataset.input': expected [C, H, W] (C 1..4, H and W 1..4096), "
                         "as the resolved config records it");
      o.input_c = chw[0], o.input_h = chw[1], o.input_w = chw[2];
    }
    for (auto [key, field] : {std::pair{"mean", &o.mean}, {"std", &o.std}}) {
      if (!d[key]) continue;
      const YAML::Node list = d[key];
      if (!list.IsSequence() || list.size() == 0)
        throw InputError(Where(file, list) + "field 'dataset." + key +
                         "': expected a list of numbers, one per channel, e.g. [0.5]");
      for (size_t i = 0; i < list.size(); ++i)
        field->push_back(AsDouble(file, std::string("dataset.") + key + "[" + std::to_string(i) + "]", list[i]));
    }
    if (const YAML::Node names = d["class_names"]) {
      if (!names.IsSequence())
        throw InputError(Where(file, names) + "field 'dataset.class_names': expected a list of names");
      for (size_t i = 0; i < names.size(); ++i)
        o.class_names.push_back(AsString(file, "dataset.class_names[" + std::to_string(i) + "]", names[i]));
    }
    // Like a space file: a relative data path is looked up from the working directory, then
    // beside the experiment file.
    const size_t slash = file.find_last_of('/');
    for (std::string* p : {&o.path, &o.train_images, &o.train_labels, &o.test_images, &o.test_labels}) {
      if (p->empty() || (*p)[0] == '/' || slash == std::string::npos || std::ifstream(*p)) continue;
      const std::string beside = file.substr(0, slash + 1) + *p;
      struct stat st {};
      if (::stat(beside.c_str(), &st) == 0) *p = beside;
    }
    const std::string bad = o.Validate();
    if (!bad.empty()) throw InputError(Where(file, d) + bad);
    // The user's data decides the input shape, the classes and (unless given) the normalisation;
    // they are resolved here so that `validate` prints them and the run directory records them.
    try {
      evaluator::ResolveUserData(&o);
    } catch (const InputError& e) {
      throw InputError(Where(file, d) + "dataset: " + e.what());
    }
  }

  if (const YAML::Node t = root["training"]) {
    CheckKeys(file, "training", t,
              {"epochs", "steps", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
               "label_smoothing", "layout", "rung_bn_batches", "rung_validation", "cuda_graphs",
               "precision"});
    auto& o = c.training;
    if (t["epochs"]) o.epochs = AsInt(file, "training.epochs", t["epochs"]);
    if (t["steps"]) o.steps = AsInt(file, "training.steps", t["steps"]);
    if (t["batch_size"]) o.batch_size = AsInt(file, "training.batch_size", t["batch_size"]);
    if (t["optimizer"]) o.optimizer = AsString(file, "training.optimizer", t["optimizer"]);
    if (t["lr"]) o.lr = AsDouble(file, "training.lr", t["lr"]);
    if (t["momentum"]) o.momentum = AsDouble(file, "training.momentum", t["momentum"]);
    if (t["weight_decay"]) o.weight_decay = AsDouble(file, "training.weight_decay", t["weight_decay"]);
    if (t["label_smoothing"]) o.label_smoothing = AsDouble(file, "training.label_smoothing", t["label_smoothing"]);
    if (t["rung_bn_batches"]) {
      o.rung_bn_batches = AsInt(file, "training.rung_bn_batches", t["rung_bn_batches"]);
      CheckIn(file, "training.rung_bn_batches", t["rung_bn_batches"], o.rung_bn_batches, 0, 100000);
    }
    if (t["rung_validation"]) {
      o.rung_validation = AsInt(file, "training.rung_validation", t["rung_validation"]);
      CheckIn(file, "training.rung_validation", t["rung_validation"], o.rung_validation, 0, 100000000);
    }
    if (t["layout"]) o.layout = AsString(file, "training.layout", t["layout"]);
    if (t["cuda_graphs"]) {
      o.cuda_graphs = AsString(file, "training.cuda_graphs", t["cuda_graphs"]);
      if (o.cuda_graphs == "true") o.cuda_graphs = "on";  // YAML's booleans read as on / off
      if (o.cuda_graphs == "false") o.cuda_graphs = "off";
    }
    if (t["precision"]) o.precision = AsString(file, "training.precision", t["precision"]);
  }

  if (const YAML::Node obj = root["objectives"]) {
    c.objectives = ParseObjectives(file, "objectives", obj, [&](const std::string& metric) -> std::string {
      const auto& known = search::KnownMetrics();
      if (std::find(known.begin(), known.end(), metric) != known.end()) return "";
      std::string msg = "is unknown";
      const std::string close = yamlutil::ClosestWord(metric, known);
      if (!close.empty()) msg += "; did you mean '" + close + "'?";
      return msg + " (allowed: " + KnownMetricList() + ")";
    });
  }
  if (c.objectives.empty()) {
    c.objectives = {{"val_accuracy", true}, {"latency_ms", false}};
  }
  if (c.objectives.size() < 2 || c.objectives.size() > 8) {
    throw InputError(Where(file, root["objectives"]) + "field 'objectives': " +
                     std::to_string(c.objectives.size()) +
                     " objectives given; a multi-objective search needs 2 to 8");
  }
  for (size_t i = 0; i < c.objectives.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (c.objectives[i].metric == c.objectives[j].metric)
        throw InputError(Where(file, root["objectives"]) + "field 'objectives': metric '" +
                         c.objectives[i].metric + "' appears twice");

  if (const YAML::Node con = root["constraints"]) {
    if (!con.IsSequence())
      throw InputError(Where(file, con) + "field 'constraints': expected a list like ['params <= 100000']");
    for (size_t i = 0; i < con.size(); ++i) c.constraints.push_back(ParseConstraint(file, con[i]));
  }

  if (const YAML::Node s = root["search"]) {
    CheckKeys(file, "search", s,
              {"strategy", "population", "batch", "crossover_prob", "mutation_rate",
               "sample_size", "reject_disconnected", "max_tries", "dedup", "sampler", "mutation",
               "crossover", "surrogate", "surrogate_pool", "surrogate_kappa",
               "surrogate_fraction", "remeasure_front", "remeasure_margin", "remeasure_after",
               "prescreen", "inherit_weights"});
    if (s["inherit_weights"]) c.inherit_weights = AsBool(file, "search.inherit_weights", s["inherit_weights"]);
    auto& o = c.search;
    if (const YAML::Node ps = s["prescreen"]) {
      CheckKeys(file, "search.prescreen", ps, {"keep", "by", "features", "kappa"});
      if (!ps["keep"])
        throw InputError(Where(file, ps) + "field 'search.prescreen': needs keep (how many of a "
                         "generation's proposals go on to training)");
      c.prescreen.keep = AsInt(file, "search.prescreen.keep", ps["keep"]);
      CheckIn(file, "search.prescreen.keep", ps["keep"], c.prescreen.keep, 1, 1000000);
      const YAML::Node by = ps["by"];
      c.prescreen.surrogate = by && by.IsScalar() && by.Scalar() == "surrogate";
      for (const char* key : {"features", "kappa"})
        if (ps[key] && !c.prescreen.surrogate)
          throw InputError(Where(file, ps[key]) + "field 'search.prescreen." + key +
                           "': only with search.prescreen.by: surrogate");
      if (const YAML::Node f = ps["features"]) {
        prescreen_features_given = true;
        if (!f.IsSequence())
          throw InputError(Where(file, f) + "field 'search.prescreen.features': expected a list of metrics, e.g. [synflow]");
        for (size_t i = 0; i < f.size(); ++i) {
          const std::string field = "search.prescreen.features[" + std::to_string(i) + "]";
          const std::string m = AsString(file, field, f[i]);
          if (!IsKnownBeforeTraining(m))
            throw InputError(Where(file, f[i]) + "field '" + field + "': '" + m + "' is not known before "
                             "training (allowed: " + KnownBeforeTrainingList() + ")");
          c.prescreen.features.push_back(m);
        }
      }
      if (ps["kappa"]) {
        c.prescreen.kappa = AsDouble(file, "search.prescreen.kappa", ps["kappa"]);
        CheckIn(file, "search.prescreen.kappa", ps["kappa"], c.prescreen.kappa, 0, 100);
      }
      if (by && !c.prescreen.surrogate) {
        if (by.IsScalar())
          throw InputError(Where(file, by) + "field 'search.prescreen.by': '" + by.Scalar() +
                           "' is not allowed; give surrogate or a list of {metric, goal}");
        c.prescreen.by = ParseObjectives(file, "search.prescreen.by", by, [](const std::string& metric) {
          return IsKnownBeforeTraining(metric) ? std::string()
                                               : "is not known before training (allowed: " + KnownBeforeTrainingList() + ")";
        });
        if (c.prescreen.by.empty())
          throw InputError(Where(file, by) + "field 'search.prescreen.by': expected a list of {metric, goal}");
      }
    }
    if (s["strategy"]) o.name = AsString(file, "search.strategy", s["strategy"]);
    if (s["population"]) o.population = AsInt(file, "search.population", s["population"]);
    if (s["batch"]) o.batch = AsInt(file, "search.batch", s["batch"]);
    if (s["crossover_prob"]) o.crossover_prob = AsDouble(file, "search.crossover_prob", s["crossover_prob"]);
    if (s["mutation_rate"]) o.mutation_rate = AsDouble(file, "search.mutation_rate", s["mutation_rate"]);
    if (s["sample_size"]) o.sample_size = AsInt(file, "search.sample_size", s["sample_size"]);
    if (s["reject_disconnected"]) o.reject_disconnected = AsBool(file, "search.reject_disconnected", s["reject_disconnected"]);
    if (s["max_tries"]) o.max_tries = AsInt(file, "search.max_tries", s["max_tries"]);
    if (s["dedup"]) o.dedup = AsString(file, "search.dedup", s["dedup"]);
    if (s["sampler"]) o.sampler = AsString(file, "search.sampler", s["sampler"]);
    if (s["mutation"]) o.mutation = AsString(file, "search.mutation", s["mutation"]);
    if (s["crossover"]) o.crossover = AsString(file, "search.crossover", s["crossover"]);
    if (s["surrogate"]) o.surrogate = AsBool(file, "search.surrogate", s["surrogate"]);
    if (s["surrogate_pool"]) o.surrogate_pool = AsInt(file, "search.surrogate_pool", s["surrogate_pool"]);
    if (s["surrogate_kappa"]) o.surrogate_kappa = AsDouble(file, "search.surrogate_kappa", s["surrogate_kappa"]);
    if (s["surrogate_fraction"]) o.surrogate_fraction = AsDouble(file, "search.surrogate_fraction", s["surrogate_fraction"]);
    if (s["remeasure_front"]) o.remeasure_front = AsBool(file, "search.remeasure_front", s["remeasure_front"]);
    if (s["remeasure_margin"]) o.remeasure_margin = AsDouble(file, "search.remeasure_margin", s["remeasure_margin"]);
    if (s["remeasure_after"]) o.remeasure_after = AsInt(file, "search.remeasure_after", s["remeasure_after"]);
    for (const char* key : {"remeasure_margin", "remeasure_after"})
      if (s[key] && !o.remeasure_front)
        throw InputError(Where(file, s[key]) + "search." + key +
                         ": has no effect unless search.remeasure_front is true");
    if (!s["sample_size"]) o.sample_size = std::min(o.sample_size, std::max(2, o.population));
    const std::string bad = o.Validate();
    if (!bad.empty()) throw InputError(Where(file, s) + bad);
  }

  if (const YAML::Node e = root["evaluator"]) {
    CheckKeys(file, "evaluator", e,
              {"kind", "workers", "threads_per_worker", "device", "cache", "max_params",
               "max_macs", "max_activation_bytes", "latency", "table", "command",
               "command_timeout", "proxies", "proxy_batch"});
    if (e["kind"]) c.evaluator_kind = AsString(file, "evaluator.kind", e["kind"]);
    if (c.evaluator_kind != "train" && c.evaluator_kind != "table" && c.evaluator_kind != "command")
      throw InputError(Where(file, e["kind"]) + "field 'evaluator.kind': '" + c.evaluator_kind +
                       "' is not allowed; allowed: train, table, command");
    if (e["command"]) c.command = AsString(file, "evaluator.command", e["command"]);
    if (e["command_timeout"]) {
      c.command_timeout = AsDouble(file, "evaluator.command_timeout", e["command_timeout"]);
      CheckIn(file, "evaluator.command_timeout", e["command_timeout"], c.command_timeout, 0, 1e7);
    }
    for (const char* key : {"command", "command_timeout"})
      if (e[key] && c.evaluator_kind != "command")
        throw InputError(Where(file, e[key]) + "field 'evaluator." + key +
                         "': only for evaluator.kind: command (this one is '" + c.evaluator_kind + "')");
    if (c.evaluator_kind == "command" && c.command.find_first_not_of(" \t") == std::string::npos)
      throw InputError(Where(file, e) + "field 'evaluator.command': evaluator.kind: command needs "
                       "the command line that trains one candidate, e.g. 'python3 train.py' (it "
                       "gets the request file's path as its last argument)");
    if (e["workers"]) {
      if (e["workers"].IsScalar() && e["workers"].Scalar() == "auto") {
        c.workers = 0;
      } else {
        c.workers = AsInt(file, "evaluator.workers", e["workers"]);
        CheckIn(file, "evaluator.workers", e["workers"], c.workers, 1, 1024);
      }
    }
    auto& t = c.training;
    if (e["threads_per_worker"]) t.threads_per_worker = AsInt(file, "evaluator.threads_per_worker", e["threads_per_worker"]);
    if (e["device"]) t.device = AsString(file, "evaluator.device", e["device"]);
    if (e["cache"]) c.cache = AsBool(file, "evaluator.cache", e["cache"]);
    if (e["max_params"]) t.max_params = static_cast<std::int64_t>(AsDouble(file, "evaluator.max_params", e["max_params"]));
    if (e["max_macs"]) t.max_macs = static_cast<std::int64_t>(AsDouble(file, "evaluator.max_macs", e["max_macs"]));
    if (e["max_activation_bytes"]) t.max_activation_bytes = static_cast<std::int64_t>(AsDouble(file, "evaluator.max_activation_bytes", e["max_activation_bytes"]));
    if (const YAML::Node px = e["proxies"]) {
      if (!px.IsSequence())
        throw InputError(Where(file, px) + "field 'evaluator.proxies': expected a list of zero-cost "
                         "proxies, e.g. [synflow, naswot] (allowed: " + ProxyNameList() + ")");
      for (size_t i = 0; i < px.size(); ++i) {
        const std::string name = AsString(file, "evaluator.proxies[" + std::to_string(i) + "]", px[i]);
        if (!search::IsProxyName(name)) {
          std::string msg = Where(file, px[i]) + "field 'evaluator.proxies[" + std::to_string(i) +
                            "]': '" + name + "' is unknown";
          const std::string close = yamlutil::ClosestWord(name, search::ProxyNames());
          if (!close.empty()) msg += "; did you mean '" + close + "'?";
          throw InputError(msg + " (allowed: " + ProxyNameList() + ")");
        }
        if (std::find(t.proxies.begin(), t.proxies.end(), name) == t.proxies.end()) t.proxies.push_back(name);
      }
    }
    if (e["proxy_batch"]) {
      t.proxy_batch = AsInt(file, "evaluator.proxy_batch", e["proxy_batch"]);
      CheckIn(file, "evaluator.proxy_batch", e["proxy_batch"], t.proxy_batch, 2, 4096);
    }
    if (const YAML::Node l = e["latency"]) {
      CheckKeys(file, "evaluator.latency", l, {"measure", "threads", "warmup", "repeats", "predictor", "online"});
      if (l["predictor"]) c.latency_predictor = AsString(file, "evaluator.latency.predictor", l["predictor"]);
      if (l["online"]) c.latency_online = AsBool(file, "evaluator.latency.online", l["online"]);
      if (c.latency_online && c.latency_predictor.empty())
        throw InputError(Where(file, l) + "field 'evaluator.latency.online': true needs "
                         "evaluator.latency.predictor (a model file of `paretonas latency`)");
      if (l["measure"]) t.measure_latency = AsBool(file, "evaluator.latency.measure", l["measure"]);
      if (l["threads"]) t.latency_threads = AsInt(file, "evaluator.latency.threads", l["threads"]);
      if (l["warmup"]) t.latency_warmup = AsInt(file, "evaluator.latency.warmup", l["warmup"]);
      if (l["repeats"]) t.latency_repeats = AsInt(file, "evaluator.latency.repeats", l["repeats"]);
    }
    if (const YAML::Node tb = e["table"]) {
      CheckKeys(file, "evaluator.table", tb,
                {"path", "key_column", "accuracy_column", "latency_column", "simulated_cost_ms"});
      auto& o = c.table;
      if (tb["path"]) o.path = AsString(file, "evaluator.table.path", tb["path"]);
      if (tb["key_column"]) o.key_column = AsString(file, "evaluator.table.key_column", tb["key_column"]);
      if (tb["accuracy_column"]) o.accuracy_column = AsString(file, "evaluator.table.accuracy_column", tb["accuracy_column"]);
      if (tb["latency_column"]) o.latency_column = AsString(file, "evaluator.table.latency_column", tb["latency_column"]);
      if (tb["simulated_cost_ms"]) o.simulated_cost_ms = AsDouble(file, "evaluator.table.simulated_cost_ms", tb["simulated_cost_ms"]);
    }
    if (c.evaluator_kind == "table") {
      const std::string bad = c.table.Validate();
      if (!bad.empty()) throw InputError(Where(file, e) + bad);
    }
  }
  if (!c.training.proxies.empty() && c.evaluator_kind != "train")
    throw InputError(file + ": field 'evaluator.proxies': zero-cost proxies are computed by "
                     "evaluator.kind: train only; " +
                     (c.evaluator_kind == "table"
                          ? "a table evaluator reports a column named like a proxy as that metric"
                          : "a command evaluator can report them itself in its metrics") +
                     " (this one is '" + c.evaluator_kind + "')");
  if (c.inherit_weights && c.evaluator_kind != "train")
    throw InputError(file + ": field 'search.inherit_weights': needs evaluator.kind: train (this one "
                     "is '" + c.evaluator_kind + "'); the evaluator starts a child from its parents' weights");
  if (c.prescreen.enabled()) {
    if (c.evaluator_kind == "command")
      throw InputError(file + ": field 'search.prescreen': needs an evaluator that scores without "
                       "training (evaluator.kind: train or table; this one is 'command')");
    const int proposals = c.search.batch > 0 ? c.search.batch : c.search.population;
    if (c.prescreen.keep >= proposals)
      throw InputError(file + ": field 'search.prescreen.keep': " + std::to_string(c.prescreen.keep) +
                       " must be less than the proposals of a generation (search.batch, or "
                       "search.population when batch is 0: " + std::to_string(proposals) +
                       "); raise search.batch to screen more than you train");
    if (c.prescreen.surrogate) {
      if (!prescreen_features_given) c.prescreen.features = c.training.proxies;
    } else if (c.prescreen.by.empty()) {  // the proxies (higher is better) and the static-cost objectives
      for (const auto& p : c.training.proxies) c.prescreen.by.push_back({p, true});
      for (const auto& o : c.objectives)
        if (IsKnownBeforeTraining(o.metric)) c.prescreen.by.push_back(o);
    }
    if (c.prescreen.by.empty() && !c.prescreen.surrogate)
      throw InputError(file + ": field 'search.prescreen.by': nothing to rank on; list zero-cost "
                       "proxies in evaluator.proxies or give by: [{metric, goal}] (" + KnownBeforeTrainingList() + ")");
  }
  // A proxy named by an objective, a constraint or the pre-screen is computed without being
  // listed as well.
  if (c.evaluator_kind == "train") {
    std::vector<std::string> used = MetricsUsed(c);
    for (const auto& o : c.prescreen.by) used.push_back(o.metric);
    for (const auto& f : c.prescreen.features) used.push_back(f);
    for (const auto& m : used) {
      auto& px = c.training.proxies;
      if (search::IsProxyName(m) && std::find(px.begin(), px.end(), m) == px.end()) px.push_back(m);
    }
  }
  if (c.evaluator_kind == "train" || c.evaluator_kind == "command") {
    const std::string bad = c.training.Validate();
    if (!bad.empty()) throw InputError(file + ": " + bad);
    if (c.latency_online && !c.training.measure_latency)
      throw InputError(file + ": field 'evaluator.latency.online': true needs measured latencies "
                       "to learn from; set evaluator.latency.measure: true");
  }
  if (c.latency_predictor.empty()) {
    const std::vector<std::string> used = MetricsUsed(c);
    if (std::find(used.begin(), used.end(), "predicted_latency_ms") != used.end())
      throw InputError(file + ": metric 'predicted_latency_ms' needs evaluator.latency.predictor "
                       "(a model file written by `paretonas latency calibrate` or `latency fit`)");
  }

  if (const YAML::Node f = root["fidelity"]) {
    CheckKeys(file, "fidelity", f, {"resource", "rungs", "min", "max", "eta", "mode", "promotion", "promotion_pool"});
    auto& o = c.fidelity;
    if (f["resource"]) o.resource = AsString(file, "fidelity.resource", f["resource"]);
    if (f["eta"]) o.eta = AsDouble(file, "fidelity.eta", f["eta"]);
    if (f["mode"]) o.mode = AsString(file, "fidelity.mode", f["mode"]);
    if (f["promotion"]) o.promotion = AsString(file, "fidelity.promotion", f["promotion"]);
    if (const YAML::Node p = f["promotion_pool"]) {
      if (p.IsScalar() && p.Scalar() == "all") {
        o.promotion_pool = 0;
      } else {
        const double v = AsDouble(file, "fidelity.promotion_pool", p);
        if (!(v >= 1) || std::floor(v) != v)
          throw InputError(Where(file, p) + "field 'fidelity.promotion_pool': " + p.Scalar() +
                           " is not allowed; give a whole number of generations >= 1 (1: this "
                           "generation only, the default) or all");
        o.promotion_pool = static_cast<int>(v);
      }
    }
    if (f["rungs"] && (f["min"] || f["max"]))
      throw InputError(Where(file, f) + "fidelity: give either rungs or min and max, not both");
    if (const YAML::Node r = f["rungs"]) {
      if (!r.IsSequence() || r.size() == 0)
        throw InputError(Where(file, r) + "field 'fidelity.rungs': expected a list of resources, "
                         "e.g. [0.25, 0.75, 2]");
      for (size_t i = 0; i < r.size(); ++i)
        o.rungs.push_back(AsDouble(file, "fidelity.rungs[" + std::to_string(i) + "]", r[i]));
    } else if (f["min"] && f["max"]) {
      const double lo = AsDouble(file, "fidelity.min", f["min"]);
      const double hi = AsDouble(file, "fidelity.max", f["max"]);
      if (!(lo > 0) || !(hi >= lo))
        throw InputError(Where(file, f) + "fidelity: min (" + Fmt(lo) + ") and max (" + Fmt(hi) +
                         ") must satisfy 0 < min <= max");
      o.rungs = search::GeometricRungs(lo, hi, o.eta > 1 ? o.eta : 2);
    } else {
      throw InputError(Where(file, f) + "fidelity: give rungs (a list) or min and max (with eta)");
    }
    std::string bad = o.Validate();
    if (!bad.empty()) throw InputError(Where(file, f) + bad);
    if (c.evaluator_kind == "command")
      throw InputError(Where(file, f) + "fidelity: evaluator.kind command does not train in "
                       "rungs (yet); use evaluator.kind train or table");
    if (c.evaluator_kind == "train") {
      const YAML::Node tr = root["training"];
      if (tr && tr["steps"] && c.training.steps > 0)
        throw InputError(Where(file, tr["steps"]) + "training.steps: with a fidelity section the "
                         "top rung is the training length; remove training.steps");
      if (o.resource == "epochs") {
        if (tr && tr["epochs"] && static_cast<double>(c.training.epochs) != o.max_resource())
          throw InputError(Where(file, tr["epochs"]) + "training.epochs: " +
                           std::to_string(c.training.epochs) + " differs from the top rung (" +
                           Fmt(o.max_resource()) + " epochs), which is the full training");
        if (std::floor(o.max_resource()) == o.max_resource())
          c.training.epochs = static_cast<int>(o.max_resource());
      }
    }
  }
  if (!c.fidelity.enabled() && c.training.rung_validation > 0) {
    const YAML::Node tr = root["training"];
    throw InputError(Where(file, tr ? tr["rung_validation"] : root) +
                     "training.rung_validation: acts below the top rung of a fidelity section, "
                     "and this experiment has none; remove it or add a fidelity section");
  }

  if (const YAML::Node b = root["budget"]) {
    CheckKeys(file, "budget", b, {"max_evals", "generations"});
    if (b["max_evals"]) {
      c.max_evals = AsInt(file, "budget.max_evals", b["max_evals"]);
      CheckIn(file, "budget.max_evals", b["max_evals"], static_cast<double>(c.max_evals), 0, 1e9);
    }
    if (b["generations"]) {
      c.generations = AsInt(file, "budget.generations", b["generations"]);
      CheckIn(file, "budget.generations", b["generations"], c.generations, 0, 1e9);
    }
  }
  if (c.max_evals == 0 && c.generations == 0)
    throw InputError(file + ": field 'budget': give max_evals or generations (both are 0: the "
                     "search would never end)");
  return c;
}
}  // namespace

std::string ExperimentConfig::ToYaml() const {
    YAML::Emitter y;
    y << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << name;
    y << YAML::Key << "seed" << YAML::Value << seed;
    y << YAML::Key << "space" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << space;
    if (!space_set.empty()) {
      y << YAML::Key << "set" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : space_set) y << YAML::Key << k << YAML::Value << v;
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
    const auto& d = dataset;
    y << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << d.name;
    y << YAML::Key << "path" << YAML::Value << (d.path.empty() ? d.DefaultPath() : d.path);
    y << YAML::Key << "validation" << YAML::Value << d.validation;
    y << YAML::Key << "train_subset" << YAML::Value << d.train_subset;
    y << YAML::Key << "split_seed" << YAML::Value << d.split_seed;
    y << YAML::Key << "augment" << YAML::Value << d.augment;
    if (evaluator::IsUserDataset(d.name)) {
      // Only for the user's kinds, so that run directories of the built-in ones keep their hash.
      if (d.name == "idx") {
        y << YAML::Key << "train_images" << YAML::Value << d.train_images;
        y << YAML::Key << "train_labels" << YAML::Value << d.train_labels;
        if (!d.test_images.empty()) {
          y << YAML::Key << "test_images" << YAML::Value << d.test_images;
          y << YAML::Key << "test_labels" << YAML::Value << d.test_labels;
        }
      }
      if (d.name == "image_folder") {
        y << YAML::Key << "size" << YAML::Value << d.size;
        y << YAML::Key << "channels" << YAML::Value << d.channels;
        y << YAML::Key << "skip_unreadable" << YAML::Value << d.skip_unreadable;
        if (!d.cache_dir.empty()) y << YAML::Key << "cache_dir" << YAML::Value << d.cache_dir;
      } else {
        y << YAML::Key << "layout" << YAML::Value << d.layout;
      }
      y << YAML::Key << "max_memory_mb" << YAML::Value << d.max_memory_mb;
      y << YAML::Key << "pixel_max" << YAML::Value << Fmt(d.pixel_max);
      y << YAML::Key << "mean" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double v : d.mean) y << Fmt(v);
      y << YAML::EndSeq;
      y << YAML::Key << "std" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double v : d.std) y << Fmt(v);
      y << YAML::EndSeq;
      y << YAML::Key << "classes" << YAML::Value << d.classes;
      y << YAML::Key << "input" << YAML::Value << YAML::Flow << YAML::BeginSeq << d.input_c
        << d.input_h << d.input_w << YAML::EndSeq;
      if (!d.class_names.empty()) {
        y << YAML::Key << "class_names" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& n : d.class_names) y << n;
        y << YAML::EndSeq;
      }
    }
    if (d.name == "synthetic") {
      y << YAML::Key << "synthetic_train" << YAML::Value << d.synthetic_train;
      y << YAML::Key << "synthetic_test" << YAML::Value << d.synthetic_test;
      y << YAML::Key << "synthetic_size" << YAML::Value << d.synthetic_size;
      y << YAML::Key << "synthetic_channels" << YAML::Value << d.synthetic_channels;
      y << YAML::Key << "synthetic_classes" << YAML::Value << d.synthetic_classes;
    }
    y << YAML::EndMap;
    const auto& t = training;
    y << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "epochs" << YAML::Value << t.epochs;
    y << YAML::Key << "steps" << YAML::Value << t.steps;
    y << YAML::Key << "batch_size" << YAML::Value << t.batch_size;
    y << YAML::Key << "optimizer" << YAML::Value << t.optimizer;
    y << YAML::Key << "lr" << YAML::Value << Fmt(t.lr);
    y << YAML::Key << "momentum" << YAML::Value << Fmt(t.momentum);
    y << YAML::Key << "weight_decay" << YAML::Value << Fmt(t.weight_decay);
    y << YAML::Key << "label_smoothing" << YAML::Value << Fmt(t.label_smoothing);
    // Only with a fidelity (it acts below the top rung), so other run directories keep their hash.
    if (fidelity.enabled()) y << YAML::Key << "rung_bn_batches" << YAML::Value << t.rung_bn_batches;
    if (fidelity.enabled() && t.rung_validation > 0)  // only then: earlier runs keep their hash
      y << YAML::Key << "rung_validation" << YAML::Value << t.rung_validation;
    y << YAML::Key << "layout" << YAML::Value << t.layout;
    // Only when set, so that earlier run directories keep their hash.
    if (t.cuda_graphs != "auto") y << YAML::Key << "cuda_graphs" << YAML::Value << t.cuda_graphs;
    if (t.precision != "fp32") y << YAML::Key << "precision" << YAML::Value << t.precision;
    y << YAML::EndMap;
    y << YAML::Key << "objectives" << YAML::Value << YAML::BeginSeq;
    for (const auto& o : objectives)
      y << YAML::Flow << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << o.metric
        << YAML::Key << "goal" << YAML::Value << (o.maximize ? "max" : "min") << YAML::EndMap;
    y << YAML::EndSeq;
    y << YAML::Key << "constraints" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& c : constraints) y << c.ToString();
    y << YAML::EndSeq;
    const auto& s = search;
    y << YAML::Key << "search" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "strategy" << YAML::Value << s.name;
    y << YAML::Key << "population" << YAML::Value << s.population;
    y << YAML::Key << "batch" << YAML::Value << s.batch;
    y << YAML::Key << "crossover_prob" << YAML::Value << Fmt(s.crossover_prob);
    y << YAML::Key << "mutation_rate" << YAML::Value << Fmt(s.mutation_rate);
    y << YAML::Key << "sample_size" << YAML::Value << s.sample_size;
    y << YAML::Key << "reject_disconnected" << YAML::Value << s.reject_disconnected;
    y << YAML::Key << "max_tries" << YAML::Value << s.max_tries;
    // Written only when not the default, so run directories made before the key existed keep
    // their config hash (and resume).
    if (s.dedup != search::StrategyOptions{}.dedup)
      y << YAML::Key << "dedup" << YAML::Value << s.dedup;
    y << YAML::Key << "sampler" << YAML::Value << s.sampler;
    y << YAML::Key << "mutation" << YAML::Value << s.mutation;
    y << YAML::Key << "crossover" << YAML::Value << s.crossover;
    y << YAML::Key << "surrogate" << YAML::Value << s.surrogate;
    y << YAML::Key << "surrogate_pool" << YAML::Value << s.surrogate_pool;
    y << YAML::Key << "surrogate_kappa" << YAML::Value << Fmt(s.surrogate_kappa);
    y << YAML::Key << "surrogate_fraction" << YAML::Value << Fmt(s.surrogate_fraction);
    // Like dedup: only when set, so older run directories keep their config hash.
    if (inherit_weights) y << YAML::Key << "inherit_weights" << YAML::Value << true;
    if (prescreen.enabled()) {
      y << YAML::Key << "prescreen" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "keep" << YAML::Value << prescreen.keep;
      if (prescreen.surrogate) {
        y << YAML::Key << "by" << YAML::Value << "surrogate";
        y << YAML::Key << "features" << YAML::Value << YAML::Flow << prescreen.features;
        y << YAML::Key << "kappa" << YAML::Value << Fmt(prescreen.kappa);
      } else {
        y << YAML::Key << "by" << YAML::Value << YAML::BeginSeq;
        for (const auto& o : prescreen.by)
          y << YAML::Flow << YAML::BeginMap << YAML::Key << "metric" << YAML::Value << o.metric
            << YAML::Key << "goal" << YAML::Value << (o.maximize ? "max" : "min") << YAML::EndMap;
        y << YAML::EndSeq;
      }
      y << YAML::EndMap;
    }
    if (s.remeasure_front) {
      y << YAML::Key << "remeasure_front" << YAML::Value << true;
      y << YAML::Key << "remeasure_margin" << YAML::Value << Fmt(s.remeasure_margin);
      y << YAML::Key << "remeasure_after" << YAML::Value << s.remeasure_after;
    }
    y << YAML::EndMap;
    if (fidelity.enabled()) {  // only when set, so older run directories keep their config hash
      y << YAML::Key << "fidelity" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "resource" << YAML::Value << fidelity.resource;
      y << YAML::Key << "rungs" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double r : fidelity.rungs) y << Fmt(r);
      y << YAML::EndSeq;
      y << YAML::Key << "eta" << YAML::Value << Fmt(fidelity.eta);
      y << YAML::Key << "mode" << YAML::Value << fidelity.mode;
      if (fidelity.promotion != "crowding")  // only then: earlier runs keep their hash
        y << YAML::Key << "promotion" << YAML::Value << fidelity.promotion;
      if (fidelity.promotion_pool != 1) {  // likewise
        y << YAML::Key << "promotion_pool" << YAML::Value;
        if (fidelity.promotion_pool == 0) y << "all"; else y << fidelity.promotion_pool;
      }
      y << YAML::EndMap;
    }
    y << YAML::Key << "evaluator" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "kind" << YAML::Value << evaluator_kind;
    y << YAML::Key << "workers" << YAML::Value;
    if (workers > 0) y << workers; else y << "auto";
    y << YAML::Key << "cache" << YAML::Value << cache;
    auto emit_predictor = [&] {  // evaluator.latency.predictor/online, for either kind
      if (latency_predictor.empty()) return;
      y << YAML::Key << "predictor" << YAML::Value << latency_predictor;
      y << YAML::Key << "online" << YAML::Value << latency_online;
    };
    if (evaluator_kind == "command") {
      y << YAML::Key << "command" << YAML::Value << command;
      y << YAML::Key << "command_timeout" << YAML::Value << Fmt(command_timeout);
    }
    if (evaluator_kind == "train" || evaluator_kind == "command") {
      y << YAML::Key << "threads_per_worker" << YAML::Value << t.threads_per_worker;
      y << YAML::Key << "device" << YAML::Value << t.device;
      y << YAML::Key << "max_params" << YAML::Value << t.max_params;
      y << YAML::Key << "max_macs" << YAML::Value << t.max_macs;
      y << YAML::Key << "max_activation_bytes" << YAML::Value << t.max_activation_bytes;
      // Only when set, so that run directories of earlier versions keep their hash.
      if (!t.proxies.empty()) {
        y << YAML::Key << "proxies" << YAML::Value << YAML::Flow << t.proxies;
        y << YAML::Key << "proxy_batch" << YAML::Value << t.proxy_batch;
      }
      y << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "measure" << YAML::Value << t.measure_latency;
      y << YAML::Key << "threads" << YAML::Value << t.latency_threads;
      y << YAML::Key << "warmup" << YAML::Value << t.latency_warmup;
      y << YAML::Key << "repeats" << YAML::Value << t.latency_repeats;
      emit_predictor();
      y << YAML::EndMap;
    } else {
      if (!latency_predictor.empty()) {
        y << YAML::Key << "latency" << YAML::Value << YAML::BeginMap;
        emit_predictor();
        y << YAML::EndMap;
      }
      y << YAML::Key << "table" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << "path" << YAML::Value << table.path;
      y << YAML::Key << "key_column" << YAML::Value << table.key_column;
      y << YAML::Key << "accuracy_column" << YAML::Value << table.accuracy_column;
      y << YAML::Key << "latency_column" << YAML::Value << table.latency_column;
      y << YAML::Key << "simulated_cost_ms" << YAML::Value << Fmt(table.simulated_cost_ms);
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
    // NOTE: the budget must stay the last section: Hash() cuts the text there.
    y << YAML::Key << "budget" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "max_evals" << YAML::Value << max_evals;
    y << YAML::Key << "generations" << YAML::Value << generations;
    y << YAML::EndMap;
    y << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
}

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
