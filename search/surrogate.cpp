#include "search/surrogate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "predictors/ridge_ensemble.h"
#include "search/pareto.h"

namespace paretonas::search {

std::vector<double> SurrogateFeatures(const space::SearchSpace& space, const space::Genotype& g) {
  const std::vector<float> pruned = space.GraphEncoding(g, true);
  const std::vector<float> raw = space.GraphEncoding(g, false);
  std::vector<double> f(pruned.begin(), pruned.end());
  f.insert(f.end(), raw.begin(), raw.end());
  // The output is reachable unless the cell is cut (a chain always passes its input on).
  const std::vector<bool> live = space.LiveCellEdges(g);
  const bool connected = live.empty() || std::find(live.begin(), live.end(), true) != live.end();
  f.push_back(connected ? 1.0 : 0.0);
  return f;
}

namespace {

// Additive epsilon by which `p` must improve to be dominated by no point of `front`
// (<= 0: already non-dominated).
double EpsilonToFront(const Point& p, const std::vector<Point>& front) {
  double worst = -std::numeric_limits<double>::infinity();
  for (const Point& f : front) {
    double need = std::numeric_limits<double>::infinity();  // smallest shift that escapes f
    for (size_t j = 0; j < p.size(); ++j) need = std::min(need, p[j] - f[j]);
    worst = std::max(worst, need);
  }
  return front.empty() ? 0.0 : worst;
}

}  // namespace

std::vector<std::size_t> SelectBySurrogate(const SearchState& state, const Problem& problem,
                                           const std::vector<space::Genotype>& candidates,
                                           std::size_t count, double kappa, std::uint64_t seed) {
  const size_t m = problem.objectives.size();
  std::vector<std::vector<double>> x;
  std::vector<Point> y;
  for (const Trial& t : state.trials) {
    if (t.state != TrialState::kComplete) continue;
    x.push_back(SurrogateFeatures(*problem.space, t.genotype));
    y.push_back(problem.ObjectiveVector(t));
  }
  std::vector<std::size_t> picks;
  if (x.size() < 2) {
    for (size_t i = 0; i < std::min(count, candidates.size()); ++i) picks.push_back(i);
    return picks;
  }
  // Normalisation: each objective's range over the evaluated trials.
  Point lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  for (const Point& p : y)
    for (size_t j = 0; j < m; ++j) lo[j] = std::min(lo[j], p[j]), hi[j] = std::max(hi[j], p[j]);
  for (size_t j = 0; j < m; ++j)
    if (hi[j] - lo[j] <= 0) hi[j] = lo[j] + 1;
  auto norm = [&](Point p) {
    for (size_t j = 0; j < m; ++j) p[j] = (p[j] - lo[j]) / (hi[j] - lo[j]);
    return p;
  };
  std::vector<predictors::RidgeEnsemble> models(m);
  for (size_t j = 0; j < m; ++j) {
    std::vector<double> target;
    for (const Point& p : y) target.push_back((p[j] - lo[j]) / (hi[j] - lo[j]));
    models[j].Fit(x, target, predictors::RidgeOptions{5, 1.0, seed * 1315423911ULL + j});
  }
  std::vector<Point> mean(candidates.size(), Point(m)), optimistic(candidates.size(), Point(m));
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::vector<double> f = SurrogateFeatures(*problem.space, candidates[c]);
    for (size_t j = 0; j < m; ++j) {
      const auto [mu, sd] = models[j].Predict(f);
      mean[c][j] = mu;
      optimistic[c][j] = mu - kappa * sd;
    }
  }
  // The current front, normalised (feasible, complete trials).
  std::vector<Point> front;
  {
    std::vector<Point> pts;
    for (const Trial& t : state.trials)
      if (t.state == TrialState::kComplete && problem.Violation(t) <= 0)
        pts.push_back(norm(problem.ObjectiveVector(t)));
    if (!pts.empty()) {
      const auto fronts = NonDominatedSort(pts);  // NOTE: named, not a temporary's member
      for (int i : fronts[0]) front.push_back(pts[i]);
    }
  }
  const Point ref(m, 1.1);
  std::vector<bool> taken(candidates.size(), false);
  while (picks.size() < std::min(count, candidates.size())) {
    const double base = m <= 3 ? Hypervolume(front, ref) : 0.0;
    size_t best = candidates.size();
    double best_gain = 0, best_eps = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < candidates.size(); ++c) {
      if (taken[c]) continue;
      double gain = 0;
      if (m <= 3) {
        std::vector<Point> with = front;
        with.push_back(optimistic[c]);
        gain = Hypervolume(with, ref) - base;
      }
      const double eps = EpsilonToFront(optimistic[c], front);
      // Prefer hypervolume gain; among candidates without gain, the smallest epsilon.
      if (gain > best_gain + 1e-15 || (best_gain <= 0 && gain <= 0 && eps < best_eps)) {
        best = c;
        best_gain = gain;
        best_eps = eps;
      }
    }
    if (best == candidates.size()) break;
    taken[best] = true;
    picks.push_back(best);
    front.push_back(mean[best]);  // believe the prediction while choosing the rest
  }
  return picks;
}

}  // namespace paretonas::search
