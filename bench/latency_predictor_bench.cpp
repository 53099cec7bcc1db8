// The latency predictor on NAS-Bench-201's measured latencies: fit on N random cells, evaluate
// on all the others, mean over 5 splits, for N in 10, 20, 50, 100, 300; plus the prediction
// cost. Usage: latency_predictor_bench NB201_CSV [--asymptote] [COLUMN ...] (default: the four
// devices); --asymptote fits on 100, 1,000 and 3,000 cells and tests the residuals for
// measurement-order drift.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "bench/nb201_table.h"
#include "evaluator/table_evaluator.h"
#include "predictors/latency_model.h"
#include "predictors/prediction_metrics.h"

using namespace paretonas;

namespace {

// Measurement-order drift. Each block of 125 consecutive `order` values (NB201's arch_index; the
// index order is unrelated to the ops) gets its own scale: the median ratio of measured to
// predicted latency over the block's test cells. If the residuals were a function of the
// architecture alone, blocks of index order would explain no more than blocks of a random order
// (the control, mean of 5 shuffles); where they explain more, the table carries an effect of when
// a cell was measured, which no architecture feature can predict. Independent check: the twin
// rows (one network measured twice), each divided by its own block's scale (estimated without
// the twins), agree better with each other if the drift is real.
// `pred[i]` is the prediction for row idx[first + i], first = idx.size() - pred.size().
void OrderDrift(const std::string& column, int n, const std::vector<std::size_t>& idx,
                const std::vector<double>& pred, const std::vector<double>& meas,
                const std::vector<long>& order, const std::vector<double>& y,
                const std::vector<std::pair<std::size_t, std::size_t>>& twins) {
  constexpr long kBlock = 125;
  const std::size_t first = idx.size() - pred.size();
  std::vector<bool> is_twin(y.size(), false);
  for (const auto& [i, j] : twins) is_twin[i] = is_twin[j] = true;
  // Block scales from the test cells (without twins when `skip_twins`), keyed by key[i] / kBlock.
  auto scales = [&](const std::vector<long>& key, bool skip_twins) {
    std::map<long, std::vector<double>> ratios;
    for (std::size_t i = 0; i < pred.size(); ++i)
      if (!skip_twins || !is_twin[idx[first + i]]) ratios[key[i] / kBlock].push_back(meas[i] / pred[i]);
    std::map<long, double> scale;
    for (auto& [b, r] : ratios) {
      std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
      scale[b] = r[r.size() / 2];
    }
    return scale;
  };
  auto corrected = [&](const std::vector<long>& key) {
    const auto scale = scales(key, false);
    std::vector<double> adjusted;
    for (std::size_t i = 0; i < pred.size(); ++i) adjusted.push_back(pred[i] * scale.at(key[i] / kBlock));
    return predictors::ComparePredictions(adjusted, meas);
  };
  std::vector<long> key;
  for (std::size_t i = 0; i < pred.size(); ++i) key.push_back(order[idx[first + i]]);
  const auto plain = predictors::ComparePredictions(pred, meas);
  const auto by_order = corrected(key);
  double control_w = 0, control_s = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<long> perm(order.size());
    std::iota(perm.begin(), perm.end(), 0L);
    std::mt19937_64 rng(7 + rep);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<long> shuffled;
    for (long k : key) shuffled.push_back(perm[static_cast<std::size_t>(k)]);
    const auto m = corrected(shuffled);
    control_w += m.within_10 / 5, control_s += m.spearman / 5;
  }
  std::printf("%-18s n=%3d  split 0: spearman %.4f, within10 %.1f%%; one scale per block of %ld consecutive "
              "arch_index: %.4f, %.1f%%; per block of a random order (control): %.4f, %.1f%%\n",
              column.c_str(), n, plain.spearman, 100 * plain.within_10, kBlock, by_order.spearman,
              100 * by_order.within_10, control_s, 100 * control_w);
  const auto scale = scales(key, true);
  std::vector<double> a, b, ca, cb;
  for (const auto& [i, j] : twins) {
    const auto si = scale.find(order[i] / kBlock), sj = scale.find(order[j] / kBlock);
    if (si == scale.end() || sj == scale.end()) continue;
    a.push_back(y[i]), b.push_back(y[j]);
    ca.push_back(y[i] / si->second), cb.push_back(y[j] / sj->second);
  }
  const auto raw = predictors::ComparePredictions(a, b), fixed = predictors::ComparePredictions(ca, cb);
  std::printf("%-18s n=%3d  %zu twins (one network measured twice): spearman %.4f, within10 %.1f%%; each "
              "divided by its block's scale: %.4f, %.1f%%\n",
              column.c_str(), n, a.size(), raw.spearman, 100 * raw.within_10, fixed.spearman,
              100 * fixed.within_10);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s NB201_CSV [--asymptote] [COLUMN ...]\n", argv[0]);
    return 2;
  }
  // --asymptote: fit on 100, 1,000 and 3,000 cells instead, and test the residuals for measurement-order
  // drift (OrderDrift).
  const bool asymptote = argc > 2 && std::string(argv[2]) == "--asymptote";
  std::vector<std::string> columns(argv + 2 + (asymptote ? 1 : 0), argv + argc);
  if (columns.empty()) columns = {"gold_6226_ms", "fpga_ms", "titan_rtx_256_ms", "pixel3_ms"};
  const bench::Nb201Table nb201(argv[1]);
  const predictors::SpaceRef& ref = nb201.ref;
  const space::SearchSpace& sp = nb201.space;
  const evaluator::CsvTable& table = nb201.table;
  const std::vector<space::Genotype>& archs = nb201.archs;
  // Noise floor: with no edge 1->2, swapping the cell's nodes 1 and 2 gives the same computation
  // (edges 0->1 <-> 0->2 and 1->3 <-> 2->3), so two table rows measure one network twice.
  const int order_col = table.Column(argv[1], "arch_index");
  std::vector<long> order;
  for (const auto& row : table.rows) order.push_back(std::stol(row[order_col]));
  std::map<space::Genotype, std::size_t> row_of;
  for (std::size_t i = 0; i < archs.size(); ++i) row_of[archs[i]] = i;
  std::vector<std::pair<std::size_t, std::size_t>> twins;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    const auto& g = archs[i];
    if (g[2] != 0) continue;  // decision 2 is edge 1->2; option 0 is none
    const space::Genotype swapped{g[1], g[0], 0, g[3], g[5], g[4]};
    const std::size_t j = row_of.at(swapped);
    if (j > i) twins.emplace_back(i, j);
  }
  for (const auto& column : columns) {
    const std::vector<double> y = nb201.Values(column);
    {
      std::vector<double> a, b;
      for (const auto& [i, j] : twins) a.push_back(y[i]), b.push_back(y[j]);
      const auto m = predictors::ComparePredictions(a, b);
      std::printf("%-18s noise floor: %zu pairs of one network measured twice: spearman %.4f, within10 %.1f%%, within5 %.1f%%\n",
                  column.c_str(), twins.size(), m.spearman, 100 * m.within_10, 100 * m.within_5);
    }
    std::vector<int> sizes{10, 20, 50, 100, 300};
    if (asymptote) sizes = {100, 1000, 3000};
    for (int n : sizes) {
      predictors::PredictionMetrics mean;
      double lambda_sum = 0;
      for (int split = 0; split < 5; ++split) {
        std::vector<std::size_t> idx(archs.size());
        std::iota(idx.begin(), idx.end(), 0);
        std::mt19937_64 rng(100 + split);
        std::shuffle(idx.begin(), idx.end(), rng);
        std::vector<space::Genotype> tx;
        std::vector<double> ty, pred, meas;
        for (int i = 0; i < n; ++i) tx.push_back(archs[idx[i]]), ty.push_back(y[idx[i]]);
        predictors::LatencyFitOptions o;
        o.seed = split;
        o.members = 0;
        const auto model = predictors::LatencyModel::Fit(sp, ref, tx, ty, {}, o);
        lambda_sum += model.lambda();
        for (std::size_t i = n; i < idx.size(); ++i) {
          pred.push_back(model.Predict(sp, archs[idx[i]]).ms);
          meas.push_back(y[idx[i]]);
        }
        const auto m = predictors::ComparePredictions(pred, meas);
        if (asymptote && split == 0) OrderDrift(column, n, idx, pred, meas, order, y, twins);
        mean.spearman += m.spearman / 5, mean.kendall += m.kendall / 5;
        mean.within_5 += m.within_5 / 5, mean.within_10 += m.within_10 / 5, mean.mape += m.mape / 5;
      }
      std::printf("%-18s n=%3d  spearman %.4f  kendall %.4f  within10 %5.1f%%  within5 %5.1f%%  mape %5.2f%%  (mean lambda %.2f)\n",
                  column.c_str(), n, mean.spearman, mean.kendall, 100 * mean.within_10,
                  100 * mean.within_5, mean.mape, lambda_sum / 5);
      std::fflush(stdout);
    }
  }
  // Prediction cost: a model with uncertainty (8 bootstrap members), 2,000 architectures, 5 runs.
  std::vector<double> ty;
  const int col = table.Column(argv[1], columns[0]);
  std::vector<space::Genotype> tx(archs.begin(), archs.begin() + 100);
  for (int i = 0; i < 100; ++i) ty.push_back(std::stod(table.rows[i][col]));
  const auto model = predictors::LatencyModel::Fit(sp, ref, tx, ty, {}, predictors::LatencyFitOptions{});
  std::vector<double> us;
  double sink = 0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 2000; ++i) sink += model.Predict(sp, archs[i]).ms;
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 2000);
  }
  std::sort(us.begin(), us.end());
  std::printf("prediction cost (features + 9 linear models): median %.1f us per architecture over 5 runs (%.1f .. %.1f) [%g]\n",
              us[2], us[0], us[4], sink > 0 ? 1.0 : 0.0);
  return 0;
}
