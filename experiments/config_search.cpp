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

void ParseGoalSections(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
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

}

bool ParseSearchSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  bool prescreen_features_given = false;  // search.prescreen.features, even empty
  if (const YAML::Node s = root["search"]) {
    CheckKeys(file, "search", s,
              {"strategy", "population", "batch", "crossover_prob", "mutation_rate",
               "sample_size", "reject_disconnected", "max_tries", "dedup", "sampler", "mutation",
               "crossover", "surrogate", "surrogate_pool", "surrogate_kappa",
               "surrogate_fraction", "remeasure_front", "remeasure_margin", "remeasure_after",
               "prescreen", "inherit_weights", "max_failures_in_a_row", "enqueue", "enqueue_file"});
    if (const YAML::Node q = s["enqueue"]) {
      if (!q.IsSequence())
        throw InputError(Where(file, q) + "field 'search.enqueue': expected a list of architecture keys "
                         "(the space's, as trials.jsonl's \"arch\" writes them)");
      for (size_t i = 0; i < q.size(); ++i)
        c.search.enqueue.push_back(AsString(file, "search.enqueue[" + std::to_string(i) + "]", q[i]));
    }
    if (const YAML::Node qf = s["enqueue_file"]) {
      // One key a line ('#' starts a comment), read now so that the run's config.yaml holds them;
      // found as the space file is (as written, else beside the experiment file).
      const std::string path = BesideFile(file, AsString(file, "search.enqueue_file", qf));
      std::ifstream in(path);
      if (!in)
        throw InputError(Where(file, qf) + "field 'search.enqueue_file': cannot read '" + path + "'");
      std::string line;
      while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        line.erase(0, line.find_first_not_of(" \t\r"));
        line.erase(line.find_last_not_of(" \t\r") + 1);
        if (!line.empty()) c.search.enqueue.push_back(line);
      }
    }
    if (s["max_failures_in_a_row"]) {
      c.max_failures_in_a_row = AsInt(file, "search.max_failures_in_a_row", s["max_failures_in_a_row"]);
      CheckIn(file, "search.max_failures_in_a_row", s["max_failures_in_a_row"], c.max_failures_in_a_row, 0, 1e9);
    }
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

  return prescreen_features_given;
}

void ParseBudgetSection(const std::string& file, const YAML::Node& root, ExperimentConfig& c) {
  if (const YAML::Node b = root["budget"]) {
    CheckKeys(file, "budget", b, {"max_evals", "generations", "seconds"});
    if (b["max_evals"]) {
      c.max_evals = AsInt(file, "budget.max_evals", b["max_evals"]);
      CheckIn(file, "budget.max_evals", b["max_evals"], static_cast<double>(c.max_evals), 0, 1e9);
    }
    if (b["generations"]) {
      c.generations = AsInt(file, "budget.generations", b["generations"]);
      CheckIn(file, "budget.generations", b["generations"], c.generations, 0, 1e9);
    }
    if (b["seconds"]) {
      c.budget_seconds = AsDouble(file, "budget.seconds", b["seconds"]);
      CheckIn(file, "budget.seconds", b["seconds"], c.budget_seconds, 0, 1e9);
    }
  }
  if (c.max_evals == 0 && c.generations == 0 && c.budget_seconds == 0)
    throw InputError(file + ": field 'budget': give max_evals, generations or seconds (all are 0: the "
                     "search would never end)");
}

}  // namespace paretonas::experiments::config_parse
