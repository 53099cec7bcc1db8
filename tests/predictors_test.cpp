#include <gtest/gtest.h>

#include <cmath>

#include "predictors/prediction_metrics.h"
#include "predictors/ridge_ensemble.h"

#include <random>

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

TEST(RidgeEnsemble, RecoversALinearFunctionAndIsUnsureFarFromTheData) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.01);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (int i = 0; i < 200; ++i) {
    x.push_back({u(rng), u(rng), u(rng)});
    y.push_back(2 * x.back()[0] - 3 * x.back()[1] + 0.5 + noise(rng));
  }
  RidgeEnsemble model;
  model.Fit(x, y, RidgeOptions{5, 1e-6, 1});
  const auto [mean, sd] = model.Predict({0.5, 0.5, 0.5});
  EXPECT_NEAR(mean, 2 * 0.5 - 3 * 0.5 + 0.5, 0.01);
  const auto [far_mean, far_sd] = model.Predict({50, -50, 50});
  EXPECT_GT(far_sd, sd);  // extrapolation: the members disagree more
  (void)far_mean;
}

TEST(RidgeEnsemble, SolveRidgeMatchesAHandSolvedSystem) {
  // [[2, 1], [1, 3]] w = [3, 5]  ->  w = [0.8, 1.4]
  std::vector<double> w;
  ASSERT_TRUE(SolveRidge({2, 1, 1, 3}, {0, 0}, {3, 5}, &w));
  EXPECT_NEAR(w[0], 0.8, 1e-12);
  EXPECT_NEAR(w[1], 1.4, 1e-12);
  EXPECT_FALSE(SolveRidge({1, 1, 1, 1}, {0, 0}, {1, 1}, &w));  // singular
  ASSERT_TRUE(SolveRidge({1, 1, 1, 1}, {1, 1}, {1, 1}, &w));   // the penalty makes it solvable
  EXPECT_THROW(RidgeEnsemble().Fit({{1.0}}, {1.0}, RidgeOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace paretonas::predictors
