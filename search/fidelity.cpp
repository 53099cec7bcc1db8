#include "search/fidelity.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>

#include "search/proxy_names.h"
#include "search/strategy.h"

namespace paretonas::search {

namespace {
/// A number as a user wrote it ("1", "0.2222"), not std::to_string's "1.000000".
std::string Short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}
}  // namespace

std::string FidelityOptions::Validate() const {
  if (rungs.empty()) return "";
  if (resource != "epochs" && resource != "steps" && resource != "images")
    return "fidelity.resource: '" + resource + "' is not one of epochs, steps, images";
  if (mode != "sync" && mode != "async")
    return "fidelity.mode: '" + mode + "' is not one of sync, async";
  if (promotion != "crowding" && promotion != "crowding_primary" && promotion != "hypervolume" &&
      promotion != "predicted")
    return "fidelity.promotion: '" + promotion + "' is not one of crowding, crowding_primary, hypervolume, predicted";
  if (promotion_pool < 0)
    return "fidelity.promotion_pool: " + std::to_string(promotion_pool) +
           " must be a number of generations >= 1, or all";
  if (promotion_pool != 1 && mode != "sync")
    return "fidelity.promotion_pool: " + (promotion_pool ? std::to_string(promotion_pool) : std::string("all")) +
           " needs mode: sync (async promotes within its generation only)";
  if (!(eta > 1) || !std::isfinite(eta))
    return "fidelity.eta: " + Short(eta) + " must be a number > 1";
  for (size_t i = 0; i < rungs.size(); ++i) {
    if (!(rungs[i] > 0) || !std::isfinite(rungs[i]))
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + Short(rungs[i]) +
             "; rungs must be finite and > 0";
    if (i > 0 && !(rungs[i] > rungs[i - 1]))
      return "fidelity.rungs: must increase, but rung " + std::to_string(i) + " (" +
             Short(rungs[i]) + ") is not above rung " + std::to_string(i - 1) + " (" +
             Short(rungs[i - 1]) + ")";
    if (resource != "epochs" && std::floor(rungs[i]) != rungs[i])
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + Short(rungs[i]) +
             "; " + resource + " must be whole numbers";
  }
  return "";
}

std::string FidelityOptions::Describe() const {
  std::ostringstream os;
  os << resource << " ";
  for (size_t i = 0; i < rungs.size(); ++i) os << (i ? ", " : "") << rungs[i];
  os << " (eta " << eta << ", " << mode;
  if (promotion != "crowding") os << ", promotion by " << promotion;
  if (promotion_pool == 0) os << ", promotion pool: every generation";
  else if (promotion_pool > 1) os << ", promotion pool: " << promotion_pool << " generations";
  os << ")";
  return os.str();
}

std::vector<double> GeometricRungs(double min, double max, double eta) {
  std::vector<double> r;
  if (!(min > 0) || !(max >= min) || !(eta > 1)) return r;
  for (double v = max; v >= min * (1 - 1e-9); v /= eta) {
    // Six significant digits, as the resolved config writes them back exactly.
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    r.push_back(std::strtod(buf, nullptr));
    if (r.size() > 64) break;
  }
  std::reverse(r.begin(), r.end());
  return r;
}

int PromoteCount(int n, double eta) {
  if (n <= 0) return 0;
  return std::max(1, static_cast<int>(std::floor(n / eta + 1e-9)));
}

namespace {

/// `t`'s metrics as they stood at `rung` (its learning curve's entry over the metrics it carries:
/// all that objectives and constraints read), or nothing when it has no result there.
std::optional<Trial> AtRung(const Trial& t, int rung) {
  for (const RungResult& c : t.curve) {
    if (c.rung != rung) continue;
    Trial at;
    at.metrics = t.metrics;
    for (const auto& [name, value] : c.metrics) at.metrics[name] = value;
    return at;
  }
  return std::nullopt;
}

bool Finite(const Point& p) {
  return std::all_of(p.begin(), p.end(), [](double v) { return std::isfinite(v); });
}

/// `picks`, then the ids of `fallback` (a full order) not among them, up to `count` in all.
std::vector<std::int64_t> ThenFallback(std::vector<std::int64_t> picks, const std::vector<std::int64_t>& fallback,
                                       int count) {
  for (std::int64_t id : fallback)
    if (static_cast<int>(picks.size()) < count && std::find(picks.begin(), picks.end(), id) == picks.end())
      picks.push_back(id);
  return picks;
}

/// One at a time, the candidate (`cands`, ids `cand_ids`) that adds the most hypervolume to
/// `base` and the candidates chosen before it; objectives min-max normalised over both, reference
/// point 1.1. Stops after `count` or when none adds any.
std::vector<std::int64_t> GreedyHypervolumePicks(std::vector<Point> base, std::vector<Point> cands,
                                                 const std::vector<std::int64_t>& cand_ids, int count) {
  std::vector<std::int64_t> out;
  if (cands.empty()) return out;
  const size_t m = cands.front().size();
  Point lo(m, INFINITY), hi(m, -INFINITY);
  for (const auto* set : {&base, &cands})
    for (const Point& p : *set)
      for (size_t k = 0; k < m; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
  for (auto* set : {&base, &cands})
    for (Point& p : *set)
      for (size_t k = 0; k < m; ++k) p[k] = hi[k] > lo[k] ? (p[k] - lo[k]) / (hi[k] - lo[k]) : 0.0;
  const Point reference(m, 1.1);
  double hv = Hypervolume(base, reference);
  std::vector<bool> taken(cands.size(), false);
  while (static_cast<int>(out.size()) < count) {
    int best = -1;
    double best_hv = hv;
    for (size_t i = 0; i < cands.size(); ++i) {
      if (taken[i]) continue;
      std::vector<Point> with = base;
      with.push_back(cands[i]);
      const double v = Hypervolume(with, reference);
      if (v > best_hv + 1e-12) best = static_cast<int>(i), best_hv = v;
    }
    if (best < 0) break;  // nothing adds any
    taken[best] = true;
    base.push_back(cands[best]);
    hv = best_hv;
    out.push_back(cand_ids[best]);
  }
  return out;
}

/// SelectPromotions' hypervolume order: the greedy picks first, then `fallback` (the crowding
/// order) for the rest.
std::vector<std::int64_t> HypervolumeOrder(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids, int count,
                                           const std::vector<std::int64_t>& fallback) {
  const int rung = state.trials[ids.front()].rung;
  std::vector<Point> earlier, cands;
  std::vector<std::int64_t> cand_ids;
  for (const Trial& t : state.trials) {
    if (t.state == TrialState::kFailed || std::find(ids.begin(), ids.end(), t.id) != ids.end()) continue;
    const std::optional<Trial> at = AtRung(t, rung);
    if (!at || problem.Violation(*at) > 0) continue;
    Point p = problem.ObjectiveVector(*at);
    if (Finite(p)) earlier.push_back(std::move(p));
  }
  for (std::int64_t id : fallback) {  // in crowding order, so that ties keep it
    const Trial& t = state.trials[id];
    if (problem.Violation(t) > 0) continue;
    Point p = problem.ObjectiveVector(t);
    if (!Finite(p)) continue;
    cands.push_back(std::move(p));
    cand_ids.push_back(id);
  }
  return ThenFallback(GreedyHypervolumePicks(earlier, cands, cand_ids, count), fallback, count);
}

/// The value of `metric` in `t`'s own result at `rung` (not carried over from another rung).
std::optional<double> CurveValue(const Trial& t, int rung, const std::string& metric) {
  for (const RungResult& c : t.curve) {
    if (c.rung != rung) continue;
    const auto it = c.metrics.find(metric);
    if (it == c.metrics.end() || !std::isfinite(it->second)) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

/// Least squares of y on (1, x, log1p(params)) with a tiny ridge on the slopes; false when
/// singular.
bool FitTopRung(const std::vector<std::array<double, 3>>& rows, const std::vector<double>& y,
                std::array<double, 3>& w) {
  double a[3][4] = {};
  for (size_t n = 0; n < rows.size(); ++n)
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) a[i][j] += rows[n][i] * rows[n][j];
      a[i][3] += rows[n][i] * y[n];
    }
  a[1][1] += 1e-6 * rows.size();
  a[2][2] += 1e-6 * rows.size();
  for (int i = 0; i < 3; ++i) {
    int p = i;
    for (int k = i + 1; k < 3; ++k)
      if (std::fabs(a[k][i]) > std::fabs(a[p][i])) p = k;
    for (int j = 0; j < 4; ++j) std::swap(a[i][j], a[p][j]);
    if (std::fabs(a[i][i]) < 1e-12) return false;
    for (int k = 0; k < 3; ++k) {
      if (k == i) continue;
      const double f = a[k][i] / a[i][i];
      for (int j = 0; j < 4; ++j) a[k][j] -= f * a[i][j];
    }
  }
  for (int i = 0; i < 3; ++i) w[i] = a[i][3] / a[i][i];
  return std::all_of(w.begin(), w.end(), [](double v) { return std::isfinite(v); });
}

/// SelectPromotions' predicted order: every objective that changes with training (its value at
/// the rung differs from the top rung's in some complete trial) is predicted at the top rung by
/// least squares over the complete trials, y_top ~ 1 + y_rung + log1p(params); then one at a
/// time the candidate whose predicted point adds the most hypervolume to the complete trials'
/// front (min-max normalised over both, reference 1.1), and the rest in `fallback` (the
/// crowding order). Until kMinRows complete trials have a result at the rung, `fallback`.
std::vector<std::int64_t> PredictedOrder(const SearchState& state, const Problem& problem,
                                         const std::vector<std::int64_t>& ids, int count,
                                         const std::vector<std::int64_t>& fallback) {
  constexpr size_t kMinRows = 6;
  const int rung = state.trials[ids.front()].rung;
  auto log_params = [](const Trial& t) {
    const auto it = t.metrics.find("params");
    return it == t.metrics.end() || !std::isfinite(it->second) ? 0.0 : std::log1p(std::max(0.0, it->second));
  };
  std::vector<const Trial*> complete;
  for (const Trial& t : state.trials)
    if (t.state == TrialState::kComplete && problem.Violation(t) <= 0) complete.push_back(&t);
  const size_t m = problem.objectives.size();
  std::vector<std::optional<std::array<double, 3>>> model(m);
  for (size_t k = 0; k < m; ++k) {
    const std::string& metric = problem.objectives[k].metric;
    std::vector<std::array<double, 3>> rows;
    std::vector<double> y;
    bool changes = false;
    for (const Trial* t : complete) {
      const std::optional<double> x = CurveValue(*t, rung, metric);
      const auto top = t->metrics.find(metric);
      if (!x || top == t->metrics.end() || !std::isfinite(top->second)) continue;
      rows.push_back({1.0, *x, log_params(*t)});
      y.push_back(top->second);
      changes = changes || *x != top->second;
    }
    if (!changes) continue;  // the same at every rung: the rung's value is the top's
    std::array<double, 3> w{};
    if (rows.size() < kMinRows || !FitTopRung(rows, y, w)) return fallback;
    model[k] = w;
  }
  std::vector<Point> front, cands;
  std::vector<std::int64_t> cand_ids;
  for (const Trial* t : complete) {
    Point p = problem.ObjectiveVector(*t);
    if (Finite(p)) front.push_back(p);
  }
  for (std::int64_t id : fallback) {
    const Trial& t = state.trials[id];
    if (problem.Violation(t) > 0) continue;
    Trial predicted = t;
    for (size_t k = 0; k < m; ++k) {
      if (!model[k]) continue;
      const std::string& metric = problem.objectives[k].metric;
      const auto it = t.metrics.find(metric);
      if (it == t.metrics.end()) continue;
      const auto& w = *model[k];
      predicted.metrics[metric] = w[0] + w[1] * it->second + w[2] * log_params(t);
    }
    Point p = problem.ObjectiveVector(predicted);
    if (!Finite(p)) continue;
    cands.push_back(std::move(p));
    cand_ids.push_back(id);
  }
  std::vector<std::int64_t> picks;
  if (!front.empty()) picks = GreedyHypervolumePicks(front, cands, cand_ids, count);
  return ThenFallback(std::move(picks), fallback, count);
}

/// The crowding order with ties in crowding distance (above all a front's boundary points, whose
/// distance is infinite) going to the better first objective, then the smaller id.
std::vector<std::int64_t> CrowdingPrimaryOrder(const SearchState& state, const Problem& problem,
                                               const std::vector<std::int64_t>& ids) {
  std::vector<double> primary;
  for (std::int64_t id : ids) {
    const Point p = problem.ObjectiveVector(state.trials[id]);
    primary.push_back(p.empty() || !std::isfinite(p[0]) ? INFINITY : p[0]);
  }
  return SurvivalOrder(state, problem, ids, &primary);
}

}  // namespace

std::vector<std::int64_t> SelectPromotions(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids, int count,
                                           const std::string& promotion) {
  if (count >= static_cast<int>(ids.size())) {
    std::vector<std::int64_t> all = ids;
    std::sort(all.begin(), all.end());
    return all;
  }
  std::vector<std::int64_t> out = promotion == "crowding_primary" ? CrowdingPrimaryOrder(state, problem, ids)
                                                                 : SurvivalOrder(state, problem, ids);
  if (promotion == "hypervolume" && count > 0) out = HypervolumeOrder(state, problem, ids, count, out);
  if (promotion == "predicted" && count > 0) out = PredictedOrder(state, problem, ids, count, out);
  out.resize(static_cast<size_t>(std::max(count, 0)));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int64_t> SelectPromotionsFromPool(const SearchState& state, const Problem& problem,
                                                   int rung, const std::vector<std::int64_t>& eligible,
                                                   int count, const std::string& promotion) {
  if (count <= 0 || eligible.empty()) return {};
  // Every result at `rung`, with the metrics it had there.
  SearchState at_rung;
  at_rung.trials.resize(state.trials.size());
  std::vector<std::int64_t> ranked;
  for (const Trial& t : state.trials) {
    if (t.state == TrialState::kFailed) continue;
    const std::optional<Trial> at = AtRung(t, rung);
    if (!at) continue;
    Trial& copy = at_rung.trials[static_cast<size_t>(t.id)];
    copy = t;
    copy.metrics = at->metrics;
    ranked.push_back(t.id);
  }
  const std::vector<std::int64_t> order = promotion == "crowding_primary"
                                              ? CrowdingPrimaryOrder(at_rung, problem, ranked)
                                              : SurvivalOrder(at_rung, problem, ranked);
  const std::set<std::int64_t> can(eligible.begin(), eligible.end());
  std::vector<std::int64_t> fallback;
  for (std::int64_t id : order)
    if (can.count(id)) fallback.push_back(id);
  std::vector<std::int64_t> out = fallback;
  // HypervolumeOrder weighs the eligible against every other result at the rung.
  if (promotion == "hypervolume" && !fallback.empty())
    out = HypervolumeOrder(at_rung, problem, fallback, count, fallback);
  if (promotion == "predicted" && !fallback.empty()) out = PredictedOrder(state, problem, fallback, count, fallback);
  if (static_cast<int>(out.size()) > count) out.resize(static_cast<size_t>(count));
  std::sort(out.begin(), out.end());
  return out;
}

bool IsPerArchitectureMetric(const std::string& m) {
  return m.rfind("latency_", 0) == 0 || m == "peak_activation_bytes" || m.rfind("int8_latency_", 0) == 0 ||
         m == "int8_peak_memory_bytes" ||
         m == "predicted_latency_ms" || m == "proxy_seconds" || IsProxyName(m) ||
         (m.size() > 8 && m.compare(m.size() - 8, 8, "_seconds") == 0 && IsProxyName(m.substr(0, m.size() - 8)));
}

}  // namespace paretonas::search
