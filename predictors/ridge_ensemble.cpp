#include "predictors/ridge_ensemble.h"

#include <cmath>
#include <random>
#include <stdexcept>

namespace paretonas::predictors {

bool SolveRidge(std::vector<double> a, const std::vector<double>& penalty, std::vector<double> b,
                std::vector<double>* w) {
  const size_t n = b.size();
  for (size_t i = 0; i < n; ++i) a[i * n + i] += penalty[i];
  // In-place Cholesky: a = L L^T (lower triangle).
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (d <= 1e-12) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (size_t i = 0; i < n; ++i) {  // L z = b
    for (size_t k = 0; k < i; ++k) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T w = z
    for (size_t k = i + 1; k < n; ++k) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  *w = b;
  return true;
}

void RidgeEnsemble::Fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                        const RidgeOptions& options) {
  if (x.size() != y.size() || x.size() < 2)
    throw std::invalid_argument("RidgeEnsemble::Fit: need >= 2 rows and one target per row");
  const size_t d = x[0].size(), n = d + 1;
  for (const auto& row : x)
    if (row.size() != d) throw std::invalid_argument("RidgeEnsemble::Fit: rows differ in length");
  std::vector<double> penalty(n, options.lambda);
  penalty[d] = 1e-9;  // the intercept is (almost) not penalised
  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, x.size() - 1);
  weights_.clear();
  for (int m = 0; m < std::max(1, options.members); ++m) {
    std::vector<double> a(n * n, 0.0), b(n, 0.0);
    for (size_t r = 0; r < x.size(); ++r) {
      const size_t i = options.members > 1 ? pick(rng) : r;  // bootstrap resample
      for (size_t p = 0; p < n; ++p) {
        const double xp = p < d ? x[i][p] : 1.0;
        b[p] += xp * y[i];
        for (size_t q = 0; q <= p; ++q) a[p * n + q] += xp * (q < d ? x[i][q] : 1.0);
      }
    }
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) a[p * n + q] = a[q * n + p];
    std::vector<double> w;
    if (!SolveRidge(a, penalty, b, &w)) {
      w.assign(n, 0.0);  // degenerate resample: fall back to the mean
      double mean = 0;
      for (double v : y) mean += v;
      w[d] = mean / y.size();
    }
    weights_.push_back(std::move(w));
  }
}

std::pair<double, double> RidgeEnsemble::Predict(const std::vector<double>& x) const {
  double sum = 0, sum2 = 0;
  for (const auto& w : weights_) {
    double v = w.back();
    for (size_t p = 0; p + 1 < w.size(); ++p) v += w[p] * x[p];
    sum += v;
    sum2 += v * v;
  }
  const double k = static_cast<double>(weights_.size());
  const double mean = sum / k;
  return {mean, std::sqrt(std::max(0.0, sum2 / k - mean * mean))};
}

}  // namespace paretonas::predictors
