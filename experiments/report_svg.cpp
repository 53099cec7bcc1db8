// SVG plots of the run page: axes, the scatter of every trial, learning curves, the hypervolume,
// and several runs' fronts on one plot.
#include "experiments/report_parts.h"

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

namespace paretonas::experiments {
namespace report_parts {

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

std::string Num(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[400];  // to_chars: printf's %.0f / %.*g, without printf's cost (plots of 10,000 points)
  const auto r = std::abs(v) >= 1e4 && std::floor(v) == v
                     ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 0)
                     : std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, digits);
  return std::string(buf, r.ptr);
}

/// A pixel coordinate with one decimal, written without printf (a plot of 10,000 points writes
/// 20,000 of them).
struct Px {
  double v;
};
std::ostream& operator<<(std::ostream& os, Px p) {
  if (!std::isfinite(p.v)) return os << "0";
  long long t = std::llround(p.v * 10);
  char buf[32], *e = buf + sizeof(buf), *b = e;
  const bool neg = t < 0;
  if (neg) t = -t;
  *--b = static_cast<char>('0' + t % 10);
  *--b = '.';
  t /= 10;
  do {
    *--b = static_cast<char>('0' + t % 10);
    t /= 10;
  } while (t > 0);
  if (neg) *--b = '-';
  return os.write(b, e - b);
}

struct Axis {
  double lo, hi;
  double step;  ///< between ticks: 1, 2 or 5 times a power of ten (linear axes)
  bool log = false;
  double T(double v) const { return log ? std::log10(v) : v; }
  double Map(double v, double a, double b) const { return a + (T(v) - T(lo)) / (T(hi) - T(lo)) * (b - a); }
  std::vector<double> TickValues() const {
    std::vector<double> t;
    if (!log) {
      for (double v = lo; v <= hi + 1e-9 * step; v += step) t.push_back(std::abs(v) < 1e-12 * step ? 0 : v);
      return t;
    }
    // 1-9, else 1-2-5, else 1 times each power of ten: no more than about ten ticks.
    for (const std::vector<int>& ms : {std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 5}, {1}}) {
      t.clear();
      for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi))); ++e)
        for (int m : ms) {
          const double v = m * std::pow(10.0, e);
          if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
        }
      if (t.size() <= 10) break;
    }
    return t;
  }
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

/// A log axis over the positive `values`, its ends at 1-9 times a power of ten.
Axis MakeLogAxis(const std::vector<double>& values) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (double v : values)
    if (std::isfinite(v) && v > 0) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!std::isfinite(lo)) return {1, 10, 0, true};
  const double elo = std::pow(10.0, std::floor(std::log10(lo))), ehi = std::pow(10.0, std::floor(std::log10(hi)));
  Axis a{std::floor(lo / elo * (1 + 1e-12)) * elo, std::ceil(hi / ehi * (1 - 1e-12)) * ehi, 0, true};
  if (a.hi <= a.lo) a.hi = a.lo * 2;
  return a;
}

/// Whether every value can go on a log axis.
bool AllPositive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

/// The axis label with its scale: ", log", or why a log axis asked for stayed linear.
std::string ScaleNote(bool log_asked, bool log_used) {
  return log_asked ? log_used ? ", log" : " (linear: a value <= 0)" : "";
}

/// The metric with its unit, for axis labels and table headers.
std::string Label(const std::string& metric) {
  static const std::map<std::string, std::string> kLabels{
      {"val_accuracy", "validation accuracy (%)"},   {"val_error", "validation error (%)"},
      {"latency_ms", "latency (ms, batch 1)"},       {"predicted_latency_ms", "predicted latency (ms)"},
      {"params", "parameters"},                      {"macs", "MACs"},
      {"model_bytes", "weights file (bytes, torch::save)"},         {"activation_bytes", "activation memory (bytes)"},
      {"peak_activation_bytes", "peak activation memory (bytes)"}, {"train_seconds", "training time (s)"},
      {"int8_val_accuracy", "int8 validation accuracy (%)"}, {"int8_val_error", "int8 validation error (%)"},
      {"int8_latency_ms", "int8 latency (ms, batch 1)"},
      {"int8_model_bytes", "int8 tensor bytes (weights, scales, biases; not a file)"},
      {"int8_peak_memory_bytes", "int8 peak memory (bytes)"},
      {"torchscript_bytes", "TorchScript file (bytes)"},     {"onnx_bytes", "ONNX file (bytes)"},
      {"int8_torchscript_bytes", "int8 TorchScript file (bytes)"}, {"int8_onnx_bytes", "int8 ONNX file (bytes)"}};
  const auto it = kLabels.find(metric);
  return it == kLabels.end() ? metric : it->second;
}

// Axis ticks and labels of a plot box.
void Ticks(std::ostringstream& os, const Axis& x, const Axis& y, double x0, double x1, double y0,
           double y1, const std::string& xlabel, const std::string& ylabel) {
  os << "<rect x='" << x0 << "' y='" << y1 << "' width='" << x1 - x0 << "' height='" << y0 - y1
     << "' fill='none' stroke='#444'/>";
  for (double xv : x.TickValues()) {
    const double px = x.Map(xv, x0, x1);
    os << "<line x1='" << px << "' y1='" << y0 << "' x2='" << px << "' y2='" << y0 + 5
       << "' stroke='#444'/><text x='" << px << "' y='" << y0 + 18
       << "' font-size='11' text-anchor='middle'>" << Num(xv, 6) << "</text>";
  }
  for (double yv : y.TickValues()) {
    const double py = y.Map(yv, y0, y1);
    os << "<line x1='" << x0 - 5 << "' y1='" << py << "' x2='" << x0 << "' y2='" << py
       << "' stroke='#444'/><text x='" << x0 - 8 << "' y='" << py + 4
       << "' font-size='11' text-anchor='end'>" << Num(yv, 6) << "</text>";
  }
  os << "<text x='" << (x0 + x1) / 2 << "' y='" << y0 + 36 << "' font-size='13' text-anchor='middle'>"
     << Esc(xlabel) << "</text><text transform='translate(" << x0 - 48 << "," << (y0 + y1) / 2
     << ") rotate(-90)' font-size='13' text-anchor='middle'>" << Esc(ylabel) << "</text>";
}

/// Whether more of `metric` is better on a plot axis: the objective's goal when it is one, else
/// accuracies and the zero-cost proxies up, everything else (times, sizes, errors) down.
bool HigherIsBetter(const std::string& metric, const search::Problem& problem) {
  for (const auto& o : problem.objectives)
    if (o.metric == metric) return o.maximize;
  return metric.find("accuracy") != std::string::npos || search::IsProxyName(metric);
}

/// Every complete trial on the two chosen axes. The green line and points are the front *on
/// these axes* (feasible trials no other dominates in the two metrics, with each metric's goal):
/// the search's own front is over its objectives and constraints, so on other axes, or with three
/// objectives or more, its members can look dominated here: they are outlined in black, and the
/// caption says so. Infeasible trials (violating a constraint) are drawn as grey crosses.
std::string Scatter(const search::SearchState& state, const search::Problem& problem, const PlotChoice& pc,
                    const std::vector<std::int64_t>& front, const std::string& link) {
  const std::string &xm = pc.x, &ym = pc.y;
  std::vector<std::int64_t> ids;
  std::vector<double> xs, ys;
  std::vector<char> feasible;
  for (const auto& t : state.trials) {
    if (t.state != search::TrialState::kComplete || !t.metrics.count(xm) || !t.metrics.count(ym)) continue;
    ids.push_back(t.id);
    xs.push_back(t.metrics.at(xm));
    ys.push_back(t.metrics.at(ym));
    feasible.push_back(problem.Violation(t) <= 0);
  }
  // The front on these axes (minimisation form: a metric whose higher values are better negated).
  const bool x_up = HigherIsBetter(xm, problem), y_up = HigherIsBetter(ym, problem);
  std::vector<char> on_axes_front(ids.size(), 0);
  {
    std::vector<search::Point> pts;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (feasible[i]) {
        pts.push_back({x_up ? -xs[i] : xs[i], y_up ? -ys[i] : ys[i]});
        which.push_back(i);
      }
    if (!pts.empty()) {
      const auto fronts = search::NonDominatedSort(pts);
      for (int k : fronts[0]) on_axes_front[which[static_cast<std::size_t>(k)]] = 1;
    }
  }
  // Are these axes the search's objectives (and only those)? Then the two fronts are one.
  const bool axes_are_objectives =
      problem.objectives.size() == 2 && ((problem.objectives[0].metric == xm && problem.objectives[1].metric == ym) ||
                                         (problem.objectives[0].metric == ym && problem.objectives[1].metric == xm));
  // A robust range: a few values far beyond the rest (a 14 ms outlier among 1-1.5 ms networks)
  // would squeeze everything else into a sliver. They are drawn at the edge with their value.
  auto robust_top = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.size() < 8) return std::numeric_limits<double>::infinity();
    const double p90 = v[static_cast<std::size_t>(0.9 * static_cast<double>(v.size() - 1))];
    const double lo = v.front();
    return v.back() - lo > 3 * (p90 - lo) && p90 > lo ? p90 + 0.6 * (p90 - lo) : std::numeric_limits<double>::infinity();
  };
  // A log axis needs positive values; with a value <= 0 the axis stays linear (the caption says so).
  const bool lx = pc.log_x && AllPositive(xs), ly = pc.log_y && AllPositive(ys);
  const double inf = std::numeric_limits<double>::infinity();
  const double xcap = lx ? inf : robust_top(xs), ycap = ly ? inf : robust_top(ys);
  std::vector<double> xin, yin;
  for (double v : xs) if (v <= xcap) xin.push_back(v);
  for (double v : ys) if (v <= ycap) yin.push_back(v);
  const Axis ax = lx ? MakeLogAxis(xin) : MakeAxis(xin), ay = ly ? MakeLogAxis(yin) : MakeAxis(yin);
  std::vector<char> on_search_front(state.trials.size(), 0);
  for (auto id : front) on_search_front[static_cast<std::size_t>(id)] = 1;
  // The legend sits above the plot box, where it cannot cover a point.
  const double x0 = 70, x1 = 640, y0 = 385, y1 = 45;
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='680' height='435' class='plot'>";
  Ticks(os, ax, ay, x0, x1, y0, y1, Label(xm) + ScaleNote(pc.log_x, lx), Label(ym) + ScaleNote(pc.log_y, ly));
  std::vector<std::pair<double, double>> fp;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (on_axes_front[i]) fp.emplace_back(xs[i], ys[i]);
  std::sort(fp.begin(), fp.end());
  os << "<polyline fill='none' stroke='#1a9641' stroke-width='2' points='";
  for (const auto& [x, y] : fp)
    os << (x > xcap ? x1 : ax.Map(x, x0, x1)) << "," << (y > ycap ? y1 : ay.Map(y, y0, y1)) << " ";
  os << "'/>";
  int noisy = 0, infeasible = 0, outlined = 0;
  // The latency on an axis (fp32's, or the int8 model's) and its flags; the one the tooltip names.
  const std::string lm = xm == "latency_ms" || xm == "int8_latency_ms" ? xm
                         : ym == "latency_ms" || ym == "int8_latency_ms" ? ym : "";
  const std::string pre = lm == "int8_latency_ms" ? "int8_" : "";
  const std::string noisy_key = pre + "latency_noisy", ci_key = pre + "latency_ci_ms";
  const std::string shown = lm.empty() ? "latency_ms" : lm;
  const std::string xm_esc = Esc(xm), ym_esc = Esc(ym);
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool on = on_axes_front[i] != 0;
    const bool searched = on_search_front[static_cast<std::size_t>(ids[i])] != 0;
    const search::Trial& t = state.trials[ids[i]];
    const auto& m = t.metrics;
    // A latency whose interval stayed wider than the target: drawn hollow, with its interval.
    const auto nz = m.find(noisy_key);
    const bool uncertain = !lm.empty() && nz != m.end() && nz->second > 0;
    const char* color = !feasible[i] ? "#888" : on ? "#1a9641" : "#d7191c";
    const bool xo = xs[i] > xcap, yo = ys[i] > ycap;  // beyond the robust range: at the edge
    const double cx = xo ? x1 : ax.Map(xs[i], x0, x1), cy = yo ? y1 : ay.Map(ys[i], y0, y1);
    if (xo || yo)
      os << "<text x='" << cx - 4 << "' y='" << cy - 6 << "' font-size='10' text-anchor='end' fill='#555'>"
         << (xo ? Num(xs[i]) + " &#8594;" : Num(ys[i]) + " &#8593;") << "</text>";
    if (on || (searched && !axes_are_objectives))
      os << "<text x='" << cx + 6 << "' y='" << cy - 6 << "' font-size='10' fill='" << (on ? "#1a9641" : "#222")
         << "'>#" << ids[i] << "</text>";
    std::string interval;
    if (const auto ci = m.find(ci_key); ci != m.end()) {
      const double half = ci->second;
      interval = " +-" + Num(half) + " ms";
      if (uncertain && xm == lm)
        os << "<line x1='" << ax.Map(xs[i] - half, x0, x1) << "' y1='" << cy << "' x2='"
           << ax.Map(xs[i] + half, x0, x1) << "' y2='" << cy << "' stroke='" << color << "'/>";
      if (uncertain && ym == lm)
        os << "<line x1='" << cx << "' y1='" << ay.Map(ys[i] - half, y0, y1) << "' x2='" << cx
           << "' y2='" << ay.Map(ys[i] + half, y0, y1) << "' stroke='" << color << "'/>";
    }
    noisy += uncertain;
    std::string title = "#" + std::to_string(ids[i]) + " " + Esc(t.key);
    // The latency with its interval (unless it is on an axis: then its value is below with it).
    const auto sh = m.find(shown);
    if (sh != m.end() && shown != xm && shown != ym)
      title += "; " + std::string(pre.empty() ? "" : "int8 ") + "latency " + Num(sh->second) + " ms" + interval;
    title += "; " + ym_esc + " " + Num(ys[i]) + (shown == ym ? interval : "") + ", " + xm_esc + " " + Num(xs[i]) +
             (shown == xm ? interval : "") + (uncertain ? " (noisy: measured on a busy machine)" : "");
    if (!feasible[i]) {
      std::string why;
      for (const auto& v : problem.Violated(t)) why += (why.empty() ? "" : ", ") + v;
      title += "; infeasible: violates " + Esc(why);
    }
    if (searched && !axes_are_objectives) title += "; on the search's front";
    if (!link.empty()) title += "; click for all its metrics";
    if (!link.empty()) os << "<a href='" << link << ids[i] << "'>";
    if (!feasible[i]) {  // a cross: never on a front
      ++infeasible;
      os << "<path data-trial='" << ids[i] << "' class='infeasible' d='M" << Px{cx - 3.5} << " " << Px{cy - 3.5} << "L"
         << Px{cx + 3.5} << " " << Px{cy + 3.5} << "M" << Px{cx - 3.5} << " " << Px{cy + 3.5} << "L" << Px{cx + 3.5}
         << " " << Px{cy - 3.5} << "' stroke='#888' stroke-width='1.5'><title>" << title << "</title></path>";
    } else {
      const bool ring = searched && !axes_are_objectives;
      outlined += ring;
      os << "<circle data-trial='" << ids[i] << "' cx='" << Px{cx} << "' cy='" << Px{cy} << "' r='"
         << (on || ring ? 5 : 3.5) << "' fill='" << (uncertain ? "white" : color) << "' stroke='"
         << (ring ? "#222" : color) << "' stroke-width='" << (ring ? 1.5 : 1) << "' fill-opacity='"
         << (on || uncertain || ring ? 1 : 0.55) << "'><title>" << title << "</title></circle>";
    }
    if (!link.empty()) os << "</a>";
  }
  const std::size_t n_front = fp.size();
  os << "<circle cx='" << x0 + 10 << "' cy='20' r='5' fill='#1a9641'/><text x='" << x0 + 20 << "' y='24' font-size='12'>"
     << (axes_are_objectives ? "Pareto front" : "front on these axes") << " (" << n_front << ")</text><circle cx='"
     << x0 + 190 << "' cy='20' r='3.5' fill='#d7191c' fill-opacity='0.55'/><text x='" << x0 + 200
     << "' y='24' font-size='12'>dominated (" << ids.size() - n_front - infeasible << ")</text>";
  double lx0 = x0 + 300;
  if (infeasible > 0) {
    os << "<path d='M" << lx0 - 3.5 << " 16.5L" << lx0 + 3.5 << " 23.5M" << lx0 - 3.5 << " 23.5L" << lx0 + 3.5
       << " 16.5' stroke='#888' stroke-width='1.5'/><text x='" << lx0 + 10 << "' y='24' font-size='12'>infeasible ("
       << infeasible << ")</text>";
    lx0 += 110;
  }
  if (noisy > 0)
    os << "<circle cx='" << lx0 << "' cy='20' r='4' fill='white' stroke='#444'/><text x='" << lx0 + 10
       << "' y='24' font-size='12'>noisy latency, with its interval (" << noisy << ")</text>";
  os << "</svg>";
  if (!axes_are_objectives) {
    os << "<p class='caption'>The green line is the front on the axes shown (" << Esc(ym) << " "
       << (y_up ? "up" : "down") << ", " << Esc(xm) << " " << (x_up ? "up" : "down")
       << " is better). The search's front is over its " << problem.objectives.size() << " objective(s)"
       << (problem.objectives.size() > 2 ? ", projected here," : "") << " and holds " << front.size()
       << " trial(s): " << outlined
       << " of them drawn here, outlined in black; one that looks dominated on these axes is better in an "
          "objective not shown.</p>";
  }
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
  Ticks(os, ax, ay, x0, x1, y0, y1, "evaluations finished (a point at the end of each generation)", "hypervolume");
  os << "<polyline fill='none' stroke='#2b83ba' stroke-width='2' points='";
  for (size_t i = 0; i < xs.size(); ++i)
    os << ax.Map(xs[i], x0, x1) << "," << ay.Map(state.hv_history[i], y0, y1) << " ";
  os << "'/>";
  for (size_t i = 0; i < xs.size(); ++i)
    os << "<circle cx='" << ax.Map(xs[i], x0, x1) << "' cy='" << ay.Map(state.hv_history[i], y0, y1)
       << "' r='3' fill='#2b83ba'><title>after generation " << i << ": hypervolume "
       << Num(state.hv_history[i]) << ", " << xs[i] << " evaluations</title></circle>";
  os << "</svg>";
  return os.str();
}


}  // namespace report_parts

using namespace report_parts;  // NOLINT: the overlay draws with the plots' own axes

std::string FrontsOverlay(const std::vector<OverlayRun>& runs, const PlotChoice& pc) {
  static const char* kColors[] = {"#1a9641", "#2b83ba", "#d7191c", "#7b3294", "#fdae61", "#555555"};
  std::vector<double> xs, ys;
  std::vector<std::vector<std::int64_t>> fronts;
  for (const auto& r : runs) {
    fronts.push_back(r.state && r.problem ? search::ParetoFront(*r.state, *r.problem) : std::vector<std::int64_t>{});
    if (!r.state) continue;
    for (const auto& t : r.state->trials)
      if (t.state == search::TrialState::kComplete && t.metrics.count(pc.x) && t.metrics.count(pc.y)) {
        xs.push_back(t.metrics.at(pc.x));
        ys.push_back(t.metrics.at(pc.y));
      }
  }
  const bool lx = pc.log_x && AllPositive(xs), ly = pc.log_y && AllPositive(ys);
  const Axis ax = lx ? MakeLogAxis(xs) : MakeAxis(xs), ay = ly ? MakeLogAxis(ys) : MakeAxis(ys);
  const double x0 = 70, x1 = 640, y0 = 385, y1 = 45;
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='680' height='435' class='plot'>";
  Ticks(os, ax, ay, x0, x1, y0, y1, Label(pc.x) + ScaleNote(pc.log_x, lx), Label(pc.y) + ScaleNote(pc.log_y, ly));
  for (size_t r = 0; r < runs.size(); ++r) {
    if (!runs[r].state) continue;
    const std::string color = kColors[r % 6];
    const auto& trials = runs[r].state->trials;
    for (const auto& t : trials)
      if (t.state == search::TrialState::kComplete && t.metrics.count(pc.x) && t.metrics.count(pc.y))
        os << "<circle cx='" << Px{ax.Map(t.metrics.at(pc.x), x0, x1)} << "' cy='" << Px{ay.Map(t.metrics.at(pc.y), y0, y1)}
           << "' r='2' fill='" << color << "' fill-opacity='0.25'/>";
    std::vector<std::pair<double, double>> fp;
    for (auto id : fronts[r]) {
      const auto& m = trials[static_cast<std::size_t>(id)].metrics;
      if (m.count(pc.x) && m.count(pc.y)) fp.emplace_back(m.at(pc.x), m.at(pc.y));
    }
    std::sort(fp.begin(), fp.end());
    os << "<polyline fill='none' stroke='" << color << "' stroke-width='2' points='";
    for (const auto& [x, y] : fp) os << ax.Map(x, x0, x1) << "," << ay.Map(y, y0, y1) << " ";
    os << "'/>";
    for (auto id : fronts[r]) {
      const auto& m = trials[static_cast<std::size_t>(id)].metrics;
      if (!m.count(pc.x) || !m.count(pc.y)) continue;
      if (!runs[r].link.empty()) os << "<a href='" << runs[r].link << "/trial/" << id << "'>";
      os << "<circle data-run='" << r << "' data-trial='" << id << "' cx='" << ax.Map(m.at(pc.x), x0, x1) << "' cy='"
         << ay.Map(m.at(pc.y), y0, y1) << "' r='4' fill='" << color << "'><title>" << Esc(runs[r].label) << " #" << id
         << " " << Esc(trials[static_cast<std::size_t>(id)].key) << "; " << Esc(pc.y) << " " << Num(m.at(pc.y))
         << ", " << Esc(pc.x) << " " << Num(m.at(pc.x)) << "</title></circle>" << (runs[r].link.empty() ? "" : "</a>");
    }
    os << "<circle cx='" << x0 + 10 + 290 * static_cast<double>(r % 2) << "' cy='" << 10 + 14 * static_cast<double>(r / 2)
       << "' r='4' fill='" << color << "'/><text x='" << x0 + 20 + 290 * static_cast<double>(r % 2) << "' y='"
       << 14 + 14 * static_cast<double>(r / 2) << "' font-size='12'>" << Esc(runs[r].label.substr(0, 40)) << " (front "
       << fronts[r].size() << ")</text>";
  }
  os << "</svg>";
  // A run drawn with no point says why: nothing complete yet, or no trial with both metrics.
  for (size_t r = 0; r < runs.size(); ++r) {
    std::size_t complete = 0, both = 0;
    if (runs[r].state)
      for (const auto& t : runs[r].state->trials)
        if (t.state == search::TrialState::kComplete) {
          ++complete;
          both += t.metrics.count(pc.x) && t.metrics.count(pc.y);
        }
    if (both > 0) continue;
    os << "<p class='note'>" << Esc(runs[r].label) << ": no point on these axes: "
       << (!runs[r].state ? std::string("no checkpoint yet")
           : complete == 0 ? std::string("no complete trial yet")
                           : "none of its " + std::to_string(complete) + " complete trials has both " + Esc(pc.x) +
                                 " and " + Esc(pc.y))
       << "</p>";
  }
  return os.str();
}


}  // namespace paretonas::experiments
