// RidgeEnsemble: bootstrap ensemble of ridge regressions (mean and spread of predictions).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace paretonas::predictors {

struct RidgeOptions {
  int members = 5;        ///< bootstrap resamples; the spread of their predictions is the uncertainty
  double lambda = 1.0;    ///< L2 penalty on the weights (not on the intercept)
  std::uint64_t seed = 0; ///< fixes the resamples
};

class RidgeEnsemble {
 public:
  /// Fits on rows `x` (all of one length) and targets `y`. Throws std::invalid_argument on
  /// mismatched sizes or fewer than 2 rows.
  void Fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
           const RidgeOptions& options);
  /// Mean and standard deviation over the members.
  std::pair<double, double> Predict(const std::vector<double>& x) const;
  bool fitted() const { return !weights_.empty(); }

 private:
  std::vector<std::vector<double>> weights_;  // per member: d weights then the intercept
};

/// Solves (A + diag(penalty)) w = b for a symmetric positive semi-definite A by Cholesky.
/// Returns false when the system is singular.
bool SolveRidge(std::vector<double> a, const std::vector<double>& penalty, std::vector<double> b,
                std::vector<double>* w);

}  // namespace paretonas::predictors
