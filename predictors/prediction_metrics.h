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
  double median_ape = 0; ///< median absolute percentage error, percent (the headline figure)
  /// Mean absolute percentage error, percent. NOTE: a few measurements near zero (e.g. cells a
  /// runtime skips, timed at microseconds) can make it huge while every other figure is good.
  double mape = 0;
  /// Share (0..1) of measurements within ±1 predicted spread; -1 when no spreads were given. A
  /// calibrated spread (one standard deviation) covers about 0.68.
  double coverage = -1;

  /// One JSON object with keys n, median_ape, within_5, within_10, spearman, kendall, coverage,
  /// mape.
  std::string ToJson() const;
};

/// Compares `predicted` with `measured` (same length >= 2; measured values > 0), and, when
/// `spread` is given (same length), how often the measurement lies within ±1 spread.
/// Throws std::invalid_argument otherwise.
PredictionMetrics ComparePredictions(const std::vector<double>& predicted,
                                     const std::vector<double>& measured,
                                     const std::vector<double>& spread = {});

/// Spearman's rho with average ranks for ties.
double Spearman(const std::vector<double>& a, const std::vector<double>& b);
/// Kendall's tau-b (handles ties), O(n^2).
double KendallTau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace paretonas::predictors
