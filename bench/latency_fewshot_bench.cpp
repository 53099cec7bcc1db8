// Few-shot latency fits on NAS-Bench-201's four devices, leaving one device out: the prior is a
// model of each of the other three (fit on PRIOR_N random cells of its own column); the target
// device is then fit from N of its measurements, chosen by the kit's spread selection
// (SpreadSelection over a random half of the space, another half per draw) or at random, with
// and without the priors. Evaluated on EVAL_N held-out cells (the same for every fit of a
// device): Spearman, Kendall, within ±10%, mean over DRAWS draws.
// Usage: latency_fewshot_bench NB201_CSV [DRAWS=10] [PRIOR_N=1000] [EVAL_N=3000] [COLUMN ...]
//   (environment FEWSHOT_N=10,20: only these N instead of 5, 10, 20, 50, 100;
//   FEWSHOT_KIT_PRIOR_ONLY=1: only the kit's selection with the prior)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>

#include "bench/nb201_table.h"
#include "evaluator/table_evaluator.h"
#include "predictors/latency_model.h"
#include "predictors/prediction_metrics.h"

using namespace paretonas;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: latency_fewshot_bench NB201_CSV [DRAWS] [PRIOR_N] [EVAL_N] [COLUMN ...]\n");
    return 2;
  }
  const int draws = argc > 2 ? std::stoi(argv[2]) : 10;
  const std::size_t prior_n = argc > 3 ? std::stoul(argv[3]) : 1000;
  const std::size_t eval_n = argc > 4 ? std::stoul(argv[4]) : 3000;
  const std::vector<std::string> all_columns{"fpga_ms", "gold_6226_ms", "titan_rtx_256_ms", "pixel3_ms"};
  std::vector<std::string> targets(argv + std::min(argc, 5), argv + argc);
  if (targets.empty()) targets = all_columns;
  const bench::Nb201Table nb201(argv[1]);
  const space::SearchSpace& sp = nb201.space;
  const std::vector<space::Genotype>& archs = nb201.archs;
  std::map<std::string, std::vector<double>> y;
  for (const auto& c : all_columns) y[c] = nb201.Values(c);
  // One held-out evaluation set for everything; priors and targets never see it.
  std::vector<std::size_t> idx(archs.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 rng(2026);
  std::shuffle(idx.begin(), idx.end(), rng);
  const std::vector<std::size_t> eval(idx.begin(), idx.begin() + eval_n);
  const std::vector<std::size_t> rest(idx.begin() + eval_n, idx.end());
  predictors::LatencyFitOptions no_members;
  no_members.members = 0;
  auto fit = [&](const std::string& c, const std::vector<std::size_t>& rows,
                 const std::vector<predictors::LatencyModel>& priors) {
    return nb201.Fit(y[c], rows, no_members, priors);
  };
  auto score = [&](const std::string& c, const predictors::LatencyModel& m) {
    std::vector<double> pred, meas;
    for (std::size_t r : eval) pred.push_back(m.Predict(sp, archs[r]).ms), meas.push_back(y[c][r]);
    return predictors::ComparePredictions(pred, meas);
  };
  std::printf("leave-one-device-out few-shot fits; priors fit on %zu cells each; evaluated on %zu held-out cells; "
              "mean of %d draws\n", prior_n, eval_n, draws);
  for (const auto& target : targets) {
    std::vector<predictors::LatencyModel> priors;
    std::string names;
    for (const auto& c : all_columns) {
      if (c == target) continue;
      std::vector<std::size_t> rows(rest.begin(), rest.begin() + std::min(prior_n, rest.size()));
      priors.push_back(fit(c, rows, {}));
      names += (names.empty() ? "" : ", ") + c;
    }
    std::printf("\n%s (prior: %s)\n", target.c_str(), names.c_str());
    std::printf("%-5s %-7s %-8s %-9s %-9s %-9s\n", "N", "select", "prior", "spearman", "kendall", "within10");
    const bool only_kit_prior = std::getenv("FEWSHOT_KIT_PRIOR_ONLY") != nullptr;
    std::vector<std::size_t> sizes{5, 10, 20, 50, 100};
    if (const char* env = std::getenv("FEWSHOT_N")) {  // e.g. FEWSHOT_N=10,20: only these N
      sizes.clear();
      for (const char* p = env; *p;) {
        char* end = nullptr;
        sizes.push_back(std::strtoul(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
      }
    }
    for (std::size_t n : sizes) {
      for (const char* how : {"kit", "random"}) {
        if (only_kit_prior && std::string(how) != "kit") continue;
        for (bool use_prior : {true, false}) {
          if (only_kit_prior && !use_prior) continue;
          double s = 0, k = 0, w = 0;
          for (int d = 0; d < draws; ++d) {
            std::mt19937_64 drng(1000 * n + d);
            std::vector<std::size_t> rows;
            if (std::string(how) == "kit") {
              rows = nb201.KitRows(rest, n, drng);
            } else {
              std::vector<std::size_t> pool(rest);
              std::shuffle(pool.begin(), pool.end(), drng);
              rows.assign(pool.begin(), pool.begin() + n);
            }
            const auto m = score(target, fit(target, rows, use_prior ? priors : std::vector<predictors::LatencyModel>{}));
            s += m.spearman / draws, k += m.kendall / draws, w += m.within_10 / draws;
          }
          std::printf("%-5zu %-7s %-8s %-9.4f %-9.4f %-8.1f%%\n", n, how, use_prior ? "3 devs" : "none", s, k, 100 * w);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
