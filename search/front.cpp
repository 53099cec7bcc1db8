#include "search/front.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "search/pareto.h"

namespace paretonas::search {

std::vector<std::int64_t> FeasibleComplete(const SearchState& s, const Problem& p) {
  std::vector<std::int64_t> ids;
  for (const Trial& t : s.trials)
    if (t.state == TrialState::kComplete && p.Violation(t) <= 0) ids.push_back(t.id);
  return ids;
}

void FixNormalisation(SearchState& state, const Problem& problem) {
  if (!state.hv_ideal.empty()) return;
  const auto ids = FeasibleComplete(state, problem);
  if (ids.size() < 2) return;
  const size_t m = problem.objectives.size();
  std::vector<double> lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  for (auto id : ids) {
    const Point p = problem.ObjectiveVector(state.trials[id]);
    for (size_t i = 0; i < m; ++i) {
      lo[i] = std::min(lo[i], p[i]);
      hi[i] = std::max(hi[i], p[i]);
    }
  }
  // A box with no width in some objective would be a point: every later front would fill it
  // (hypervolume 1, whatever it does). It waits for complete trials that differ in every
  // objective (a multi-fidelity generation of 9 -> 3 -> 1 completes one trial at a time).
  for (size_t i = 0; i < m; ++i)
    if (!(hi[i] - lo[i] > 0)) return;
  state.hv_ideal = lo;
  state.hv_reference.resize(m);
  for (size_t i = 0; i < m; ++i) state.hv_reference[i] = hi[i] + 0.1 * (hi[i] - lo[i]);
}

std::vector<std::int64_t> ParetoFront(const SearchState& state, const Problem& problem) {
  const auto ids = FeasibleComplete(state, problem);
  std::vector<Point> pts;
  for (auto id : ids) pts.push_back(problem.ObjectiveVector(state.trials[id]));
  std::vector<std::int64_t> front;
  if (pts.empty()) return front;
  const auto fronts = NonDominatedSort(pts);  // NOTE: keep alive; do not range over [0] of a temporary
  for (int i : fronts[0]) front.push_back(ids[i]);
  return front;
}

CommonBox CommonBoxHypervolumes(const std::vector<const SearchState*>& states,
                                const std::vector<const Problem*>& problems) {
  CommonBox box;
  const size_t n = states.size();
  box.hv.assign(n, std::numeric_limits<double>::quiet_NaN());
  box.why.assign(n, "");
  if (n == 0) return box;
  auto describe = [](const Problem& p) {
    std::string s;
    for (const auto& o : p.objectives) s += (s.empty() ? "" : ", ") + o.metric + (o.maximize ? " max" : " min");
    return s;
  };
  for (size_t r = 1; r < n; ++r)
    if (describe(*problems[r]) != describe(*problems[0])) {
      box.error = "their objectives differ (" + describe(*problems[0]) + " against " + describe(*problems[r]) +
                  "): no common box";
      return box;
    }
  const size_t m = problems[0]->objectives.size();
  std::vector<double> lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  std::vector<std::vector<Point>> fronts(n);
  for (size_t r = 0; r < n; ++r) {
    const auto ids = FeasibleComplete(*states[r], *problems[r]);
    if (ids.empty()) {
      box.why[r] = "no complete, feasible trial yet";
      continue;
    }
    for (auto id : ids) {
      const Point p = problems[r]->ObjectiveVector(states[r]->trials[id]);
      for (size_t i = 0; i < m; ++i) lo[i] = std::min(lo[i], p[i]), hi[i] = std::max(hi[i], p[i]);
    }
    for (auto id : ParetoFront(*states[r], *problems[r])) fronts[r].push_back(problems[r]->ObjectiveVector(states[r]->trials[id]));
  }
  for (size_t i = 0; i < m; ++i)
    if (!(hi[i] - lo[i] > 0)) {
      box.error = "the runs' trials span no range in objective " + problems[0]->objectives[i].metric +
                  " yet: no common box";
      return box;
    }
  box.ideal = lo;
  box.reference.resize(m);
  for (size_t i = 0; i < m; ++i) box.reference[i] = hi[i] + 0.1 * (hi[i] - lo[i]);
  for (size_t r = 0; r < n; ++r) {
    if (!box.why[r].empty()) continue;
    std::vector<Point> pts;
    for (Point p : fronts[r]) {
      for (size_t i = 0; i < m; ++i) p[i] = (p[i] - lo[i]) / (box.reference[i] - lo[i]);
      pts.push_back(p);
    }
    box.hv[r] = Hypervolume(pts, Point(m, 1.0));
  }
  return box;
}

double NormalizedHypervolume(const SearchState& state, const Problem& problem) {
  if (state.hv_ideal.empty()) return 0.0;
  const size_t m = problem.objectives.size();
  std::vector<Point> pts;
  for (auto id : ParetoFront(state, problem)) {
    Point p = problem.ObjectiveVector(state.trials[id]);
    for (size_t i = 0; i < m; ++i)
      p[i] = (p[i] - state.hv_ideal[i]) / (state.hv_reference[i] - state.hv_ideal[i]);
    pts.push_back(p);
  }
  return Hypervolume(pts, Point(m, 1.0));
}

}  // namespace paretonas::search
