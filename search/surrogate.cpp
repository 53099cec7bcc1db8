#include "search/surrogate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "predictors/prediction_metrics.h"
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

// One objective's surrogate: a ridge ensemble on the normalised value `v` (minimisation form,
// 0 = best seen, 1 = worst seen) or on log(v + kLogShift). The log form stretches the region
// near the best value seen, where accuracy-like objectives crowd (NB201: most cells within a few
// points of the best, a long tail of broken ones); an additive cost like latency fits better
// as it is. Which one is chosen by cross-validation on the trials themselves.
constexpr double kLogShift = 0.01;

struct ObjectiveModel {
  predictors::RidgeEnsemble ridge;
  bool log = false;
  double Forward(double v) const { return log ? std::log(std::max(v, 0.0) + kLogShift) : v; }
  double Inverse(double t) const { return log ? std::exp(t) - kLogShift : t; }
};

}  // namespace

// Spearman correlation of 5-fold cross-validated predictions with the targets.
double CrossValidatedRank(const std::vector<std::vector<double>>& x, const std::vector<double>& t,
                          std::uint64_t seed) {
  constexpr size_t kFolds = 5;
  std::vector<double> pred(t.size());
  for (size_t fold = 0; fold < kFolds; ++fold) {
    std::vector<std::vector<double>> xf;
    std::vector<double> tf;
    for (size_t i = 0; i < t.size(); ++i)
      if (i % kFolds != fold) xf.push_back(x[i]), tf.push_back(t[i]);
    predictors::RidgeEnsemble m;
    m.Fit(xf, tf, predictors::RidgeOptions{1, 1.0, seed});
    for (size_t i = fold; i < t.size(); i += kFolds) pred[i] = m.Predict(x[i]).first;
  }
  return predictors::Spearman(pred, t);
}

bool PreferLogTarget(const std::vector<std::vector<double>>& x, const std::vector<double>& v,
                     std::uint64_t seed) {
  constexpr size_t kMinForChoice = 10;  // fewer trials: too few to cross-validate
  if (x.size() < kMinForChoice) return false;
  ObjectiveModel log_model;
  log_model.log = true;
  std::vector<double> logged;
  for (double value : v) logged.push_back(log_model.Forward(value));
  return CrossValidatedRank(x, logged, seed) > CrossValidatedRank(x, v, seed);
}

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
  std::vector<ObjectiveModel> models(m);
  for (size_t j = 0; j < m; ++j) {
    const std::uint64_t model_seed = seed * 1315423911ULL + j;
    std::vector<double> target;
    for (const Point& p : y) target.push_back((p[j] - lo[j]) / (hi[j] - lo[j]));
    models[j].log = PreferLogTarget(x, target, model_seed);
    for (double& t : target) t = models[j].Forward(t);
    models[j].ridge.Fit(x, target, predictors::RidgeOptions{5, 1.0, model_seed});
  }
  std::vector<Point> mean(candidates.size(), Point(m)), optimistic(candidates.size(), Point(m));
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::vector<double> f = SurrogateFeatures(*problem.space, candidates[c]);
    for (size_t j = 0; j < m; ++j) {
      const auto [mu, sd] = models[j].ridge.Predict(f);
      mean[c][j] = models[j].Inverse(mu);
      optimistic[c][j] = models[j].Inverse(mu - kappa * sd);  // monotone: optimism survives
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
