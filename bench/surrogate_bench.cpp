// How well the search's surrogates rank NAS-Bench-201 cells they have not seen: the ridge
// ensemble of search/surrogate.cpp fit on n random cells, Kendall tau of its mean prediction
// against the table on the rest (every 7th cell of the rest, mean of SPLITS splits), for the
// accuracy and one latency column: ridge or Gaussian-process (kernel) regression, on the target as
// it is or in log form, ridge with op-pair features, and as the surrogate chooses
// (ChooseSurrogate, 5-fold cross-validation).
// Usage: surrogate_bench CSV [LATENCY_COLUMN=pixel3_ms] [SPLITS=5]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "evaluator/table_evaluator.h"
#include "predictors/kernel_regression.h"
#include "predictors/prediction_metrics.h"
#include "predictors/ridge_ensemble.h"
#include "search/surrogate.h"
#include "space/search_space.h"

using namespace paretonas;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CSV [LATENCY_COLUMN] [SPLITS]\n", argv[0]);
    return 2;
  }
  const std::string lat_col = argc > 2 ? argv[2] : "pixel3_ms";
  const int splits = argc > 3 ? std::atoi(argv[3]) : 5;
  const space::SearchSpace sp = space::SearchSpace::Load("nb201", {}, space::InputSpec{});
  evaluator::TableOptions topt;
  topt.path = argv[1];
  topt.latency_column = lat_col;
  evaluator::TableEvaluator table(topt, nullptr);
  const std::vector<space::Genotype> all = sp.Enumerate();
  std::vector<double> acc, lat;
  std::vector<std::vector<double>> edge, pair;
  for (const auto& g : all) {
    evaluator::EvalRequest req;
    req.genotype = g;
    req.key = sp.Key(g);
    const evaluator::EvalResult r = table.Evaluate(req);
    acc.push_back(r.metrics.at("val_accuracy"));
    lat.push_back(r.metrics.at("latency_ms"));
    edge.push_back(search::SurrogateFeatures(sp, g));
    std::vector<double> q = edge.back();  // plus products of every two one-hot choices
    const std::vector<float> oh = sp.OneHot(g);
    for (size_t a = 0; a < oh.size(); ++a)
      for (size_t b = a + 1; b < oh.size(); ++b) q.push_back(oh[a] * oh[b]);
    pair.push_back(std::move(q));
  }
  const int sizes[] = {20, 50, 100, 300};
  std::printf("| target | model | n=20 | n=50 | n=100 | n=300 |\n|---|---|---|---|---|---|\n");
  const char* names[] = {"ridge, plain (first surrogate)", "ridge, op pairs, plain", "ridge, log form",
                         "kernel (GP), plain", "kernel (GP), log form", "chosen by CV (now)"};
  constexpr int kVariants = 6, kChosen = 5;
  for (int target = 0; target < 2; ++target) {
    for (int variant = 0; variant < kVariants; ++variant) {
      std::printf("| %s | %s |", target == 0 ? "accuracy" : lat_col.c_str(), names[variant]);
      std::vector<std::string> chosen_text;
      for (int n : sizes) {
        double tau = 0;
        int chosen_log = 0, chosen_kernel = 0, chosen_pruned = 0;
        for (int s = 0; s < splits; ++s) {
          std::vector<size_t> idx(all.size());
          std::iota(idx.begin(), idx.end(), 0);
          std::mt19937_64 rng(1000 + s);
          std::shuffle(idx.begin(), idx.end(), rng);
          // As the surrogate sees an objective: minimisation form, normalised over the trials.
          auto value = [&](size_t i) { return target == 0 ? -acc[i] : lat[i]; };
          double lo = 1e300, hi = -1e300;
          for (int i = 0; i < n; ++i) lo = std::min(lo, value(idx[i])), hi = std::max(hi, value(idx[i]));
          std::vector<std::vector<double>> xt;
          std::vector<double> v;
          const auto& x = variant == 1 ? pair : edge;
          for (int i = 0; i < n; ++i) xt.push_back(x[idx[i]]), v.push_back((value(idx[i]) - lo) / (hi - lo));
          bool log = variant == 2 || variant == 4, kernel = variant == 3 || variant == 4;
          bool pruned_only = false;
          if (variant == kChosen) {
            const search::SurrogateChoice c = search::ChooseSurrogate(xt, v, static_cast<std::uint64_t>(s));
            log = c.log, kernel = c.kernel, pruned_only = c.pruned_only;
            for (auto& row : xt) row = search::ChosenFeatures(row, pruned_only);
          }
          chosen_log += log, chosen_kernel += kernel, chosen_pruned += pruned_only;
          if (log)
            for (double& t : v) t = std::log(t + 0.01);
          predictors::RidgeEnsemble m;
          predictors::KernelRegression k;
          if (kernel) k.Fit(xt, v);
          else m.Fit(xt, v, predictors::RidgeOptions{5, 1.0, static_cast<std::uint64_t>(s)});
          std::vector<double> pred, truth;
          for (size_t i = n; i < idx.size(); i += 7) {  // tau is O(n^2)
            const std::vector<double> f =
                variant == kChosen ? search::ChosenFeatures(x[idx[i]], pruned_only) : x[idx[i]];
            pred.push_back(kernel ? k.Predict(f).first : m.Predict(f).first);
            truth.push_back(value(idx[i]));
          }
          tau += predictors::KendallTau(pred, truth);
        }
        chosen_text.push_back("kernel " + std::to_string(chosen_kernel) + ", log " +
                              std::to_string(chosen_log) + ", live only " +
                              std::to_string(chosen_pruned));
        std::printf(" %.3f |", tau / splits);
      }
      if (variant == kChosen)
        for (const std::string& t : chosen_text) std::printf(" %s of %d;", t.c_str(), splits);
      std::printf("\n");
    }
  }
  return 0;
}
