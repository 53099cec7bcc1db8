#include "experiments/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "search/search_loop.h"
#include "space/search_space.h"

namespace paretonas::experiments {
namespace {

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string Num(double v, int digits = 4) {
  if (!std::isfinite(v)) return "-";
  char buf[40];
  if (std::abs(v) >= 1e4 && std::floor(v) == v) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

struct Axis {
  double lo, hi;
  double step;  ///< between ticks: 1, 2 or 5 times a power of ten
  double Map(double v, double a, double b) const { return a + (v - lo) / (hi - lo) * (b - a); }
};

/// An axis over `values` whose ends are round multiples of a round step (about 4-6 ticks):
/// 0.4, 0.8, 1.2 rather than 0.415, 0.736. `integer`: the step is a whole number (counts).
Axis MakeAxis(const std::vector<double>& values, bool integer = false) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) return {0, 1, 0.25};
  if (hi - lo <= 0) {
    lo -= integer ? 1 : 0.5 * std::max(1e-9, std::abs(lo));
    hi += integer ? 1 : 0.5 * std::max(1e-9, std::abs(hi));
  }
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double f : {1.0, 2.0, 5.0, 10.0})
    if (f * mag >= raw) {
      step = f * mag;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

/// The metric with its unit, for axis labels and table headers.
std::string Label(const std::string& metric) {
  static const std::map<std::string, std::string> kLabels{
      {"val_accuracy", "validation accuracy (%)"},   {"val_error", "validation error (%)"},
      {"latency_ms", "latency (ms, batch 1)"},       {"predicted_latency_ms", "predicted latency (ms)"},
      {"params", "parameters"},                      {"macs", "MACs"},
      {"model_bytes", "model size (bytes)"},         {"activation_bytes", "activation memory (bytes)"},
      {"peak_activation_bytes", "peak activation memory (bytes)"}, {"train_seconds", "training time (s)"},
      {"int8_val_accuracy", "int8 validation accuracy (%)"}, {"int8_val_error", "int8 validation error (%)"},
      {"int8_latency_ms", "int8 latency (ms, batch 1)"},     {"int8_model_bytes", "int8 model size (bytes)"},
      {"int8_peak_memory_bytes", "int8 peak memory (bytes)"}};
  const auto it = kLabels.find(metric);
  return it == kLabels.end() ? metric : it->second;
}

// Axis ticks and labels of a plot box.
void Ticks(std::ostringstream& os, const Axis& x, const Axis& y, double x0, double x1, double y0,
           double y1, const std::string& xlabel, const std::string& ylabel) {
  os << "<rect x='" << x0 << "' y='" << y1 << "' width='" << x1 - x0 << "' height='" << y0 - y1
     << "' fill='none' stroke='#444'/>";
  for (double xv = x.lo; xv <= x.hi + 1e-9 * x.step; xv += x.step) {
    const double px = x.Map(xv, x0, x1);
    os << "<line x1='" << px << "' y1='" << y0 << "' x2='" << px << "' y2='" << y0 + 5
       << "' stroke='#444'/><text x='" << px << "' y='" << y0 + 18
       << "' font-size='11' text-anchor='middle'>" << Num(std::abs(xv) < 1e-12 * x.step ? 0 : xv, 6) << "</text>";
  }
  for (double yv = y.lo; yv <= y.hi + 1e-9 * y.step; yv += y.step) {
    const double py = y.Map(yv, y0, y1);
    os << "<line x1='" << x0 - 5 << "' y1='" << py << "' x2='" << x0 << "' y2='" << py
       << "' stroke='#444'/><text x='" << x0 - 8 << "' y='" << py + 4
       << "' font-size='11' text-anchor='end'>" << Num(std::abs(yv) < 1e-12 * y.step ? 0 : yv, 6) << "</text>";
  }
  os << "<text x='" << (x0 + x1) / 2 << "' y='" << y0 + 36 << "' font-size='13' text-anchor='middle'>"
     << Esc(xlabel) << "</text><text transform='translate(" << x0 - 48 << "," << (y0 + y1) / 2
     << ") rotate(-90)' font-size='13' text-anchor='middle'>" << Esc(ylabel) << "</text>";
}

std::string Scatter(const search::SearchState& state, const std::string& xm, const std::string& ym,
                    const std::vector<std::int64_t>& front) {
  std::vector<std::int64_t> ids;
  std::vector<double> xs, ys;
  for (const auto& t : state.trials) {
    if (t.state != search::TrialState::kComplete || !t.metrics.count(xm) || !t.metrics.count(ym)) continue;
    ids.push_back(t.id);
    xs.push_back(t.metrics.at(xm));
    ys.push_back(t.metrics.at(ym));
  }
  // A robust range: a few values far beyond the rest (a 14 ms outlier among 1-1.5 ms networks)
  // would squeeze everything else into a sliver. They are drawn at the edge with their value.
  auto robust_top = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.size() < 8) return std::numeric_limits<double>::infinity();
    const double p90 = v[static_cast<std::size_t>(0.9 * static_cast<double>(v.size() - 1))];
    const double lo = v.front();
    return v.back() - lo > 3 * (p90 - lo) && p90 > lo ? p90 + 0.6 * (p90 - lo) : std::numeric_limits<double>::infinity();
  };
  const double xcap = robust_top(xs), ycap = robust_top(ys);
  std::vector<double> xin, yin;
  for (double v : xs) if (v <= xcap) xin.push_back(v);
  for (double v : ys) if (v <= ycap) yin.push_back(v);
  const Axis ax = MakeAxis(xin), ay = MakeAxis(yin);
  // The legend sits above the plot box, where it cannot cover a point.
  const double x0 = 70, x1 = 640, y0 = 385, y1 = 45;
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='680' height='435' class='plot'>";
  Ticks(os, ax, ay, x0, x1, y0, y1, Label(xm), Label(ym));
  std::vector<std::pair<double, double>> fp;
  for (auto id : front) {
    const auto& m = state.trials[id].metrics;
    if (m.count(xm) && m.count(ym)) fp.emplace_back(m.at(xm), m.at(ym));
  }
  std::sort(fp.begin(), fp.end());
  os << "<polyline fill='none' stroke='#1a9641' stroke-width='2' points='";
  for (const auto& [x, y] : fp)
    os << (x > xcap ? x1 : ax.Map(x, x0, x1)) << "," << (y > ycap ? y1 : ay.Map(y, y0, y1)) << " ";
  os << "'/>";
  int noisy = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool on = std::find(front.begin(), front.end(), ids[i]) != front.end();
    const auto& m = state.trials[ids[i]].metrics;
    // A latency whose interval stayed wider than the target: drawn hollow, with its interval.
    // The latency on an axis (fp32's, or the int8 model's) and its flags.
    const std::string lm = xm == "latency_ms" || xm == "int8_latency_ms" ? xm
                           : ym == "latency_ms" || ym == "int8_latency_ms" ? ym : "";
    const std::string pre = lm == "int8_latency_ms" ? "int8_" : "";
    const auto nz = m.find(pre + "latency_noisy");
    const bool uncertain = !lm.empty() && nz != m.end() && nz->second > 0;
    const std::string color = on ? "#1a9641" : "#d7191c";
    const bool xo = xs[i] > xcap, yo = ys[i] > ycap;  // beyond the robust range: at the edge
    const double cx = xo ? x1 : ax.Map(xs[i], x0, x1), cy = yo ? y1 : ay.Map(ys[i], y0, y1);
    if (xo || yo)
      os << "<text x='" << cx - 4 << "' y='" << cy - 6 << "' font-size='10' text-anchor='end' fill='#555'>"
         << (xo ? Num(xs[i]) + " &#8594;" : Num(ys[i]) + " &#8593;") << "</text>";
    if (on)
      os << "<text x='" << cx + 6 << "' y='" << cy - 6 << "' font-size='10' fill='#1a9641'>#" << ids[i] << "</text>";
    std::string interval;
    const std::string shown = lm.empty() ? "latency_ms" : lm;  // the latency the tooltip names
    if (m.count(pre + "latency_ci_ms")) {
      const double half = m.at(pre + "latency_ci_ms");
      interval = " +-" + Num(half) + " ms";
      if (uncertain && xm == lm)
        os << "<line x1='" << ax.Map(xs[i] - half, x0, x1) << "' y1='" << cy << "' x2='"
           << ax.Map(xs[i] + half, x0, x1) << "' y2='" << cy << "' stroke='" << color << "'/>";
      if (uncertain && ym == lm)
        os << "<line x1='" << cx << "' y1='" << ay.Map(ys[i] - half, y0, y1) << "' x2='" << cx
           << "' y2='" << ay.Map(ys[i] + half, y0, y1) << "' stroke='" << color << "'/>";
    }
    noisy += uncertain;
    os << "<circle cx='" << cx << "' cy='" << cy << "' r='" << (on ? 5 : 3.5) << "' fill='"
       << (uncertain ? "white" : color) << "' stroke='" << color << "' fill-opacity='"
       << (on || uncertain ? 1 : 0.55) << "'><title>#" << ids[i] << " " << Esc(state.trials[ids[i]].key)
       << (m.count(shown) ? "; " + std::string(pre.empty() ? "" : "int8 ") + "latency " + Num(m.at(shown)) + " ms" + interval
                          : std::string())
       << (uncertain ? " (noisy: measured on a busy machine)" : "") << "</title></circle>";
  }
  os << "<circle cx='" << x0 + 10 << "' cy='20' r='5' fill='#1a9641'/><text x='" << x0 + 20
     << "' y='24' font-size='12'>Pareto front (" << front.size() << ")</text><circle cx='"
     << x0 + 190 << "' cy='20' r='3.5' fill='#d7191c' fill-opacity='0.55'/><text x='" << x0 + 200
     << "' y='24' font-size='12'>dominated (" << ids.size() - fp.size() << ")</text>";
  if (noisy > 0)
    os << "<circle cx='" << x0 + 340 << "' cy='20' r='4' fill='white' stroke='#444'/><text x='"
       << x0 + 350 << "' y='24' font-size='12'>noisy latency, with its interval (" << noisy << ")</text>";
  os << "</svg>";
  return os.str();
}


/// Learning curves (multi-fidelity): `ym` at each rung against the rung's resource, for every
/// trial that has a curve (grey) and the front members (green, with their ids).
std::string LearningCurves(const search::SearchState& state, const std::string& ym,
                           const std::vector<std::int64_t>& front, const std::string& unit) {
  std::vector<double> xs, ys;
  for (const auto& t : state.trials)
    for (const auto& c : t.curve)
      if (c.metrics.count(ym)) {
        xs.push_back(c.resource);
        ys.push_back(c.metrics.at(ym));
      }
  const Axis ax = MakeAxis(xs), ay = MakeAxis(ys);
  const double x0 = 70, x1 = 640, y0 = 385, y1 = 45;
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='680' height='435' class='plot'>";
  Ticks(os, ax, ay, x0, x1, y0, y1, "training (" + unit + ")", Label(ym));
  auto line = [&](const search::Trial& t, bool on) {
    os << "<polyline fill='none' stroke='" << (on ? "#1a9641" : "#999") << "' stroke-width='"
       << (on ? 2 : 1) << "' stroke-opacity='" << (on ? 1 : 0.35) << "' points='";
    for (const auto& c : t.curve)
      if (c.metrics.count(ym)) os << ax.Map(c.resource, x0, x1) << "," << ay.Map(c.metrics.at(ym), y0, y1) << " ";
    os << "'><title>#" << t.id << " " << Esc(t.key) << "</title></polyline>";
    // The last point, so that a trial stopped at the first rung (no line) shows too.
    const auto& c = t.curve.back();
    if (c.metrics.count(ym))
      os << "<circle cx='" << ax.Map(c.resource, x0, x1) << "' cy='" << ay.Map(c.metrics.at(ym), y0, y1)
         << "' r='" << (on ? 3.5 : 2) << "' fill='" << (on ? "#1a9641" : "#999") << "' fill-opacity='"
         << (on ? 1 : 0.5) << "'/>";
  };
  for (const auto& t : state.trials)
    if (!t.curve.empty() && std::find(front.begin(), front.end(), t.id) == front.end()) line(t, false);
  for (auto id : front) line(state.trials[id], true);
  os << "<line x1='" << x0 + 5 << "' y1='20' x2='" << x0 + 25 << "' y2='20' stroke='#1a9641' "
     << "stroke-width='2'/><text x='" << x0 + 30 << "' y='24' font-size='12'>Pareto front</text>"
     << "<line x1='" << x0 + 140 << "' y1='20' x2='" << x0 + 160 << "' y2='20' stroke='#999'/>"
     << "<text x='" << x0 + 165 << "' y='24' font-size='12'>other trials (stopped where the "
     << "line ends)</text></svg>";
  return os.str();
}

std::string HypervolumePlot(const search::SearchState& state) {
  std::vector<double> xs(state.hv_evals.begin(), state.hv_evals.end());
  const Axis ax = MakeAxis(xs, /*integer=*/true), ay = MakeAxis(state.hv_history);
  const double x0 = 70, x1 = 640, y0 = 260, y1 = 20;
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='680' height='310' class='plot'>";
  Ticks(os, ax, ay, x0, x1, y0, y1, "evaluations (finished)",
        "hypervolume (in the first front's box; above 1: beyond it)");
  os << "<polyline fill='none' stroke='#2b83ba' stroke-width='2' points='";
  for (size_t i = 0; i < xs.size(); ++i)
    os << ax.Map(xs[i], x0, x1) << "," << ay.Map(state.hv_history[i], y0, y1) << " ";
  os << "'/>";
  for (size_t i = 0; i < xs.size(); ++i)
    os << "<circle cx='" << ax.Map(xs[i], x0, x1) << "' cy='" << ay.Map(state.hv_history[i], y0, y1)
       << "' r='3' fill='#2b83ba'/>";
  os << "</svg>";
  return os.str();
}

std::string OpColor(const space::OpSpec& op) {
  switch (op.kind) {
    case space::OpKind::kSkip: return "#999999";
    case space::OpKind::kNorConv: return op.kernel >= 3 ? "#d7191c" : "#fdae61";
    case space::OpKind::kAvgPool:
    case space::OpKind::kMaxPool:
    case space::OpKind::kMaxPoolDown: return "#2b83ba";
    case space::OpKind::kDenseRelu: return "#d95f02";
    case space::OpKind::kMBConv: return "#7b3294";
    default: return "#1a1a1a";
  }
}

// Layered drawing of the live graph: a vertex's layer is its longest path from the input.
std::string GraphDrawing(const space::NetworkPlan& plan) {
  const int n = static_cast<int>(plan.vertices.size());
  std::vector<int> layer(n, -1);
  layer[plan.input] = 0;
  for (const auto& e : plan.edges)  // edges are in topological order of their targets
    if (e.live && layer[e.src] >= 0) layer[e.dst] = std::max(layer[e.dst], layer[e.src] + 1);
  std::map<int, std::vector<int>> by_layer;
  for (int v = 0; v < n; ++v)
    if (layer[v] >= 0 && (v == plan.input || v == plan.output || layer[v] > 0)) by_layer[layer[v]].push_back(v);
  if (layer[plan.output] < 0) return "<p><em>the output is not connected to the input</em></p>";
  size_t widest = 1;
  for (const auto& [l, vs] : by_layer) widest = std::max(widest, vs.size());
  const double w = std::max<double>(340, 170.0 * widest), h = 70.0 * by_layer.size() + 20;
  std::map<int, std::pair<double, double>> pos;
  for (const auto& [l, vs] : by_layer)
    for (size_t i = 0; i < vs.size(); ++i) pos[vs[i]] = {w * (i + 1) / (vs.size() + 1), 30 + 70.0 * l};
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "'>";
  // Edges that would overlap (parallel edges, or edges skipping layers along one column) are
  // drawn as curves bent alternately left and right.
  std::map<std::pair<int, int>, int> seen_pair;
  int bends = 0;
  for (const auto& e : plan.edges) {
    if (!e.live || !pos.count(e.src) || !pos.count(e.dst)) continue;
    const auto [xa, ya] = pos[e.src];
    const auto [xb, yb] = pos[e.dst];
    const int parallel = seen_pair[{e.src, e.dst}]++;
    const int span = layer[e.dst] - layer[e.src];
    double bend = 0;
    if (parallel > 0 || span > 1) {
      ++bends;
      bend = (bends % 2 ? 1 : -1) * (28.0 * span + 18.0 * parallel);
    }
    const double mx = (xa + xb) / 2 + bend, my = (ya + yb) / 2;
    os << "<path d='M" << xa << "," << ya << " Q" << mx + bend << "," << my << " " << xb << ","
       << yb << "' fill='none' stroke='" << OpColor(e.op) << "' stroke-width='2'/><text x='"
       << mx + (bend < 0 ? -4 : 4) << "' y='" << my + 3 << "' font-size='10' text-anchor='"
       << (bend < 0 ? "end" : "start") << "' fill='" << OpColor(e.op) << "'>" << Esc(e.op.Label())
       << "</text>";
  }
  for (const auto& [v, p] : pos) {
    const auto& s = plan.vertices[v];
    os << "<circle cx='" << p.first << "' cy='" << p.second << "' r='6' fill='"
       << (v == plan.input || v == plan.output ? "#1a9641" : "#fff") << "' stroke='#333'><title>"
       << s.c << "x" << s.h << "x" << s.w << "</title></circle>";
  }
  os << "</svg>";
  return os.str();
}

}  // namespace

std::string RenderReport(const std::string& title, const search::SearchState& state,
                         const search::Problem& problem, const search::FidelityOptions& fidelity) {
  const auto front = search::ParetoFront(state, problem);
  std::string xm, ym;
  auto has = [&](const std::string& m) {
    return std::any_of(problem.objectives.begin(), problem.objectives.end(),
                       [&](const search::Objective& o) { return o.metric == m; });
  };
  if (has("val_accuracy") && has("latency_ms")) {
    xm = "latency_ms";
    ym = "val_accuracy";
  } else if (has("int8_val_accuracy") && has("int8_latency_ms")) {
    xm = "int8_latency_ms";
    ym = "int8_val_accuracy";
  } else {
    xm = problem.objectives[1].metric;
    ym = problem.objectives[0].metric;
  }
  int failed = 0;
  for (const auto& t : state.trials) failed += t.state == search::TrialState::kFailed;
  const std::int64_t screened = state.NumScreened();
  std::ostringstream os;
  os << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" << Esc(title)
     << "</title><style>body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td.arch{text-align:left;font-family:monospace;font-size:11px;word-break:break-all;max-width:420px}"
        ".plot{background:#fafafa}.graphs{display:flex;flex-wrap:wrap;gap:16px}"
        ".graphs div{border:1px solid #ddd;padding:6px}</style></head><body>";
  os << "<h1>" << Esc(title) << "</h1><p>" << state.NumFinished() << " evaluations (" << failed
     << " failed), " << state.generation << " generations, strategy " << Esc(state.strategy)
     << ", seed " << state.seed << ". Objectives: ";
  for (size_t i = 0; i < problem.objectives.size(); ++i)
    os << (i ? ", " : "") << (problem.objectives[i].maximize ? "max " : "min ")
       << Esc(problem.objectives[i].metric);
  for (const auto& c : problem.constraints) os << "; " << Esc(c.ToString());
  os << ".</p>";
  {  // Latencies measured on a busy machine: say so before the plots that use them.
    int measured = 0, noisy = 0, noisy_front = 0;
    double discarded = 0, passes = 0, load = -1;
    for (const auto& t : state.trials) {
      if (t.state != search::TrialState::kComplete || !t.metrics.count("latency_passes")) continue;
      const auto& m = t.metrics;
      ++measured;
      const bool n = m.count("latency_noisy") && m.at("latency_noisy") > 0;
      noisy += n;
      noisy_front += n && std::find(front.begin(), front.end(), t.id) != front.end();
      discarded += m.count("latency_discarded") ? m.at("latency_discarded") : 0;
      passes += m.at("latency_passes") + (m.count("latency_discarded") ? m.at("latency_discarded") : 0);
      if (m.count("latency_load")) load = std::max(load, m.at("latency_load"));
    }
    if (noisy > 0)
      os << "<p style='background:#fff3cd;padding:6px'><b>" << noisy << " of " << measured
         << " measured latencies are noisy</b> (" << noisy_front << " on the front): their 95% interval "
            "stayed wider than the target after every round the caps allowed, because the machine was busy ("
         << Num(discarded, 6) << " of " << Num(passes, 6) << " timed passes were discarded as descheduled"
         << (load >= 0 ? "; load average up to " + Num(load, 2) + " per core" : std::string())
         << "). They are drawn hollow, with their interval. Re-time the front on a quiet machine with "
            "<code>paretonas latency measure --front-of RUN --compare</code>.</p>";
    else if (discarded > 0)
      os << "<p>Latency: " << Num(discarded, 6) << " of " << Num(passes, 6)
         << " timed passes were discarded as descheduled and re-run; every latency reached its "
            "target precision.</p>";
  }
  if (screened > 0)
    os << "<p>Pre-screen: " << screened << " more proposals were scored by their zero-cost proxies "
          "and static costs and not trained (status <code>screened</code> in trials.jsonl).</p>";
  if (fidelity.enabled()) {
    std::vector<std::int64_t> reached(fidelity.rungs.size(), 0);
    int stopped = 0;
    for (const auto& t : state.trials) {
      stopped += t.state == search::TrialState::kStopped;
      for (const auto& c : t.curve)
        if (c.rung >= 0 && c.rung < static_cast<int>(reached.size())) ++reached[c.rung];
    }
    os << "<p>Multi-fidelity (successive halving, eta " << Num(fidelity.eta) << "): ";
    for (size_t r = 0; r < reached.size(); ++r)
      os << (r ? ", " : "") << reached[r] << " trained to rung " << r << " (" << Num(fidelity.rungs[r])
         << " " << Esc(fidelity.resource) << ")";
    os << "; " << stopped << " stopped below the top rung. The front, its hypervolume and the "
          "plot below use top-rung results only.</p>";
  }
  const bool any_complete = std::any_of(state.trials.begin(), state.trials.end(), [](const search::Trial& t) {
    return t.state == search::TrialState::kComplete;
  });
  if (any_complete) {
    os << "<h2>Every evaluated architecture</h2>" << Scatter(state, xm, ym, front);
  } else {
    // Nothing to draw: say why the trials failed instead (most common reason first).
    std::map<std::string, int> reasons;
    for (const auto& t : state.trials)
      if (t.state == search::TrialState::kFailed) ++reasons[t.failure.substr(0, t.failure.find('\n'))];
    std::vector<std::pair<int, std::string>> sorted;
    for (const auto& [r, n] : reasons) sorted.push_back({-n, r});
    std::sort(sorted.begin(), sorted.end());
    os << "<h2>No complete trial</h2><p>Nothing to plot: " << failed << " trial(s) failed";
    if (!sorted.empty()) os << ". Their reasons, most common first:</p><ul>";
    for (const auto& [n, r] : sorted) os << "<li>" << -n << " &times; " << Esc(r) << "</li>";
    os << (sorted.empty() ? "</p>" : "</ul>");
  }
  if (!state.hv_history.empty()) os << "<h2>Hypervolume</h2>" << HypervolumePlot(state);
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
    os << "<tr><td>" << id << "</td><td>" << t.generation << "</td>";
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
  os << "</body></html>\n";
  return os.str();
}

}  // namespace paretonas::experiments
