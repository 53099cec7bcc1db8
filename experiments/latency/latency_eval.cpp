// `paretonas latency eval` and `predict`: a model against measurements; its predictions.
#include "experiments/latency/latency_cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli_common.h"
#include "predictors/prediction_metrics.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace latency_cli {
namespace {

/// Predicted vs measured, log-log, with the y = x line and the +-10% band.
std::string PlotSvg(const std::vector<double>& pred, const std::vector<double>& meas,
                    const std::string& title, const predictors::PredictionMetrics& m) {
  double lo = 1e300, hi = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    lo = std::min({lo, meas[i], std::max(pred[i], 1e-6)});
    hi = std::max({hi, meas[i], pred[i]});
  }
  lo = std::log10(lo) - 0.05, hi = std::log10(hi) + 0.05;
  const double W = 520, H = 520, L = 70, B = 60, T = 40, R = 20;
  auto sx = [&](double v) { return L + (std::log10(std::max(v, 1e-6)) - lo) / (hi - lo) * (W - L - R); };
  auto sy = [&](double v) { return H - B - (std::log10(std::max(v, 1e-6)) - lo) / (hi - lo) * (H - B - T); };
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
  s << "<text x='" << L << "' y='20' font-size='14'>" << title << "</text>\n";
  const double a = std::pow(10, lo), b = std::pow(10, hi);
  s << "<polygon fill='#e8f0fe' points='" << sx(a) << "," << sy(a * 1.1) << " " << sx(b) << ","
    << sy(b * 1.1) << " " << sx(b) << "," << sy(b * 0.9) << " " << sx(a) << "," << sy(a * 0.9) << "'/>\n";
  s << "<line x1='" << sx(a) << "' y1='" << sy(a) << "' x2='" << sx(b) << "' y2='" << sy(b)
    << "' stroke='#888' stroke-dasharray='4 3'/>\n";
  const std::size_t stride = pred.size() / 4000 + 1;  // at most ~4,000 points keep the file small
  for (std::size_t i = 0; i < pred.size(); i += stride)
    s << "<circle cx='" << Fmt(sx(meas[i]), 5) << "' cy='" << Fmt(sy(pred[i]), 5)
      << "' r='2' fill='#1a73e8' fill-opacity='0.5'/>\n";
  s << "<rect x='" << L << "' y='" << T << "' width='" << W - L - R << "' height='" << H - B - T
    << "' fill='none' stroke='black'/>\n";
  // Labelled ticks: decades, then 1-2-5, then every digit, until at least three fall in range.
  std::vector<double> ticks;
  for (const std::vector<int>& mantissas : {std::vector<int>{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    ticks.clear();
    for (int e = static_cast<int>(std::floor(lo)); e <= static_cast<int>(std::ceil(hi)); ++e)
      for (int m : mantissas) {
        const double v = m * std::pow(10, e);
        if (std::log10(v) >= lo && std::log10(v) <= hi) ticks.push_back(v);
      }
    if (ticks.size() >= 3) break;
  }
  for (const double v : ticks) {
    s << "<line x1='" << sx(v) << "' y1='" << H - B << "' x2='" << sx(v) << "' y2='" << H - B + 5 << "' stroke='black'/>";
    s << "<line x1='" << L - 5 << "' y1='" << sy(v) << "' x2='" << L << "' y2='" << sy(v) << "' stroke='black'/>";
    s << "<text x='" << sx(v) << "' y='" << H - B + 16 << "' text-anchor='middle'>" << Fmt(v) << "</text>\n";
    s << "<text x='" << L - 6 << "' y='" << sy(v) + 4 << "' text-anchor='end'>" << Fmt(v) << "</text>\n";
  }
  s << "<text x='" << (W + L - R) / 2 << "' y='" << H - 20 << "' text-anchor='middle'>measured latency (ms)</text>\n";
  s << "<text x='16' y='" << (H - B + T) / 2 << "' transform='rotate(-90 16 " << (H - B + T) / 2
    << ")' text-anchor='middle'>predicted latency (ms)</text>\n";
  s << "<text x='" << L + 8 << "' y='" << T + 18 << "'>n " << m.n << ", Spearman " << Fmt(m.spearman)
    << ", within ±10% " << Fmt(100 * m.within_10, 3) << "% (band)</text>\n</svg>\n";
  return s.str();
}

}  // namespace

int Eval(const LatencyOptions& o) {
  if (o.model.empty() || o.data.empty()) throw InputError("latency eval: --model and --data are required");
  const auto model = LoadModel(o.model);
  const space::SearchSpace sp = model.space().Load();
  const predictors::MeasuredRows rows = predictors::ReadMeasurements(o.data, sp, o.key_column, o.latency_column);
  if (rows.archs.size() < 2) throw InputError(o.data + ": eval needs at least 2 rows");
  std::vector<double> pred, spread, boot;
  for (const auto& g : rows.archs) {
    const auto p = model.Predict(sp, g);
    pred.push_back(p.ms);
    spread.push_back(p.std_ms);
    boot.push_back(p.bootstrap_std_ms);
  }
  const double boot_coverage = predictors::ComparePredictions(pred, rows.ms, boot).coverage;
  const auto m = predictors::ComparePredictions(pred, rows.ms, spread);
  const std::string plot = o.plot.empty() ? o.model + ".eval.svg" : o.plot;
  search::WriteFileAtomic(plot, PlotSvg(pred, rows.ms, o.model + " on " + o.data, m));
  if (o.json) {
    std::cout << m.ToJson() << "\n";
    return kExitOk;
  }
  std::sort(spread.begin(), spread.end());
  std::cout << "precision              " << model.precision << "\n"
            << "n                      " << m.n << "\n"
            << "median relative error  " << Fmt(m.median_ape, 4) << "%\n"
            << "within ±5%             " << Fmt(100 * m.within_5, 4) << "%\n"
            << "within ±10%            " << Fmt(100 * m.within_10, 4) << "%\n"
            << "spearman               " << Fmt(m.spearman, 5) << "\n"
            << "kendall                " << Fmt(m.kendall, 5) << "\n"
            << "inside ±1 spread       " << Fmt(100 * m.coverage, 4) << "% (nominal 68%"
            << (model.relative_sigma() > 0 ? "; the spread is calibrated at fit time"
                                           : "; an old model: bootstrap spread, not calibrated")
            << ")\n"
            << "inside ±1 bootstrap    " << Fmt(100 * boot_coverage, 4)
            << "% (the spread of the refits alone: the model's own uncertainty, not the error)\n"
            << "mape                   " << Fmt(m.mape, 4) << "% (the mean: a few measurements near "
            << "zero can make it large while the figures above are good)\n"
            << "median spread          " << Fmt(spread[spread.size() / 2], 3) << " ms\nplot: " << plot
            << "\n";
  return kExitOk;
}

int Predict(const LatencyOptions& o) {
  if (o.model.empty() || o.archs.empty()) throw InputError("latency predict: --model and --arch are required");
  const auto model = LoadModel(o.model);
  const space::SearchSpace sp = model.space().Load();
  for (const auto& a : o.archs) {
    const auto p = model.Predict(sp, sp.ParseKey(a));
    if (o.json)
      std::cout << "{\"arch\":\"" << a << "\",\"latency_ms\":" << Fmt(p.ms, 6) << ",\"std_ms\":" << Fmt(p.std_ms, 4)
                << ",\"precision\":\"" << model.precision << "\"}\n";
    else
      std::cout << a << "  " << Fmt(p.ms) << " ms ± " << Fmt(p.std_ms, 2)
                << (model.precision == "fp32" ? "" : " (" + model.precision + ")")
                << (model.relative_sigma() > 0 ? " (one standard deviation, calibrated: ±" +
                                                     Fmt(100 * model.relative_sigma(), 3) + "%)"
                                               : " (bootstrap spread: an old model, not calibrated)")
                << "\n";
  }
  return kExitOk;
}

}  // namespace latency_cli
}  // namespace paretonas::experiments
