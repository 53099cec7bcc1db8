#include "search/surrogate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "predictors/kernel_regression.h"
#include "predictors/prediction_metrics.h"
#include "predictors/ridge_ensemble.h"
#include "search/pareto.h"

namespace paretonas::search {

std::vector<double> SurrogateFeatures(const space::SearchSpace& space, const space::Genotype& g) {
  std::vector<double> f;
  for (space::EdgeSet set : {space::EdgeSet::kLive, space::EdgeSet::kUsed, space::EdgeSet::kAll}) {
    const std::vector<float> enc = space.GraphEncoding(g, set);
    f.insert(f.end(), enc.begin(), enc.end());
    const std::vector<float> counts = space.CellOpCounts(g, set);
    f.insert(f.end(), counts.begin(), counts.end());
  }
  // The output is reachable unless the cell is cut (a chain always passes its input on).
  const std::vector<bool> live = space.LiveCellEdges(g);
  const bool connected = live.empty() || std::find(live.begin(), live.end(), true) != live.end();
  f.push_back(connected ? 1.0 : 0.0);
  return f;
}

std::vector<double> ChosenFeatures(const std::vector<double>& f, bool pruned_only, int extras) {
  if (!pruned_only) return f;
  const size_t own = f.size() - static_cast<size_t>(extras);
  const size_t third = (own - 1) / 3;  // pruned, used and raw encodings, connected, then extras
  std::vector<double> out(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(third));
  out.push_back(f[own - 1]);
  out.insert(out.end(), f.begin() + static_cast<std::ptrdiff_t>(own), f.end());
  return out;
}

namespace {

// The log form: log(v + kLogShift) of the normalised value v (minimisation form, 0 = best seen,
// 1 = worst seen). It stretches the region near the best value seen, where accuracy-like
// objectives crowd (NB201: most cells within a few points of the best, a long tail of broken
// ones); an additive cost like latency fits better as it is.
constexpr double kLogShift = 0.01;
// The kernel model and the choice see at most the latest this many trials (its fit is cubic):
// rows from KernelStart(n) on.
constexpr size_t kKernelRows = 300;
size_t KernelStart(size_t n) { return n > kKernelRows ? n - kKernelRows : 0; }
// The kernel model's squared length scale, in units of the median squared distance between its
// rows (KernelOptions::median_scale): smoother than the plain median heuristic, so what it learns
// of one cell carries further (bench/RESULTS.md, NB201 search, 2026-11-27).
constexpr double kKernelScale = 2.0;
predictors::KernelOptions SurrogateKernel() {
  predictors::KernelOptions k;
  k.median_scale = kKernelScale;
  return k;
}

double Forward(bool log, double v) { return log ? std::log(std::max(v, 0.0) + kLogShift) : v; }
double Inverse(bool log, double t) { return log ? std::exp(t) - kLogShift : t; }

// One objective's surrogate, as ChooseSurrogate chose it.
struct ObjectiveModel {
  SurrogateChoice choice;
  predictors::RidgeEnsemble ridge;
  predictors::KernelRegression kernel;

  void Fit(const std::vector<std::vector<double>>& features, const std::vector<double>& v,
           std::uint64_t seed) {
    std::vector<std::vector<double>> x;
    for (const auto& f : features) x.push_back(ChosenFeatures(f, choice.pruned_only, choice.extras));
    std::vector<double> t;
    for (double value : v) t.push_back(Forward(choice.log, value));
    if (choice.kernel) {
      const size_t skip = KernelStart(x.size());
      kernel.Fit({x.begin() + skip, x.end()}, {t.begin() + skip, t.end()}, SurrogateKernel());
    } else {
      ridge.Fit(x, t, predictors::RidgeOptions{5, 1.0, seed});
    }
  }
  // Mean and spread in the transformed scale.
  std::pair<double, double> Predict(const std::vector<double>& features) const {
    const std::vector<double> f = ChosenFeatures(features, choice.pruned_only, choice.extras);
    return choice.kernel ? kernel.Predict(f) : ridge.Predict(f);
  }
};

// Spearman correlation of 5-fold cross-validated predictions with the targets.
double CrossValidatedRank(bool kernel, const std::vector<std::vector<double>>& x,
                          const std::vector<double>& t, std::uint64_t seed) {
  constexpr size_t kFolds = 5;
  std::vector<double> pred(t.size());
  for (size_t fold = 0; fold < kFolds; ++fold) {
    std::vector<std::vector<double>> xf;
    std::vector<double> tf;
    for (size_t i = 0; i < t.size(); ++i)
      if (i % kFolds != fold) xf.push_back(x[i]), tf.push_back(t[i]);
    if (kernel) {
      predictors::KernelRegression m;
      m.Fit(xf, tf, SurrogateKernel());
      for (size_t i = fold; i < t.size(); i += kFolds) pred[i] = m.Predict(x[i]).first;
    } else {
      predictors::RidgeEnsemble m;
      m.Fit(xf, tf, predictors::RidgeOptions{1, 1.0, seed});
      for (size_t i = fold; i < t.size(); i += kFolds) pred[i] = m.Predict(x[i]).first;
    }
  }
  return predictors::Spearman(pred, t);
}

}  // namespace

SurrogateChoice ChooseSurrogate(const std::vector<std::vector<double>>& x,
                                const std::vector<double>& v, std::uint64_t seed, int extras) {
  constexpr size_t kMinForChoice = 10;  // fewer trials: too few to cross-validate
  SurrogateChoice best;
  best.extras = extras;
  if (x.size() < kMinForChoice) return best;
  const size_t skip = KernelStart(x.size());
  bool raw_differs = false;
  for (size_t i = skip; i < x.size() && !raw_differs; ++i) {
    const size_t third = (x[i].size() - static_cast<size_t>(extras) - 1) / 3;
    raw_differs = !std::equal(x[i].begin(), x[i].begin() + third, x[i].begin() + 2 * third);
  }
  double best_rank = -2;
  for (bool pruned_only : {false, true}) {
    if (pruned_only && !raw_differs) break;
    std::vector<std::vector<double>> xs;
    for (size_t i = skip; i < x.size(); ++i) xs.push_back(ChosenFeatures(x[i], pruned_only, extras));
    for (bool kernel : {false, true})
      for (bool log : {false, true}) {
        std::vector<double> t;
        for (size_t i = skip; i < v.size(); ++i) t.push_back(Forward(log, v[i]));
        const double rank = CrossValidatedRank(kernel, xs, t, seed);
        if (rank > best_rank + 1e-9)
          best_rank = rank, best = SurrogateChoice{kernel, log, pruned_only, extras};
      }
  }
  return best;
}

std::vector<std::size_t> SelectBySurrogate(const SearchState& state, const Problem& problem,
                                           const std::vector<space::Genotype>& candidates,
                                           std::size_t count, double kappa, std::uint64_t seed,
                                           const ExtraFeatures* extra) {
  const size_t m = problem.objectives.size();
  const int extras = extra ? static_cast<int>(extra->metrics.size()) : 0;
  auto squash = [](double v) { return std::copysign(std::log1p(std::abs(v)), v); };
  std::vector<std::vector<double>> x, x_extra;
  std::vector<Point> y;
  for (const Trial& t : state.trials) {
    if (t.state != TrialState::kComplete) continue;
    std::vector<double> e;
    for (int k = 0; k < extras; ++k) {
      const auto it = t.metrics.find(extra->metrics[k]);
      if (it == t.metrics.end() || !std::isfinite(it->second)) break;
      e.push_back(squash(it->second));
    }
    if (static_cast<int>(e.size()) < extras) continue;  // a trial without them: left out
    x.push_back(SurrogateFeatures(*problem.space, t.genotype));
    x_extra.push_back(e);
    y.push_back(problem.ObjectiveVector(t));
  }
  // The extra features, standardised over the trials (the candidates on the same scale).
  std::vector<double> e_mean(extras, 0), e_sd(extras, 1);
  for (int k = 0; k < extras && !x_extra.empty(); ++k) {
    double s = 0, ss = 0;
    for (const auto& e : x_extra) s += e[k], ss += e[k] * e[k];
    const double n = static_cast<double>(x_extra.size());
    e_mean[k] = s / n;
    const double var = ss / n - e_mean[k] * e_mean[k];
    e_sd[k] = var > 1e-24 ? std::sqrt(var) : 1.0;
  }
  auto with_extra = [&](std::vector<double> f, const std::vector<double>& e, bool squashed) {
    for (int k = 0; k < extras; ++k) {
      const double v = squashed ? e[k] : squash(e[k]);
      f.push_back(std::isfinite(v) ? (v - e_mean[k]) / e_sd[k] : 0.0);
    }
    return f;
  };
  for (size_t i = 0; i < x.size(); ++i) x[i] = with_extra(x[i], x_extra[i], true);
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
    std::vector<double> v;
    for (const Point& p : y) v.push_back((p[j] - lo[j]) / (hi[j] - lo[j]));
    models[j].choice = ChooseSurrogate(x, v, model_seed, extras);
    models[j].Fit(x, v, model_seed);
  }
  std::vector<Point> mean(candidates.size(), Point(m)), optimistic(candidates.size(), Point(m));
  for (size_t c = 0; c < candidates.size(); ++c) {
    std::vector<double> f = SurrogateFeatures(*problem.space, candidates[c]);
    if (extras > 0) f = with_extra(f, extra->candidates.at(c), false);
    for (size_t j = 0; j < m; ++j) {
      const auto [mu, sd] = models[j].Predict(f);
      const bool log = models[j].choice.log;
      mean[c][j] = Inverse(log, mu);
      optimistic[c][j] = Inverse(log, mu - kappa * sd);  // monotone: optimism survives
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
