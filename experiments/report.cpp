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
