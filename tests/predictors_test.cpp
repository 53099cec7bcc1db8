#include <gtest/gtest.h>

#include <cmath>

#include "predictors/prediction_metrics.h"

namespace paretonas::predictors {
namespace {

TEST(PredictionMetrics, HandMadeData) {
  // measured 10, 20, 30, 40; predictions 4% high, 8% low, 20% high, exact.
  const std::vector<double> meas{10, 20, 30, 40}, pred{10.4, 18.4, 36, 40};
  const PredictionMetrics m = ComparePredictions(pred, meas);
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.within_5, 0.5);    // 4% and 0%
  EXPECT_DOUBLE_EQ(m.within_10, 0.75);  // plus 8%
  EXPECT_NEAR(m.mape, (4 + 8 + 20 + 0) / 4.0, 1e-9);
  // Ranks of pred: 1, 2, 3, 4 (same order as measured) -> perfect rank agreement.
  EXPECT_DOUBLE_EQ(m.spearman, 1.0);
  EXPECT_DOUBLE_EQ(m.kendall, 1.0);
  EXPECT_NE(m.ToJson().find("\"within_10\": 0.75"), std::string::npos) << m.ToJson();
}

TEST(PredictionMetrics, RankCorrelationsOnKnownPermutations) {
  const std::vector<double> a{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(Spearman(a, {5, 4, 3, 2, 1}), -1.0);
  // One adjacent swap: 9 concordant, 1 discordant pair of 10 -> tau 0.8; rho = 1 - 6*2/(5*24) = 0.9
  EXPECT_NEAR(KendallTau(a, {1, 2, 3, 5, 4}), 0.8, 1e-12);
  EXPECT_NEAR(Spearman(a, {1, 2, 3, 5, 4}), 0.9, 1e-12);
  // Ties: tau-b of (1,2,2) vs (1,2,3): concordant 2, tie in a 1 -> 2 / sqrt(2 * 3)
  EXPECT_NEAR(KendallTau({1, 2, 2}, {1, 2, 3}), 2 / std::sqrt(6.0), 1e-12);
}

TEST(PredictionMetrics, RejectsBadInput) {
  EXPECT_THROW(ComparePredictions({1}, {1}), std::invalid_argument);
  EXPECT_THROW(ComparePredictions({1, 2}, {1, 0}), std::invalid_argument);
  EXPECT_THROW(ComparePredictions({1, 2, 3}, {1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace paretonas::predictors
