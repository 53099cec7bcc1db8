#include "search/fidelity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "search/proxy_names.h"
#include "search/strategy.h"

namespace paretonas::search {

std::string FidelityOptions::Validate() const {
  if (rungs.empty()) return "";
  if (resource != "epochs" && resource != "steps" && resource != "images")
    return "fidelity.resource: '" + resource + "' is not one of epochs, steps, images";
  if (mode != "sync" && mode != "async")
    return "fidelity.mode: '" + mode + "' is not one of sync, async";
  if (promotion != "crowding" && promotion != "crowding_primary" && promotion != "hypervolume")
    return "fidelity.promotion: '" + promotion + "' is not one of crowding, crowding_primary, hypervolume";
  if (!(eta > 1) || !std::isfinite(eta))
    return "fidelity.eta: " + std::to_string(eta) + " must be a number > 1";
  for (size_t i = 0; i < rungs.size(); ++i) {
    if (!(rungs[i] > 0) || !std::isfinite(rungs[i]))
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + std::to_string(rungs[i]) +
             "; rungs must be finite and > 0";
    if (i > 0 && !(rungs[i] > rungs[i - 1]))
      return "fidelity.rungs: must increase, but rung " + std::to_string(i) + " (" +
             std::to_string(rungs[i]) + ") is not above rung " + std::to_string(i - 1) + " (" +
             std::to_string(rungs[i - 1]) + ")";
    if (resource != "epochs" && std::floor(rungs[i]) != rungs[i])
      return "fidelity.rungs: rung " + std::to_string(i) + " is " + std::to_string(rungs[i]) +
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

/// SelectPromotions' hypervolume order: the greedy picks first, then `fallback` (the crowding
/// order) for the rest.
std::vector<std::int64_t> HypervolumeOrder(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& ids, int count,
                                           const std::vector<std::int64_t>& fallback) {
  const int rung = state.trials[ids.front()].rung;
  std::vector<Point> earlier, cands;
  std::vector<std::int64_t> cand_ids;
  auto finite = [](const Point& p) {
    return std::all_of(p.begin(), p.end(), [](double v) { return std::isfinite(v); });
  };
  for (const Trial& t : state.trials) {
    if (t.state == TrialState::kFailed || std::find(ids.begin(), ids.end(), t.id) != ids.end()) continue;
    const std::optional<Trial> at = AtRung(t, rung);
    if (!at || problem.Violation(*at) > 0) continue;
    Point p = problem.ObjectiveVector(*at);
    if (finite(p)) earlier.push_back(std::move(p));
  }
  for (std::int64_t id : fallback) {  // in crowding order, so that ties keep it
    const Trial& t = state.trials[id];
    if (problem.Violation(t) > 0) continue;
    Point p = problem.ObjectiveVector(t);
    if (!finite(p)) continue;
    cands.push_back(std::move(p));
    cand_ids.push_back(id);
  }
  std::vector<std::int64_t> out;
  if (!cands.empty()) {
    const size_t m = cands.front().size();
    Point lo(m, INFINITY), hi(m, -INFINITY);
    for (const auto* set : {&earlier, &cands})
      for (const Point& p : *set)
        for (size_t k = 0; k < m; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
    auto norm = [&](Point p) {
      for (size_t k = 0; k < m; ++k) p[k] = hi[k] > lo[k] ? (p[k] - lo[k]) / (hi[k] - lo[k]) : 0.0;
      return p;
    };
    std::vector<Point> front;
    for (const Point& p : earlier) front.push_back(norm(p));
    for (Point& p : cands) p = norm(p);
    const Point reference(m, 1.1);
    double base = Hypervolume(front, reference);
    std::vector<bool> taken(cands.size(), false);
    while (static_cast<int>(out.size()) < count) {
      int best = -1;
      double best_hv = base;
      for (size_t i = 0; i < cands.size(); ++i) {
        if (taken[i]) continue;
        std::vector<Point> with = front;
        with.push_back(cands[i]);
        const double hv = Hypervolume(with, reference);
        if (hv > best_hv + 1e-12) best = static_cast<int>(i), best_hv = hv;
      }
      if (best < 0) break;  // nothing adds any: the crowding order decides the rest
      taken[best] = true;
      front.push_back(cands[best]);
      base = best_hv;
      out.push_back(cand_ids[best]);
    }
  }
  for (std::int64_t id : fallback)
    if (static_cast<int>(out.size()) < count && std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  return out;
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
  out.resize(static_cast<size_t>(std::max(count, 0)));
  std::sort(out.begin(), out.end());
  return out;
}

bool IsPerArchitectureMetric(const std::string& m) {
  return m == "latency_ms" || m == "latency_iqr_ms" || m == "peak_activation_bytes" ||
         m == "predicted_latency_ms" || m == "proxy_seconds" || IsProxyName(m) ||
         (m.size() > 8 && m.compare(m.size() - 8, 8, "_seconds") == 0 && IsProxyName(m.substr(0, m.size() - 8)));
}

}  // namespace paretonas::search
