#include "predictors/prediction_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace paretonas::predictors {
namespace {

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = avg;
    i = j + 1;
  }
  return rank;
}

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace

double Spearman(const std::vector<double>& a, const std::vector<double>& b) {
  return Pearson(Ranks(a), Ranks(b));
}

double KendallTau(const std::vector<double>& a, const std::vector<double>& b) {
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) ties_a += 1;
      else if (db == 0) ties_b += 1;
      else if ((da > 0) == (db > 0)) concordant += 1;
      else discordant += 1;
    }
  }
  const double denom = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denom > 0 ? (concordant - discordant) / denom : 0.0;
}

PredictionMetrics ComparePredictions(const std::vector<double>& predicted,
                                     const std::vector<double>& measured,
                                     const std::vector<double>& spread) {
  if (predicted.size() != measured.size() || predicted.size() < 2)
    throw std::invalid_argument("ComparePredictions: need two equal-length lists of >= 2 values");
  if (!spread.empty() && spread.size() != predicted.size())
    throw std::invalid_argument("ComparePredictions: one spread per prediction");
  PredictionMetrics m;
  m.n = predicted.size();
  double ape = 0;
  std::vector<double> rels;
  double covered = 0;
  for (size_t i = 0; i < m.n; ++i) {
    if (!(measured[i] > 0)) throw std::invalid_argument("ComparePredictions: measured values must be > 0");
    const double rel = std::abs(predicted[i] - measured[i]) / measured[i];
    m.within_5 += rel <= 0.05;
    m.within_10 += rel <= 0.10;
    ape += rel;
    rels.push_back(rel);
    if (!spread.empty()) covered += std::abs(predicted[i] - measured[i]) <= spread[i];
  }
  std::sort(rels.begin(), rels.end());
  const size_t h = rels.size() / 2;
  m.median_ape = 100.0 * (rels.size() % 2 ? rels[h] : 0.5 * (rels[h - 1] + rels[h]));
  if (!spread.empty()) m.coverage = covered / static_cast<double>(m.n);
  m.within_5 /= static_cast<double>(m.n);
  m.within_10 /= static_cast<double>(m.n);
  m.mape = 100.0 * ape / static_cast<double>(m.n);
  m.spearman = Spearman(predicted, measured);
  m.kendall = KendallTau(predicted, measured);
  return m;
}

std::string PredictionMetrics::ToJson() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"n\": %zu, \"median_ape\": %.6g, \"within_5\": %.6g, \"within_10\": %.6g, "
                "\"spearman\": %.6g, \"kendall\": %.6g, \"coverage\": %.6g, \"mape\": %.6g}",
                n, median_ape, within_5, within_10, spearman, kendall, coverage, mape);
  return buf;
}

}  // namespace paretonas::predictors
