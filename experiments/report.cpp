#include "experiments/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "evaluator/latency_estimate.h"
#include "search/pareto.h"
#include "search/proxy_names.h"
#include "search/search_loop.h"
#include "space/search_space.h"
#include "experiments/report_parts.h"

namespace paretonas::experiments {

using report_parts::Esc;
using report_parts::GraphDrawing;
using report_parts::HigherIsBetter;
using report_parts::HypervolumePlot;
using report_parts::Label;
using report_parts::LearningCurves;
using report_parts::Num;
using report_parts::Scatter;


std::string HtmlEscape(const std::string& s) { return Esc(s); }

std::string PageHead(const std::string& title) {
  return "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + Esc(title) + "</title><style>"
         "body{font-family:sans-serif;margin:24px;color:#222}"
         "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;"
         "text-align:right}td.arch{text-align:left;font-family:monospace;font-size:11px;word-break:break-all;max-width:420px}"
         ".plot{background:#fafafa}.graphs{display:flex;flex-wrap:wrap;gap:16px}"
         ".graphs div{border:1px solid #ddd;padding:6px}.state{padding:4px 8px;border-radius:4px}"
         ".running{background:#d4edda}.finished{background:#e2e3e5}.stopped,.unknown,.error,.failed{background:#fff3cd}"
         ".note{background:#fff3cd;padding:6px}.gone{background:#f8d7da;padding:6px}"
         "ul.progress li{margin:2px 0}.caption{color:#444;font-size:13px;max-width:680px}</style></head>";
}

PlotChoice DefaultPlot(const search::Problem& problem) {
  auto has = [&](const std::string& m) {
    return std::any_of(problem.objectives.begin(), problem.objectives.end(),
                       [&](const search::Objective& o) { return o.metric == m; });
  };
  PlotChoice p;
  if (has("val_accuracy") && has("latency_ms")) {
    p.x = "latency_ms";
    p.y = "val_accuracy";
  } else if (has("int8_val_accuracy") && has("int8_latency_ms")) {
    p.x = "int8_latency_ms";
    p.y = "int8_val_accuracy";
  } else {
    p.x = problem.objectives.size() > 1 ? problem.objectives[1].metric : problem.objectives[0].metric;
    p.y = problem.objectives[0].metric;
  }
  return p;
}

bool IsPlotMetric(const search::SearchState& state, const search::Problem& problem, const std::string& metric,
                  std::string* allowed) {
  const std::vector<std::string> metrics = PlotMetrics(state, problem);
  if (std::find(metrics.begin(), metrics.end(), metric) != metrics.end()) return true;
  allowed->clear();
  for (const auto& m : metrics) *allowed += (allowed->empty() ? "" : ", ") + m;
  return false;
}

std::vector<std::string> PlotMetrics(const search::SearchState& state, const search::Problem& problem) {
  std::vector<std::string> out;
  for (const auto& o : problem.objectives)
    if (std::find(out.begin(), out.end(), o.metric) == out.end()) out.push_back(o.metric);
  for (const auto& t : state.trials)
    if (t.state == search::TrialState::kComplete) {
      for (const auto& [k, v] : t.metrics)
        if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
      break;
    }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(std::min(out.size(), problem.objectives.size())), out.end());
  return out;
}

namespace {

/// The progress list: budget, failures, pre-screen, rungs, in flight, latency noise, prediction.
void Progress(std::ostringstream& os, const RunView& v, const std::vector<std::int64_t>& front, const RenderOptions& o) {
  const search::SearchState& state = *v.state;
  const ExperimentConfig& config = *v.config;
  const search::FidelityOptions& fidelity = config.fidelity;
  auto trial_ref = [&](std::int64_t id) {
    return o.trial_link.empty() ? "#" + std::to_string(id)
                                : "<a href='" + o.trial_link + std::to_string(id) + "'>#" + std::to_string(id) + "</a>";
  };
  int failed = 0, stopped = 0;
  std::map<std::string, int> reasons;
  for (const auto& t : state.trials) {
    failed += t.state == search::TrialState::kFailed;
    stopped += t.state == search::TrialState::kStopped;
    if (t.state == search::TrialState::kFailed) ++reasons[t.failure.substr(0, t.failure.find('\n'))];
  }
  const std::int64_t done = state.NumFinished();
  os << "<ul class='progress'><li>Evaluations: <b>" << done << "</b>";
  if (config.max_evals > 0)
    os << " of a budget of " << config.max_evals << " <progress value='" << std::min(done, config.max_evals)
       << "' max='" << config.max_evals << "'></progress> " << Num(100.0 * done / config.max_evals, 3) << "%";
  os << "; " << state.generation << " generation(s) done, strategy " << Esc(state.strategy) << ", seed " << state.seed
     << ".</li>";
  if (v.in_progress_complete > 0)
    os << "<li>The generation in progress (" << state.generation << "): " << v.in_progress_complete
       << " trial(s) complete so far, shown below.</li>";
  if (!v.in_flight.empty()) {
    os << "<li>In flight: " << v.in_flight.size() << " trial(s): ";
    for (size_t i = 0; i < v.in_flight.size() && i < 40; ++i) {
      const InFlight& f = v.in_flight[i];
      os << (i ? ", " : "") << trial_ref(f.id);
      if (fidelity.enabled())
        os << " (" << (f.rung_done < 0 ? std::string("rung 0, queued or training")
                                       : "rung " + std::to_string(f.rung_done) + " done") << ")";
    }
    if (v.in_flight.size() > 40) os << ", ...";
    os << ".</li>";
  }
  os << "<li>Failures: " << failed;
  if (!reasons.empty()) {
    std::vector<std::pair<int, std::string>> sorted;
    for (const auto& [r, n] : reasons) sorted.push_back({-n, r});
    std::sort(sorted.begin(), sorted.end());
    os << ", most common reasons first:<ul>";
    for (size_t i = 0; i < sorted.size() && i < 5; ++i)
      os << "<li>" << -sorted[i].first << " &times; " << Esc(sorted[i].second) << "</li>";
    if (sorted.size() > 5) os << "<li>and " << sorted.size() - 5 << " other reason(s)</li>";
    os << "</ul>";
  }
  os << "</li>";
  const std::int64_t screened = state.NumScreened();
  if (screened > 0)
    os << "<li>Pre-screen: " << screened << " more proposals were scored by their zero-cost proxies "
          "and static costs and not trained (status <code>screened</code> in trials.jsonl).</li>";
  if (fidelity.enabled()) {
    std::vector<std::int64_t> reached(fidelity.rungs.size(), 0);
    for (const auto& t : state.trials)
      for (const auto& c : t.curve)
        if (c.rung >= 0 && c.rung < static_cast<int>(reached.size())) ++reached[c.rung];
    os << "<li>Multi-fidelity (successive halving, eta " << Num(fidelity.eta) << "): ";
    for (size_t r = 0; r < reached.size(); ++r)
      os << (r ? ", " : "") << reached[r] << " trained to rung " << r << " (" << Num(fidelity.rungs[r])
         << " " << Esc(fidelity.resource) << ")";
    os << "; " << stopped << " stopped below the top rung. The front, its hypervolume and the "
          "plot use top-rung results only.</li>";
  }
  {  // Latencies measured on a busy machine: say so before the plots that use them.
    int measured = 0, noisy = 0, noisy_front = 0;
    std::map<int, int> by_reason;  // NoisyReason bit -> noisy latencies it explains
    double discarded = 0, passes = 0, load = -1;
    std::vector<double> ratio;  // measured / predicted
    std::vector<char> on_front(state.trials.size(), 0);
    for (auto id : front) on_front[static_cast<std::size_t>(id)] = 1;
    for (const auto& t : state.trials) {
      if (t.state != search::TrialState::kComplete) continue;
      const auto& m = t.metrics;
      const auto lat = m.find("latency_ms"), pred = m.find("predicted_latency_ms");
      if (lat != m.end() && pred != m.end() && pred->second > 0) ratio.push_back(lat->second / pred->second);
      if (!m.count("latency_passes")) continue;
      ++measured;
      const bool n = m.count("latency_noisy") && m.at("latency_noisy") > 0;
      noisy += n;
      const int r = evaluator::NoisyReasonsOf(m, "", config.training.latency_target);
      for (int bit = 1; bit <= evaluator::kNoisyNoCleanPass; bit <<= 1)
        if (r & bit) ++by_reason[bit];
      noisy_front += n && on_front[static_cast<std::size_t>(t.id)];
      discarded += m.count("latency_discarded") ? m.at("latency_discarded") : 0;
      passes += m.at("latency_passes") + (m.count("latency_discarded") ? m.at("latency_discarded") : 0);
      if (m.count("latency_load")) load = std::max(load, m.at("latency_load"));
    }
    if (noisy > 0) {
      static const std::map<int, const char*> why = {
          {evaluator::kNoisyNotConfirmed, "its two fastest rounds did not agree within the target"},
          {evaluator::kNoisySlowdown, "the machine ran over 10% slower than its best on a reference network"},
          {evaluator::kNoisyOversubscribed, "more threads were ready to run than cores + 1"},
          {evaluator::kNoisyNoCleanPass, "every timed pass was descheduled (the estimate is of the least affected)"}};
      os << "<li class='note'><b>" << noisy << " of " << measured << " measured latencies are noisy</b> ("
         << noisy_front << " on the front):";
      const char* sep = " ";
      for (const auto& [bit, n] : by_reason) {
        os << sep << n << " because " << why.at(bit);
        sep = "; ";
      }
      os << " (" << Num(discarded, 6) << " of " << Num(passes, 6) << " timed passes were discarded as descheduled"
         << (load >= 0 ? "; load average up to " + Num(load, 2) + " per core" : std::string())
         << "). A latency's interval is plus or minus the distance between its two fastest rounds' medians "
            "(reaching down to latency / slowdown on a slow machine): how well one measurement agreed with "
            "itself, not a bound on what a later one on a changed machine reads. Noisy ones are drawn hollow, "
            "with their interval. Re-time the front on a quiet machine with "
            "<code>paretonas latency measure --front-of RUN --compare</code>.</li>";
    }
    else if (discarded > 0)
      os << "<li>Latency: " << Num(discarded, 6) << " of " << Num(passes, 6)
         << " timed passes were discarded as descheduled and re-run; every latency reached its "
            "target precision.</li>";
    if (!ratio.empty()) {
      std::sort(ratio.begin(), ratio.end());
      std::vector<double> err;
      for (double r : ratio) err.push_back(std::abs(r - 1));
      std::sort(err.begin(), err.end());
      os << "<li>Measured against predicted latency (" << ratio.size() << " trials with both): measured / predicted "
         << "median " << Num(ratio[ratio.size() / 2], 3) << " (from " << Num(ratio.front(), 3) << " to "
         << Num(ratio.back(), 3) << "); median error " << Num(100 * err[err.size() / 2], 3) << "%.</li>";
    }
  }
  os << "</ul>";
}

}  // namespace

std::string RenderRunBody(const RunView& v, const RenderOptions& o) {
  std::ostringstream os;
  os << "<p>State: <span class='state " << Esc(v.condition.kind) << "'>" << Esc(v.condition.text) << "</span></p>";
  if (!v.error.empty())
    os << "<p class='gone'><b>Cannot read this run now:</b> " << Esc(v.error)
       << (v.state ? " (what is below is what it held when last read)" : "") << "</p>";
  for (const auto& n : v.notes) os << "<p class='note'>" << Esc(n) << "</p>";
  if (!v.config || !v.state || !v.problem) {
    os << "<p>" << (v.config ? "No checkpoint yet: the search is loading its data or evaluating its first "
                               "generation."
                             : "No config.yaml yet: the search is starting.")
       << "</p>";
    return os.str();
  }
  const search::SearchState& state = *v.state;
  const search::Problem& problem = *v.problem;
  const search::FidelityOptions& fidelity = v.config->fidelity;
  const auto& front = v.front;
  const std::string& xm = o.plot.x;
  const std::string& ym = o.plot.y;
  os << "<p>Objectives: ";
  for (size_t i = 0; i < problem.objectives.size(); ++i)
    os << (i ? ", " : "") << (problem.objectives[i].maximize ? "max " : "min ")
       << Esc(problem.objectives[i].metric);
  for (const auto& c : problem.constraints) os << "; " << Esc(c.ToString());
  os << ".</p>";
  Progress(os, v, front, o);
  const bool any_complete = std::any_of(state.trials.begin(), state.trials.end(), [](const search::Trial& t) {
    return t.state == search::TrialState::kComplete;
  });
  if (any_complete) {
    os << "<h2>Every evaluated architecture</h2>" << Scatter(state, problem, o.plot, front, o.trial_link);
  } else {
    os << "<h2>No complete trial</h2><p>Nothing to plot yet.</p>";
  }
  if (!state.hv_history.empty())
    os << "<h2>Hypervolume</h2>" << HypervolumePlot(state)
       << "<p class='caption'>In the box of the first front (from the best value of each objective among the "
          "first complete trials to the worst plus 10% of the range); above 1: the front grew beyond that box. "
          "Each run has its own box, so two runs' hypervolumes do not compare.</p>";
  if (fidelity.enabled())
    os << "<h2>Learning curves</h2>" << LearningCurves(state, ym, front, fidelity.resource);
  os << "<h2>Pareto front</h2><table><tr><th>id</th><th>gen</th>";
  // Columns that some front member has (e.g. no predicted latency without a predictor).
  std::vector<std::string> cols;
  for (const std::string c : {"val_accuracy", "int8_val_accuracy", "latency_ms", "int8_latency_ms",
                              "predicted_latency_ms", "params", "macs", "model_bytes", "int8_model_bytes",
                              "activation_bytes"})
    if (std::any_of(front.begin(), front.end(), [&](std::int64_t id) { return state.trials[id].metrics.count(c) > 0; }))
      cols.push_back(c);
  for (const auto& c : cols) os << "<th>" << Esc(Label(c)) << "</th>";
  os << "<th>arch</th></tr>";
  std::vector<std::int64_t> sorted(front.begin(), front.end());
  std::sort(sorted.begin(), sorted.end(), [&](auto a, auto b) {
    return problem.ObjectiveVector(state.trials[a])[0] < problem.ObjectiveVector(state.trials[b])[0];
  });
  for (auto id : sorted) {
    const auto& t = state.trials[id];
    os << "<tr><td>"
       << (o.trial_link.empty() ? std::to_string(id)
                                : "<a href='" + o.trial_link + std::to_string(id) + "'>" + std::to_string(id) + "</a>")
       << "</td><td>" << t.generation << "</td>";
    for (const auto& c : cols) {
      auto it = t.metrics.find(c);
      os << "<td>" << (it == t.metrics.end() ? "-" : Num(it->second)) << "</td>";
    }
    os << "<td class='arch'>" << Esc(t.key) << "</td></tr>";
  }
  os << "</table>";
  if (problem.space) {
    os << "<h2>Front architectures</h2><p>Live graph of each member (layers by longest path from "
          "the input; red: 3x3 conv, orange: 1x1 conv, blue: pooling, grey: skip, purple: "
          "mbconv).</p><div class='graphs'>";
    for (auto id : sorted) {
      const auto& t = state.trials[id];
      os << "<div><b>#" << id << "</b> " << Esc(Label(ym)) << " " << Num(t.metrics.count(ym) ? t.metrics.at(ym) : NAN)
         << ", " << Esc(Label(xm)) << " " << Num(t.metrics.count(xm) ? t.metrics.at(xm) : NAN) << "<br>"
         << GraphDrawing(problem.space->Plan(t.genotype)) << "</div>";
    }
    os << "</div>";
  }
  return os.str();
}

std::string RenderReport(const RunView& v) {
  return RenderReport(v, v.problem ? DefaultPlot(*v.problem) : PlotChoice{});
}

std::string CommonBoxExplanation(const search::CommonBox& box) {
  return box.error.empty()
             ? "Hypervolume, common box: every run's front in one box (ideal: the best of each objective over "
               "these runs' complete, feasible trials; reference: the worst + 10% of the range): these compare. "
               "Own box: the run's own normalisation, as its page and status show it; they do not compare "
               "between runs."
             : "No common box: " + Esc(box.error) + ". Own box: each run's own normalisation; they do not "
               "compare between runs.";
}

std::string RenderReports(const std::vector<RunView>& views, const PlotChoice& plot) {
  std::vector<const search::SearchState*> states;
  std::vector<const search::Problem*> problems;
  for (const auto& v : views) states.push_back(v.state), problems.push_back(v.problem);
  const search::CommonBox box = search::CommonBoxHypervolumes(states, problems);
  std::ostringstream os;
  os << PageHead("paretonas: " + std::to_string(views.size()) + " runs") << "<body><h1>" << views.size()
     << " runs</h1><table><tr><th>run</th><th>evaluations</th><th>front</th><th>hypervolume, common box</th>"
        "<th>own box</th><th>directory</th></tr>";
  std::vector<OverlayRun> overlay;
  for (std::size_t i = 0; i < views.size(); ++i) {
    const RunView& v = views[i];
    const std::string anchor = "#run" + std::to_string(i);
    overlay.push_back({v.title + " [" + std::to_string(i) + "]", anchor, v.state, v.problem});
    os << "<tr><td style='text-align:left'><a href='" << anchor << "'>" << Esc(v.title) << " [" << i << "]</a></td><td>"
       << v.state->NumFinished() << "</td><td>" << v.front.size() << "</td><td>"
       << (std::isnan(box.hv[i]) ? "- " + (box.why[i].empty() ? std::string() : "<small>(" + Esc(box.why[i]) + ")</small>")
                                 : Num(box.hv[i], 4))
       << "</td><td>" << (v.state->hv_history.empty() ? std::string("-") : Num(v.state->hv_history.back(), 4))
       << "</td><td style='text-align:left'><code>" << Esc(v.dir) << "</code></td></tr>";
  }
  os << "</table><p class='note'>" << CommonBoxExplanation(box) << "</p><h2>The runs' fronts</h2>"
     << FrontsOverlay(overlay, plot);
  RenderOptions o;
  o.plot = plot;
  for (std::size_t i = 0; i < views.size(); ++i)
    os << "<h1 id='run" << i << "'>" << Esc(views[i].title) << " [" << i << "]</h1>" << RenderRunBody(views[i], o);
  os << "</body></html>\n";
  return os.str();
}

std::string RenderReport(const RunView& v, const PlotChoice& plot) {
  RenderOptions o;
  o.plot = plot;
  std::ostringstream os;
  os << PageHead(v.title) << "<body><h1>" << Esc(v.title) << "</h1>" << RenderRunBody(v, o)
     << "</body></html>\n";
  return os.str();
}

std::string RenderTrialBody(const RunView& v, std::int64_t id, const std::vector<search::RungResult>& command_curve,
                            const std::string& run_link) {
  if (!v.state || !v.problem || id < 0 || id >= static_cast<std::int64_t>(v.state->trials.size())) return "";
  const search::Trial& t = v.state->trials[static_cast<std::size_t>(id)];
  const search::Problem& problem = *v.problem;
  const auto& front = v.front;
  const bool on_front = std::find(front.begin(), front.end(), id) != front.end();
  std::ostringstream os;
  os << "<p><a href='" << run_link << "'>&larr; " << Esc(v.title) << "</a></p><h1>Trial #" << id << "</h1>"
     << "<p>State: <b>" << search::TrialStateName(t.state) << "</b>" << (on_front ? " (on the Pareto front)" : "")
     << ", generation " << t.generation << ", seed " << t.seed << ", " << Num(t.seconds, 3) << " s of evaluation";
  if (!t.parents.empty()) {
    os << "; parents";
    for (auto p : t.parents) os << " <a href='" << run_link << "/trial/" << p << "'>#" << p << "</a>";
  }
  os << ".</p><p>Architecture: <code>" << Esc(t.key) << "</code></p>";
  if (!t.failure.empty()) os << "<p class='note'>Failure: " << Esc(t.failure) << "</p>";
  os << "<h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>";
  for (const auto& [k, val] : t.metrics)
    os << "<tr><td style='text-align:left'>" << Esc(Label(k)) << "</td><td>" << Num(val, 6) << "</td></tr>";
  os << "</table>";
  if (problem.space && !t.genotype.empty())
    os << "<h2>Graph</h2><p>The live graph (what the DOT export draws; red: 3x3 conv, orange: 1x1 conv, "
          "blue: pooling, grey: skip, purple: mbconv).</p>"
       << GraphDrawing(problem.space->Plan(t.genotype));
  const std::vector<search::RungResult>& curve = t.curve.empty() ? command_curve : t.curve;
  if (!curve.empty()) {
    const std::string unit = t.curve.empty() ? "epoch" : v.config ? v.config->fidelity.resource : "";
    search::SearchState one;
    one.trials.push_back(t);
    one.trials.back().id = 0;
    one.trials.back().curve = curve;
    std::string ym = DefaultPlot(problem).y;
    if (!curve.front().metrics.count(ym) && !curve.front().metrics.empty()) ym = curve.front().metrics.begin()->first;
    os << "<h2>Learning curve</h2>"
       << (t.curve.empty() ? "<p>The <code>curve</code> the training command wrote.</p>" : "")
       << LearningCurves(one, ym, {0}, unit) << "<table><tr><th>" << (t.curve.empty() ? "epoch" : "rung")
       << "</th><th>" << Esc(unit) << "</th>";
    std::vector<std::string> keys;
    for (const auto& c : curve)
      for (const auto& [k, val] : c.metrics)
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    for (const auto& k : keys) os << "<th>" << Esc(k) << "</th>";
    os << "</tr>";
    for (const auto& c : curve) {
      os << "<tr><td>" << c.rung << "</td><td>" << Num(c.resource) << "</td>";
      for (const auto& k : keys) os << "<td>" << (c.metrics.count(k) ? Num(c.metrics.at(k), 6) : "-") << "</td>";
      os << "</tr>";
    }
    os << "</table>";
  }
  if (t.state == search::TrialState::kComplete)
    os << "<h2>Export</h2><pre>paretonas export " << Esc(v.dir) << " --id " << id
       << " --format json,onnx,torchscript --out " << Esc(v.dir) << "/export-" << id << "</pre>";
  return os.str();
}

}  // namespace paretonas::experiments
