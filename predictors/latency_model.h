// LatencyModel: predicts an architecture's batch-1 latency from its graph (no LibTorch).
//
// Features, all read off the space's NetworkPlan:
//  * additive part (a lookup table the model learns): per operation configuration (op, input and
//    output shape) how many run, counted over the executed (pruned) graph and over the graph as
//    written (raw: runtimes differ in whether they run dead branches); per tensor, how many live
//    inputs are summed into it; and, when a measured per-op table is given (`calibrate`), the
//    table's sums over the pruned and the raw graph;
//  * correction part: the graph encodings (adjacency + ops, pruned and raw), connectivity, MACs
//    (pruned and raw) and parameters.
// Learner: generalised ridge on standardised columns (the additive part is penalised 10-1000x
// less: latency is mostly a sum over operations), with a Huber loss (iteratively reweighted,
// robust to measurement outliers); the penalty and that ratio are chosen by 5-fold
// cross-validation of the relative error.
// Uncertainty: the spread of bootstrap refits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "space/search_space.h"

namespace paretonas::predictors {

/// Identifies an operation configuration, e.g. "nor_conv_3x3 16x32x32>16x32x32".
std::string OpConfigKey(const space::PlanEdge& edge);

/// Measured milliseconds per operation configuration (OpConfigKey), batch 1.
using OpTable = std::map<std::string, double>;

/// Which space (and shapes) a model was fit for, so `predict` can rebuild it.
struct SpaceRef {
  std::string name_or_path;                   ///< preset name or space file
  std::map<std::string, std::string> overrides;
  int c = 3, h = 32, w = 32, classes = 10;    ///< input the space was sized for

  space::SearchSpace Load() const;
};

struct LatencyFitOptions {
  double lambda = 0;      ///< > 0: this penalty; 0: chosen by 5-fold cross-validation
  double additive_ratio = 0.01;  ///< the additive part's penalty / the correction's (with lambda > 0)
  int members = 8;        ///< bootstrap refits for the uncertainty (0: none)
  bool robust = true;     ///< Huber loss instead of squared error
  std::uint64_t seed = 0;
  /// Few-shot fits in cell spaces: also each prior's prediction on the cell with its dead ends
  /// removed (for runtimes that skip them). -1: kept or left out by cross-validation (with
  /// lambda > 0: kept); 0: left out; 1: kept.
  int restricted_priors = -1;
};

struct LatencyPrediction {
  double ms = 0;
  /// One standard deviation of the prediction's error, calibrated on cross-validated residuals
  /// at fit time (about 68% of held-out measurements lie within ±std_ms); for models written
  /// before that calibration, the spread of the bootstrap refits.
  double std_ms = 0;
  double bootstrap_std_ms = 0;  ///< spread of the bootstrap refits (the model's own uncertainty)
};

class LatencyModel {
 public:
  /// 2: adds the cross-validated relative error scale of std_ms; 3: the prior models of a
  /// few-shot fit; 4: the precision of the networks it predicts (older files still load, as fp32).
  static constexpr std::uint32_t kFormatVersion = 4;

  /// Fits on measured latencies (ms > 0). `table` may be empty (a model fit from measurements
  /// taken elsewhere). Throws std::invalid_argument for fewer than 5 rows or bad values.
  /// `priors`: models of other devices for the same space (few-shot fit). Their predictions
  /// join the features, nearly unpenalised, so that a handful of measurements only has to learn
  /// how this device relates to them (feature transfer); the usual features correct the rest as
  /// measurements accumulate. The model keeps the priors (they compute its features).
  static LatencyModel Fit(const space::SearchSpace& space, const SpaceRef& ref,
                          const std::vector<space::Genotype>& archs, const std::vector<double>& ms,
                          const OpTable& table, const LatencyFitOptions& options,
                          const std::vector<LatencyModel>& priors = {});
  /// The models of other devices this one was fit with (empty: none).
  const std::vector<LatencyModel>& priors() const { return priors_; }

  LatencyPrediction Predict(const space::SearchSpace& space, const space::Genotype& g) const;

  /// The same model refit on its own measurements plus `archs`/`ms` (the penalty kept, no
  /// cross-validation: cheap enough to run between generations; `--online`).
  LatencyModel Refit(const space::SearchSpace& space, const std::vector<space::Genotype>& archs,
                     const std::vector<double>& ms) const;

  /// Writes the model (cereal portable binary, magic + format version) atomically.
  void Save(const std::string& path) const;
  /// Throws std::runtime_error naming the file for a missing, damaged or newer-format file.
  static LatencyModel Load(const std::string& path);

  const SpaceRef& space() const { return space_; }
  const OpTable& table() const { return table_; }
  double lambda() const { return lambda_; }
  /// The relative error one std_ms stands for (0: not calibrated, a version 1 file).
  double relative_sigma() const { return rel_sigma_; }
  std::size_t num_features() const { return columns_.size(); }
  std::size_t num_samples() const { return samples_; }
  std::string description;  ///< free text: where the measurements come from
  /// Which networks' latency it predicts: "fp32", or "int8" (the deploy stage's int8 models,
  /// `latency calibrate|kit|fit --precision int8`).
  std::string precision = "fp32";

  template <class Archive>
  void serialize(Archive& ar) {
    ar(space_.name_or_path, space_.overrides, space_.c, space_.h, space_.w, space_.classes,
       description, table_, columns_, mean_, scale_, weights_, members_, lambda_, samples_,
       train_keys_, train_ms_, options_.robust, options_.members, options_.seed, ratio_);
  }

 private:
  std::vector<double> Row(const space::SearchSpace& space, const space::Genotype& g) const;
  void BuildIndex();

  SpaceRef space_;
  OpTable table_;
  std::vector<std::string> columns_;  // named features (after standardisation)
  std::vector<double> mean_, scale_;  // per column
  std::vector<double> weights_;       // columns then intercept
  std::vector<std::vector<double>> members_;
  double lambda_ = 0;
  double ratio_ = 0.01;
  double rel_sigma_ = 0;  // 68th percentile of |cross-validated prediction / measurement - 1|
  std::uint64_t samples_ = 0;
  std::vector<std::string> train_keys_;  // the measurements it was fit on (for Refit)
  std::vector<double> train_ms_;
  LatencyFitOptions options_;
  std::vector<LatencyModel> priors_;  // other devices' models (few-shot), format 3
  bool restricted_priors_ = false;     // their restricted-cell predictions are columns (derived)
  std::unordered_map<std::string, std::size_t> index_;  // column by name (not saved)
};

/// Which `n` of `pool` to measure so that a latency model learns the most from few: greedy
/// k-centre (farthest-point) selection on the standardised latency features, starting from the
/// architecture nearest the pool's mean: each next pick is the one farthest from those already
/// chosen, so the N cover the space's feature range (extremes and middle) instead of crowding
/// where random samples fall. Deterministic; other pools give other draws. Returns indices into
/// `pool`, in the order picked.
std::vector<std::size_t> SpreadSelection(const space::SearchSpace& space,
                                         const std::vector<space::Genotype>& pool, std::size_t n);

/// Named features of one architecture (sparse: absent names are 0). Exposed for tests.
std::map<std::string, double> LatencyFeatures(const space::SearchSpace& space,
                                              const space::Genotype& g, const OpTable& table);

}  // namespace paretonas::predictors
