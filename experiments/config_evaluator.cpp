#include "experiments/config_sections.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "evaluator/user_data.h"
#include "search/proxy_names.h"
#include "space/input_error.h"
#include "space/search_space.h"
#include "space/yaml_util.h"

namespace paretonas::experiments::config_parse {

void ParseEvaluatorSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  if (const YAML::Node e = root["evaluator"]) {
    CheckKeys(file, "evaluator", e,
              {"kind", "workers", "threads_per_worker", "device", "cache", "max_params",
               "max_macs", "max_activation_bytes", "latency", "table", "command",
               "command_timeout", "proxies", "proxy_batch", "supernet"});
    if (e["kind"]) c.evaluator_kind = AsString(file, "evaluator.kind", e["kind"]);
    if (c.evaluator_kind != "train" && c.evaluator_kind != "table" && c.evaluator_kind != "command" &&
        c.evaluator_kind != "supernet")
      throw InputError(Where(file, e["kind"]) + "field 'evaluator.kind': '" + c.evaluator_kind +
                       "' is not allowed; allowed: train, table, command, supernet");
    if (const YAML::Node sn = e["supernet"]) {
      if (c.evaluator_kind != "supernet")
        throw InputError(Where(file, sn) + "field 'evaluator.supernet': only for evaluator.kind: supernet (this one is '" +
                         c.evaluator_kind + "')");
      CheckKeys(file, "evaluator.supernet", sn, {"path", "calibration_images"});
      if (sn["path"]) {
        c.supernet_dir = AsString(file, "evaluator.supernet.path", sn["path"]);
        c.training.supernet = BesideFile(file, c.supernet_dir) + "/supernet.pt";
        std::ifstream probe(c.training.supernet);
        if (!probe)
          throw InputError(Where(file, sn["path"]) + "field 'evaluator.supernet.path': '" + c.supernet_dir +
                           "' holds no supernet.pt (train one: paretonas supernet train --config FILE --out " +
                           c.supernet_dir + ")");
      }
      if (sn["calibration_images"]) {
        c.training.supernet_calibration_images = AsInt(file, "evaluator.supernet.calibration_images", sn["calibration_images"]);
        CheckIn(file, "evaluator.supernet.calibration_images", sn["calibration_images"],
                c.training.supernet_calibration_images, 1, 1e7);
      }
    }
    if (c.evaluator_kind == "supernet" && c.training.supernet.empty())
      throw InputError(Where(file, e) + "field 'evaluator.supernet.path': evaluator.kind: supernet needs the "
                       "directory of a trained supernet (paretonas supernet train --config FILE --out DIR)");
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
      CheckKeys(file, "evaluator.latency", l,
                {"measure", "threads", "warmup", "repeats", "rounds", "target", "max_seconds", "max_passes",
                 "predictor", "online"});
      if (l["predictor"]) {
        c.latency_predictor = AsString(file, "evaluator.latency.predictor", l["predictor"]);
        c.latency_predictor_path = BesideFile(file, c.latency_predictor);
      }
      if (l["online"]) c.latency_online = AsBool(file, "evaluator.latency.online", l["online"]);
      if (c.latency_online && c.latency_predictor.empty())
        throw InputError(Where(file, l) + "field 'evaluator.latency.online': true needs "
                         "evaluator.latency.predictor (a model file of `paretonas latency`)");
      if (l["measure"]) t.measure_latency = AsBool(file, "evaluator.latency.measure", l["measure"]);
      if (l["threads"]) t.latency_threads = AsInt(file, "evaluator.latency.threads", l["threads"]);
      if (l["warmup"]) t.latency_warmup = AsInt(file, "evaluator.latency.warmup", l["warmup"]);
      if (l["repeats"]) t.latency_repeats = AsInt(file, "evaluator.latency.repeats", l["repeats"]);
      if (l["rounds"]) {
        t.latency_rounds = AsInt(file, "evaluator.latency.rounds", l["rounds"]);
        CheckIn(file, "evaluator.latency.rounds", l["rounds"], t.latency_rounds, 1, 1e6);
      }
      if (l["target"]) {
        t.latency_target = AsDouble(file, "evaluator.latency.target", l["target"]);
        CheckIn(file, "evaluator.latency.target", l["target"], t.latency_target, 0, 0.5);
      }
      if (l["max_seconds"]) {
        t.latency_max_seconds = AsDouble(file, "evaluator.latency.max_seconds", l["max_seconds"]);
        CheckIn(file, "evaluator.latency.max_seconds", l["max_seconds"], t.latency_max_seconds, 0, 3600);
      }
      if (l["max_passes"]) {
        t.latency_max_passes = AsInt(file, "evaluator.latency.max_passes", l["max_passes"]);
        CheckIn(file, "evaluator.latency.max_passes", l["max_passes"], t.latency_max_passes, 3, 1e6);
      }
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
}

void CheckEvaluatorAgainstSections(const std::string& file, ExperimentConfig& c,
                                   bool prescreen_features_given) {
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
  if (c.evaluator_kind == "train" || c.evaluator_kind == "command" || c.evaluator_kind == "supernet") {
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

}

}  // namespace paretonas::experiments::config_parse
