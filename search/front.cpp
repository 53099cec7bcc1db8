#include "search/front.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "search/pareto.h"

namespace paretonas::search {

std::vector<std::int64_t> FeasibleComplete(const SearchState& s, const Problem& p) {
  std::vector<std::int64_t> ids;
  for (const Trial& t : s.trials)
    if (t.state == TrialState::kComplete && p.Violation(t) <= 0) ids.push_back(t.id);
  return ids;
}

namespace {

/// The hypervolume box of `points` (m objectives, minimised): ideal = the best of each,
/// reference = the worst plus 10% of the range. The index of the first objective in which they
/// span no range, or -1 when every one has a width (only then are ideal and reference set).
int BoxOf(const std::vector<Point>& points, size_t m, std::vector<double>* ideal, std::vector<double>* reference) {
  std::vector<double> lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  for (const Point& p : points)
    for (size_t i = 0; i < m; ++i) {
      lo[i] = std::min(lo[i], p[i]);
      hi[i] = std::max(hi[i], p[i]);
    }
  for (size_t i = 0; i < m; ++i)
    if (!(hi[i] - lo[i] > 0)) return static_cast<int>(i);
  *ideal = lo;
  reference->resize(m);
  for (size_t i = 0; i < m; ++i) (*reference)[i] = hi[i] + 0.1 * (hi[i] - lo[i]);
  return -1;
}

/// The front's points scaled into the box, their hypervolume against (1, ..., 1).
double HypervolumeIn(std::vector<Point> front, const std::vector<double>& ideal, const std::vector<double>& reference) {
  for (Point& p : front)
    for (size_t i = 0; i < p.size(); ++i) p[i] = (p[i] - ideal[i]) / (reference[i] - ideal[i]);
  return Hypervolume(front, Point(ideal.size(), 1.0));
}

std::vector<Point> ObjectiveVectors(const SearchState& state, const Problem& problem,
                                    const std::vector<std::int64_t>& ids) {
  std::vector<Point> out;
  for (auto id : ids) out.push_back(problem.ObjectiveVector(state.trials[id]));
  return out;
}

}  // namespace

void FixNormalisation(SearchState& state, const Problem& problem) {
  if (!state.hv_ideal.empty()) return;
  const auto ids = FeasibleComplete(state, problem);
  if (ids.size() < 2) return;
  // A box with no width in some objective would be a point: every later front would fill it
  // (hypervolume 1, whatever it does). It waits for complete trials that differ in every
  // objective (a multi-fidelity generation of 9 -> 3 -> 1 completes one trial at a time).
  BoxOf(ObjectiveVectors(state, problem, ids), problem.objectives.size(), &state.hv_ideal, &state.hv_reference);
}

std::vector<std::int64_t> ParetoFront(const SearchState& state, const Problem& problem) {
  std::vector<std::int64_t> all(state.trials.size());  // ParetoFrontAmong keeps the complete, feasible ones
  std::iota(all.begin(), all.end(), std::int64_t{0});
  return ParetoFrontAmong(state, problem, all);
}

std::vector<std::int64_t> ParetoFrontAmong(const SearchState& state, const Problem& problem,
                                           const std::vector<std::int64_t>& among) {
  std::vector<std::int64_t> ids;
  for (std::int64_t id : among) {
    const Trial& t = state.trials[static_cast<std::size_t>(id)];
    if (t.state == TrialState::kComplete && problem.Violation(t) <= 0) ids.push_back(id);
  }
  std::vector<Point> pts;
  for (auto id : ids) pts.push_back(problem.ObjectiveVector(state.trials[id]));
  std::vector<std::int64_t> front;
  if (pts.empty()) return front;
  for (int i : FirstFront(pts)) front.push_back(ids[i]);
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
  std::vector<Point> all;
  std::vector<std::vector<Point>> fronts(n);
  for (size_t r = 0; r < n; ++r) {
    const auto ids = FeasibleComplete(*states[r], *problems[r]);
    if (ids.empty()) {
      box.why[r] = "no complete, feasible trial yet";
      continue;
    }
    for (const Point& p : ObjectiveVectors(*states[r], *problems[r], ids)) all.push_back(p);
    fronts[r] = ObjectiveVectors(*states[r], *problems[r], ParetoFront(*states[r], *problems[r]));
  }
  const int flat = BoxOf(all, problems[0]->objectives.size(), &box.ideal, &box.reference);
  if (flat >= 0) {
    box.error = "the runs' trials span no range in objective " + problems[0]->objectives[flat].metric +
                " yet: no common box";
    return box;
  }
  for (size_t r = 0; r < n; ++r)
    if (box.why[r].empty()) box.hv[r] = HypervolumeIn(fronts[r], box.ideal, box.reference);
  return box;
}

double NormalizedHypervolume(const SearchState& state, const Problem& problem) {
  if (state.hv_ideal.empty()) return 0.0;
  return HypervolumeIn(ObjectiveVectors(state, problem, ParetoFront(state, problem)), state.hv_ideal,
                       state.hv_reference);
}

}  // namespace paretonas::search
