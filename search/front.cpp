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
