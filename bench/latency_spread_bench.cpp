// Does the predicted latency's spread help find the true front? NAS-Bench-201's four devices:
// each device is fit few-shot (N kit-chosen measurements, the three other devices as the prior,
// as `latency kit` + `latency fit --prior` do), and every cell's latency is predicted with its
// spread: the calibrated one (`std_ms`, what `latency predict` reports) and the bootstrap one.
// Accuracy is the table's (CIFAR-10 test). The question is which cells to measure for real:
//   * spread K: the cells that could be non-dominated, i.e. no other cell is at least as accurate
//     and surely faster (its prediction + K spreads below this cell's prediction - K spreads);
//     K = 0 is the predicted front;
//   * the same number of cells without the spread: the best by non-dominated sorting on
//     (accuracy, predicted latency), front after front, each front by predicted latency.
// Reported per (device, K): how many cells that is, and the share of the true front
// (accuracy, measured latency) among them, mean over DRAWS draws. Deterministic.
// The calibrated spread is proportional to the prediction (std_ms = relative sigma x ms), so
// optimistic latency (ms - K std_ms) ranks cells exactly as ms does: inside a search (dominance,
// crowding) it cannot change anything; where it can is in a set like the one above.
// Usage: latency_spread_bench NB201_CSV [N=20] [DRAWS=10] [COLUMN ...]
#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "bench/nb201_table.h"
#include "evaluator/table_evaluator.h"
#include "predictors/latency_model.h"
#include "search/pareto.h"

using namespace paretonas;

namespace {

/// Cells that no other cell dominates surely: none with accuracy >= and hi < this cell's lo.
std::vector<int> PossiblyNonDominated(const std::vector<double>& acc, const std::vector<double>& lo,
                                      const std::vector<double>& hi) {
  std::vector<int> order(acc.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return acc[a] > acc[b]; });
  std::vector<int> kept;
  double best_hi = std::numeric_limits<double>::infinity();  // over strictly more accurate cells
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && acc[order[j]] == acc[order[i]]) ++j;
    // Within a group of equal accuracy: the smallest and second smallest hi (to leave out self).
    double m1 = std::numeric_limits<double>::infinity(), m2 = m1;
    int arg = -1;
    for (std::size_t t = i; t < j; ++t) {
      const double h = hi[order[t]];
      if (h < m1) m2 = m1, m1 = h, arg = order[t]; else if (h < m2) m2 = h;
    }
    for (std::size_t t = i; t < j; ++t) {
      const int c = order[t];
      const double others = std::min(best_hi, c == arg ? m2 : m1);
      if (!(others < lo[c])) kept.push_back(c);
    }
    best_hi = std::min(best_hi, m1);
    i = j;
  }
  return kept;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: latency_spread_bench NB201_CSV [N] [DRAWS] [COLUMN ...]\n");
    return 2;
  }
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 20;
  const int draws = argc > 3 ? std::stoi(argv[3]) : 10;
  const std::vector<std::string> all_columns{"fpga_ms", "gold_6226_ms", "titan_rtx_256_ms", "pixel3_ms"};
  std::vector<std::string> targets(argv + std::min(argc, 4), argv + argc);
  if (targets.empty()) targets = all_columns;
  const bench::Nb201Table nb201(argv[1]);
  const space::SearchSpace& sp = nb201.space;
  const std::vector<space::Genotype>& archs = nb201.archs;
  const std::size_t cells = archs.size();
  std::map<std::string, std::vector<double>> y;
  for (const auto& c : all_columns) y[c] = nb201.Values(c);
  const std::vector<double> acc = nb201.Values("cifar10_test_acc");
  auto fit = [&](const std::string& c, const std::vector<std::size_t>& rows,
                 const std::vector<predictors::LatencyModel>& priors) {
    // as `latency fit`: 8 bootstrap members, calibrated spread
    return nb201.Fit(y[c], rows, predictors::LatencyFitOptions{}, priors);
  };
  const std::vector<double> ks{0, 0.1, 0.25, 0.5, 1};
  std::printf("few-shot fits from %zu kit-chosen measurements, 3 other devices as the prior; all %zu cells "
              "predicted; mean of %d draws\n", n, cells, draws);
  for (const auto& target : targets) {
    std::vector<predictors::LatencyModel> priors;
    std::mt19937_64 prng(2026);
    std::vector<std::size_t> prior_rows(cells);
    std::iota(prior_rows.begin(), prior_rows.end(), 0);
    std::shuffle(prior_rows.begin(), prior_rows.end(), prng);
    prior_rows.resize(1000);
    for (const auto& c : all_columns)
      if (c != target) priors.push_back(fit(c, prior_rows, {}));
    const std::vector<int> truth = PossiblyNonDominated(acc, y[target], y[target]);
    std::vector<char> on_front(cells, 0);
    for (int c : truth) on_front[c] = 1;
    std::printf("\n%s: true front %zu cells\n", target.c_str(), truth.size());
    std::printf("%-10s %-5s %-9s %-12s %s\n", "spread", "K", "measured", "front found", "same count, no spread");
    // [spread kind][k]: sums over draws
    std::vector<std::vector<double>> size(2, std::vector<double>(ks.size())), found = size, base = size;
    for (int d = 0; d < draws; ++d) {
      std::mt19937_64 drng(7000 + d);
      std::vector<std::size_t> all(cells);
      std::iota(all.begin(), all.end(), 0);
      const auto model = fit(target, nb201.KitRows(all, n, drng), priors);
      std::vector<double> ms(cells), sd_cal(cells), sd_boot(cells);
      for (std::size_t c = 0; c < cells; ++c) {
        const auto p = model.Predict(sp, archs[c]);
        ms[c] = p.ms, sd_cal[c] = p.std_ms, sd_boot[c] = p.bootstrap_std_ms;
      }
      // The baseline order: non-dominated sorting on (accuracy max, predicted latency min).
      std::vector<search::Point> pts(cells);
      for (std::size_t c = 0; c < cells; ++c) pts[c] = {-acc[c], ms[c]};
      std::vector<int> ranked;
      for (auto front : search::NonDominatedSort(pts)) {
        std::sort(front.begin(), front.end(), [&](int a, int b) { return ms[a] < ms[b]; });
        ranked.insert(ranked.end(), front.begin(), front.end());
      }
      for (int s = 0; s < 2; ++s) {
        const std::vector<double>& sd = s == 0 ? sd_cal : sd_boot;
        for (std::size_t ki = 0; ki < ks.size(); ++ki) {
          std::vector<double> lo(cells), hi(cells);
          for (std::size_t c = 0; c < cells; ++c) lo[c] = ms[c] - ks[ki] * sd[c], hi[c] = ms[c] + ks[ki] * sd[c];
          const std::vector<int> kept = PossiblyNonDominated(acc, lo, hi);
          double hit = 0, bhit = 0;
          for (int c : kept) hit += on_front[c];
          for (std::size_t i = 0; i < kept.size() && i < ranked.size(); ++i) bhit += on_front[ranked[i]];
          size[s][ki] += static_cast<double>(kept.size()) / draws;
          found[s][ki] += hit / static_cast<double>(truth.size()) / draws;
          base[s][ki] += bhit / static_cast<double>(truth.size()) / draws;
        }
      }
    }
    for (int s = 0; s < 2; ++s)
      for (std::size_t ki = 0; ki < ks.size(); ++ki) {
        if (s == 1 && ks[ki] == 0) continue;  // K = 0 is the same set for both
        std::printf("%-10s %-5.2f %-9.1f %5.1f%%       %5.1f%%\n", s == 0 ? "calibrated" : "bootstrap", ks[ki],
                    size[s][ki], 100 * found[s][ki], 100 * base[s][ki]);
      }
    std::fflush(stdout);
  }
  return 0;
}
