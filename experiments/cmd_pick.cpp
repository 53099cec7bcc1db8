// `paretonas pick RUN --where 'latency_ms<=2' --max val_accuracy [--export DIR]`: the trial a user
// would choose by hand from front.csv, chosen by conditions and one metric to optimise.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

#include "experiments/cli_common.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct PickOptions {
  std::string run_dir;
  std::vector<std::string> where;
  std::string max, min;
  bool json = false;
  bool include_infeasible = false;
  std::string export_out;
  std::string format = "json";
};

struct Condition {
  std::string text, metric, op;
  double value = 0;
  bool Holds(double v) const {
    if (op == "<=") return v <= value;
    if (op == ">=") return v >= value;
    if (op == "<") return v < value;
    if (op == ">") return v > value;
    if (op == "==") return v == value;
    return v != value;  // "!="
  }
};

Condition ParseCondition(const std::string& text) {
  static const char* kOps[] = {"<=", ">=", "==", "!=", "<", ">"};  // two-character operators first
  for (const char* op : kOps) {
    const size_t at = text.find(op);
    if (at == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
      return s;
    };
    Condition c;
    c.text = text;
    c.op = op;
    c.metric = trim(text.substr(0, at));
    const std::string value = trim(text.substr(at + std::string(op).size()));
    char* end = nullptr;
    c.value = std::strtod(value.c_str(), &end);
    if (c.metric.empty() || value.empty() || *end != '\0' || !std::isfinite(c.value))
      throw InputError("pick --where '" + text + "': expected METRIC OP NUMBER, e.g. 'latency_ms<=2' (OP: <=, >=, <, >, ==, !=)");
    return c;
  }
  throw InputError("pick --where '" + text + "': no comparison in it; expected METRIC OP NUMBER, e.g. "
                   "'latency_ms<=2' (OP: <=, >=, <, >, ==, !=)");
}

/// The value of `metric` for `t`: its metrics, or the trial's id, generation or seconds.
bool Value(const search::Trial& t, const std::string& metric, double* v) {
  if (metric == "id") return *v = static_cast<double>(t.id), true;
  if (metric == "generation") return *v = t.generation, true;
  if (metric == "seconds") return *v = t.seconds, true;
  const auto it = t.metrics.find(metric);
  if (it == t.metrics.end() || !std::isfinite(it->second)) return false;
  *v = it->second;
  return true;
}

int RunPick(const PickOptions& o) {
  if (o.max.empty() == o.min.empty())
    throw InputError("pick: give the metric to optimise, either --max METRIC or --min METRIC (one of them)");
  std::vector<Condition> conditions;
  for (const auto& w : o.where) conditions.push_back(ParseCondition(w));
  const LoadedRun run = LoadRun(o.run_dir);
  const search::Problem& problem = run.session->problem;
  std::set<std::string> known{"id", "generation", "seconds"};
  for (const auto& t : run.state.trials)
    for (const auto& [k, v] : t.metrics) known.insert(k);
  auto check_metric = [&](const std::string& metric, const std::string& where) {
    if (known.count(metric)) return;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InputError("pick " + where + ": no trial of " + o.run_dir + " has the metric '" + metric +
                     "'; its metrics: " + list);
  };
  for (const auto& c : conditions) check_metric(c.metric, "--where '" + c.text + "'");
  const bool maximise = !o.max.empty();
  const std::string goal = maximise ? o.max : o.min;
  check_metric(goal, std::string(maximise ? "--max " : "--min ") + goal);

  // Complete trials (the front's kind: top rung, trained), feasible unless asked otherwise.
  std::vector<const search::Trial*> pool;
  std::int64_t infeasible = 0;
  for (const auto& t : run.state.trials) {
    if (t.state != search::TrialState::kComplete) continue;
    if (!o.include_infeasible && !problem.Violated(t).empty()) {
      ++infeasible;
      continue;
    }
    pool.push_back(&t);
  }
  const std::size_t complete = pool.size();
  std::ostringstream story;  // how many each condition kept, for the answer and for an empty one
  story << complete << " complete" << (o.include_infeasible ? "" : " feasible") << " trial(s)";
  if (infeasible > 0) story << " (" << infeasible << " infeasible left out; --include-infeasible takes them)";
  for (const auto& c : conditions) {
    std::vector<const search::Trial*> kept;
    double nearest = std::numeric_limits<double>::quiet_NaN();
    for (const auto* t : pool) {
      double v;
      if (!Value(*t, c.metric, &v)) continue;
      if (c.Holds(v)) kept.push_back(t);
      else if (std::isnan(nearest) || std::abs(v - c.value) < std::abs(nearest - c.value)) nearest = v;
    }
    story << ", " << kept.size() << " with " << c.text;
    if (kept.empty()) {
      std::cerr << "paretonas: pick: nothing in " << o.run_dir << " matches: " << story.str();
      if (!std::isnan(nearest)) std::cerr << " (the nearest " << c.metric << " there: " << search::JsonNumber(nearest) << ")";
      std::cerr << "\n";
      return kExitFailure;
    }
    pool = kept;
  }
  const search::Trial* best = nullptr;
  double best_value = 0;
  for (const auto* t : pool) {  // ties: the first (lowest id)
    double v;
    if (!Value(*t, goal, &v)) continue;
    if (!best || (maximise ? v > best_value : v < best_value)) best = t, best_value = v;
  }
  if (!best) {
    std::cerr << "paretonas: pick: nothing in " << o.run_dir << " matches: " << story.str() << ", none with "
              << goal << "\n";
    return kExitFailure;
  }
  if (o.json) {
    std::cout << search::TrialJson(*best, &problem) << "\n";
  } else {
    std::cout << "trial " << best->id << " (generation " << best->generation << "): " << best->key << "\n"
              << "  chosen: " << (maximise ? "the largest " : "the smallest ") << goal << " of " << story.str()
              << "\n";
    for (const auto& [k, v] : best->metrics) std::cout << "  " << k << " " << search::JsonNumber(v) << "\n";
  }
  if (!o.export_out.empty()) {
    std::cout.flush();
    return ExportTrials(o.run_dir, {best->id}, o.format, o.export_out);
  }
  return kExitOk;
}

}  // namespace

void SetupPick(CLI::App& app) {
  auto o = std::make_shared<PickOptions>();
  auto* sub = app.add_subcommand(
      "pick", "Choose a trial of a run by conditions and one metric to optimise (and export it), e.g. "
              "pick RUN --where 'latency_ms<=2' --max val_accuracy");
  sub->add_option("run_dir", o->run_dir, "Run directory")->required();
  sub->add_option("-w,--where", o->where,
                  "A condition METRIC OP NUMBER (OP: <=, >=, <, >, ==, !=), e.g. 'latency_ms<=2'; "
                  "repeatable, all must hold. Any metric of trials.jsonl (int8_* included), id, generation, "
                  "seconds");
  sub->add_option("--max", o->max, "The metric to maximise among the matching trials");
  sub->add_option("--min", o->min, "The metric to minimise among the matching trials");
  sub->add_flag("--json", o->json, "Print the chosen trial as its trials.jsonl line");
  sub->add_flag("--include-infeasible", o->include_infeasible,
                "Choose among trials that violate the run's constraints too");
  sub->add_option("--export", o->export_out, "Export the chosen trial into this directory (as `export --id`)");
  sub->add_option("-f,--format", o->format, "With --export: json | dot | torchscript | onnx, or several joined "
                                            "by commas")
      ->capture_default_str();
  sub->callback([o] { RunCommand([o] { return RunPick(*o); }); });
}

}  // namespace paretonas::experiments
