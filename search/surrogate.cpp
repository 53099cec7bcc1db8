#include "search/surrogate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "predictors/kernel_regression.h"
#include "predictors/prediction_metrics.h"
#include "predictors/ridge_ensemble.h"
#include "search/fidelity.h"
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
  const int proxies = extra ? static_cast<int>(extra->metrics.size()) : 0;
  auto squash = [](double v) { return std::copysign(std::log1p(std::abs(v)), v); };
  // Multi-fidelity: the surrogates also learn from the trials that stopped below the top rung and
  // from every rung of a learning curve, each result one row with its rung as a feature (one
  // column per rung below the top, all zero at the top), and predict at the top rung: the
  // complete trials' rung. A metric measured once per architecture (IsPerArchitectureMetric:
  // latency, the proxies) is one row per trial. Without a fidelity every complete trial is one
  // row, as it was.
  int top = -1;
  for (const Trial& t : state.trials)
    if (t.state == TrialState::kComplete) top = std::max(top, t.rung);
  if (top < 0)
    for (const Trial& t : state.trials)
      if (t.state == TrialState::kStopped) top = std::max(top, t.rung);
  const int rung_columns = std::max(top, 0);
  const int extras = proxies + rung_columns;
  struct Row {
    size_t trial;  // index into `usable`
    int rung;      // the rung of the result; top for a trial without a curve
    const std::map<std::string, double>* metrics;
  };
  std::vector<const Trial*> usable;
  std::vector<std::vector<double>> x_arch, x_extra;
  std::vector<Row> rows;
  for (const Trial& t : state.trials) {
    const bool stopped = t.state == TrialState::kStopped && top > 0 && !t.curve.empty();
    if (t.state != TrialState::kComplete && !stopped) continue;
    std::vector<double> e;
    for (int k = 0; k < proxies; ++k) {
      const auto it = t.metrics.find(extra->metrics[k]);
      if (it == t.metrics.end() || !std::isfinite(it->second)) break;
      e.push_back(squash(it->second));
    }
    if (static_cast<int>(e.size()) < proxies) continue;  // a trial without them: left out
    const size_t index = usable.size();
    usable.push_back(&t);
    x_arch.push_back(SurrogateFeatures(*problem.space, t.genotype));
    x_extra.push_back(e);
    if (t.curve.empty() || top <= 0) {
      rows.push_back(Row{index, top, &t.metrics});
    } else {
      for (const RungResult& r : t.curve)
        if (r.rung >= 0 && r.rung <= top) rows.push_back(Row{index, r.rung, &r.metrics});
    }
  }
  // The extra features, standardised over the trials (the candidates on the same scale).
  std::vector<double> e_mean(proxies, 0), e_sd(proxies, 1);
  for (int k = 0; k < proxies && !x_extra.empty(); ++k) {
    double s = 0, ss = 0;
    for (const auto& e : x_extra) s += e[k], ss += e[k] * e[k];
    const double n = static_cast<double>(x_extra.size());
    e_mean[k] = s / n;
    const double var = ss / n - e_mean[k] * e_mean[k];
    e_sd[k] = var > 1e-24 ? std::sqrt(var) : 1.0;
  }
  auto with_extra = [&](std::vector<double> f, const std::vector<double>& e, bool squashed, int rung) {
    for (int k = 0; k < proxies; ++k) {
      const double v = squashed ? e[k] : squash(e[k]);
      f.push_back(std::isfinite(v) ? (v - e_mean[k]) / e_sd[k] : 0.0);
    }
    for (int r = 0; r < rung_columns; ++r) f.push_back(r == rung ? 1.0 : 0.0);
    return f;
  };
  std::vector<std::size_t> picks;
  if (usable.size() < 2) {
    for (size_t i = 0; i < std::min(count, candidates.size()); ++i) picks.push_back(i);
    return picks;
  }
  // Each objective's rows: (features, value in minimisation form).
  std::vector<std::vector<std::vector<double>>> xs(m);
  std::vector<std::vector<double>> ys(m);
  std::vector<std::vector<bool>> at_top(m);
  for (size_t j = 0; j < m; ++j) {
    const Objective& o = problem.objectives[j];
    const bool once = top > 0 && IsPerArchitectureMetric(o.metric);
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& row = rows[i];
      const Trial& t = *usable[row.trial];
      const bool last = i + 1 == rows.size() || rows[i + 1].trial != row.trial;
      if (once && !last) continue;
      const auto& metrics = once ? t.metrics : *row.metrics;
      const auto it = metrics.find(o.metric);
      if (it == metrics.end() || !std::isfinite(it->second)) continue;
      const int rung = once ? top : row.rung;
      xs[j].push_back(with_extra(x_arch[row.trial], x_extra[row.trial], true, rung));
      ys[j].push_back(o.maximize ? -it->second : it->second);
      at_top[j].push_back(rung == top);
    }
  }
  for (size_t j = 0; j < m; ++j) {
    if (ys[j].size() >= 2) continue;  // an objective without data: no model to choose by
    for (size_t i = 0; i < std::min(count, candidates.size()); ++i) picks.push_back(i);
    return picks;
  }
  // Normalisation: each objective's range over the evaluated trials (the top-rung results when
  // there are two or more: the front's scale).
  Point lo(m, std::numeric_limits<double>::infinity()), hi(m, -lo[0]);
  for (size_t j = 0; j < m; ++j) {
    const size_t n_top = static_cast<size_t>(std::count(at_top[j].begin(), at_top[j].end(), true));
    for (size_t i = 0; i < ys[j].size(); ++i)
      if (n_top < 2 || at_top[j][i]) lo[j] = std::min(lo[j], ys[j][i]), hi[j] = std::max(hi[j], ys[j][i]);
    if (!std::isfinite(lo[j])) lo[j] = 0, hi[j] = 1;
    if (hi[j] - lo[j] <= 0) hi[j] = lo[j] + 1;
  }
  auto norm = [&](Point p) {
    for (size_t j = 0; j < m; ++j) p[j] = (p[j] - lo[j]) / (hi[j] - lo[j]);
    return p;
  };
  std::vector<ObjectiveModel> models(m);
  for (size_t j = 0; j < m; ++j) {
    const std::uint64_t model_seed = seed * 1315423911ULL + j;
    std::vector<double> v;
    for (double y : ys[j]) v.push_back((y - lo[j]) / (hi[j] - lo[j]));
    models[j].choice = ChooseSurrogate(xs[j], v, model_seed, extras);
    models[j].Fit(xs[j], v, model_seed);
  }
  std::vector<Point> mean(candidates.size(), Point(m)), optimistic(candidates.size(), Point(m));
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::vector<double> f =
        with_extra(SurrogateFeatures(*problem.space, candidates[c]),
                   proxies > 0 ? extra->candidates.at(c) : std::vector<double>{}, false, top);
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
