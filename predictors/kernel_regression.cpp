#include "predictors/kernel_regression.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace paretonas::predictors {

namespace {

double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t j = 0; j < a.size(); ++j) d += (a[j] - b[j]) * (a[j] - b[j]);
  return d;
}

}  // namespace

double KernelRegression::Kernel(const std::vector<double>& a, const std::vector<double>& b) const {
  return std::exp(-SquaredDistance(a, b) / (2 * length2_));
}

void KernelRegression::Fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                           const KernelOptions& options) {
  const size_t n = x.size();
  if (n != y.size() || n < 2) throw std::invalid_argument("KernelRegression::Fit: need >= 2 rows, one target each");
  if (!(options.median_scale > 0)) throw std::invalid_argument("KernelRegression::Fit: median_scale must be > 0");
  for (const auto& row : x)
    if (row.size() != x[0].size()) throw std::invalid_argument("KernelRegression::Fit: rows of different lengths");
  x_ = x;
  mean_ = 0;
  for (double v : y) mean_ += v;
  mean_ /= static_cast<double>(n);
  variance_ = 0;
  for (double v : y) variance_ += (v - mean_) * (v - mean_);
  variance_ = std::max(variance_ / static_cast<double>(n), 1e-12);
  length2_ = options.length2;
  if (length2_ <= 0) {
    std::vector<double> d;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) d.push_back(SquaredDistance(x[i], x[j]));
    std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
    length2_ = (d[d.size() / 2] > 0 ? d[d.size() / 2] : 1.0) * options.median_scale;
  }
  // K + noise I, then its Cholesky factor in place; the noise keeps it positive definite
  // (duplicate rows included).
  const double noise = std::max(options.noise, 1e-8);
  chol_.assign(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j <= i; ++j) chol_[i * n + j] = Kernel(x[i], x[j]) + (i == j ? noise : 0.0);
  for (size_t j = 0; j < n; ++j) {
    double d = chol_[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= chol_[j * n + k] * chol_[j * n + k];
    const double l = std::sqrt(std::max(d, 1e-12));
    chol_[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double s = chol_[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= chol_[i * n + k] * chol_[j * n + k];
      chol_[i * n + j] = s / l;
    }
  }
  alpha_.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {  // L z = y - mean
    double s = y[i] - mean_;
    for (size_t k = 0; k < i; ++k) s -= chol_[i * n + k] * alpha_[k];
    alpha_[i] = s / chol_[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {  // L^T alpha = z
    double s = alpha_[i];
    for (size_t k = i + 1; k < n; ++k) s -= chol_[k * n + i] * alpha_[k];
    alpha_[i] = s / chol_[i * n + i];
  }
}

std::pair<double, double> KernelRegression::Predict(const std::vector<double>& x) const {
  const size_t n = x_.size();
  if (n == 0) throw std::logic_error("KernelRegression::Predict before Fit");
  std::vector<double> k(n);
  double mean = mean_;
  for (size_t i = 0; i < n; ++i) {
    k[i] = Kernel(x, x_[i]);
    mean += k[i] * alpha_[i];
  }
  // Posterior variance: variance * (1 - |L^-1 k|^2).
  double explained = 0;
  for (size_t i = 0; i < n; ++i) {
    double s = k[i];
    for (size_t j = 0; j < i; ++j) s -= chol_[i * n + j] * k[j];
    k[i] = s / chol_[i * n + i];
    explained += k[i] * k[i];
  }
  return {mean, std::sqrt(variance_ * std::max(0.0, 1.0 - explained))};
}

}  // namespace paretonas::predictors
