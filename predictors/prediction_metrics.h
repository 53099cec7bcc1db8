// How well predictions match measurements: the figures `paretonas latency eval` reports.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace paretonas::predictors {

struct PredictionMetrics {
  std::size_t n = 0;
  double within_5 = 0;   ///< share (0..1) of |pred - meas| <= 5% of meas
  double within_10 = 0;  ///< share (0..1) of |pred - meas| <= 10% of meas
  double spearman = 0;   ///< rank correlation (average ranks for ties)
  double kendall = 0;    ///< Kendall tau-b
  double mape = 0;       ///< mean absolute percentage error, percent

  /// One JSON object with keys n, within_5, within_10, spearman, kendall, mape.
  std::string ToJson() const;
};

/// Compares `predicted` with `measured` (same length >= 2; measured values > 0).
/// Throws std::invalid_argument otherwise.
PredictionMetrics ComparePredictions(const std::vector<double>& predicted,
                                     const std::vector<double>& measured);

/// Spearman's rho with average ranks for ties.
double Spearman(const std::vector<double>& a, const std::vector<double>& b);
/// Kendall's tau-b (handles ties), O(n^2).
double KendallTau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace paretonas::predictors
