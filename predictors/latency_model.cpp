#include "predictors/latency_model.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "predictors/ridge_ensemble.h"
#include "space/bounded_binary_archive.h"

namespace paretonas::predictors {
namespace {

constexpr char kMagic[4] = {'P', 'N', 'L', 'M'};
// The additive part's penalty relative to the correction's; cross-validation picks one.
constexpr double kAdditiveRatios[] = {0.001, 0.01, 0.1};
constexpr std::size_t kMaxCvRows = 1000;

std::string Shape(const space::TensorShape& s) {
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

bool Additive(const std::string& column) { return column.rfind("a:", 0) == 0; }

/// Weighted generalised ridge: minimises sum w_i (y_i - x_i.b - b0)^2 + sum pen_j b_j^2.
std::vector<double> SolveWeighted(const std::vector<std::vector<double>>& x,
                                  const std::vector<double>& y, const std::vector<double>& w,
                                  const std::vector<std::size_t>& rows,
                                  const std::vector<double>& penalty) {
  const std::size_t d = penalty.size(), n = d + 1;
  std::vector<double> a(n * n, 0.0), b(n, 0.0);
  std::vector<double> xr(n);
  for (std::size_t r : rows) {
    for (std::size_t p = 0; p < d; ++p) xr[p] = x[r][p];
    xr[d] = 1.0;
    const double wr = w[r];
    for (std::size_t p = 0; p < n; ++p) {
      const double v = wr * xr[p];
      if (v == 0) continue;
      b[p] += v * y[r];
      double* row = &a[p * n];
      for (std::size_t q = 0; q <= p; ++q) row[q] += v * xr[q];
    }
  }
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t q = p + 1; q < n; ++q) a[p * n + q] = a[q * n + p];
  std::vector<double> pen(penalty);
  pen.push_back(1e-9);  // the intercept is (almost) free
  std::vector<double> out;
  if (!SolveRidge(a, pen, b, &out)) {
    out.assign(n, 0.0);
    double sw = 0, sy = 0;
    for (std::size_t r : rows) sw += w[r], sy += w[r] * y[r];
    out[d] = sw > 0 ? sy / sw : 0;
  }
  return out;
}

double Dot(const std::vector<double>& weights, const std::vector<double>& x) {
  double v = weights.back();
  for (std::size_t p = 0; p + 1 < weights.size(); ++p) v += weights[p] * x[p];
  return v;
}

/// Ridge (robust: Huber, k = 1.345 robust sigmas, by iterative reweighting) on `rows`.
std::vector<double> FitRows(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                            const std::vector<std::size_t>& rows, const std::vector<double>& penalty,
                            bool robust) {
  std::vector<double> w(y.size(), 1.0);
  std::vector<double> beta = SolveWeighted(x, y, w, rows, penalty);
  if (!robust) return beta;
  std::vector<double> resid(rows.size());
  for (int it = 0; it < 6; ++it) {
    for (std::size_t i = 0; i < rows.size(); ++i) resid[i] = std::abs(y[rows[i]] - Dot(beta, x[rows[i]]));
    std::vector<double> sorted(resid);
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double k = 1.345 * 1.4826 * sorted[sorted.size() / 2] + 1e-12;
    for (std::size_t i = 0; i < rows.size(); ++i) w[rows[i]] = resid[i] <= k ? 1.0 : k / resid[i];
    beta = SolveWeighted(x, y, w, rows, penalty);
  }
  return beta;
}

/// A prior's prediction on the restricted cell ("p:prior<i> used"; see ForEachPriorFeature).
bool RestrictedPrior(const std::string& column) {
  return column.rfind("p:prior", 0) == 0 && column.find(' ') != std::string::npos;
}

constexpr double kExcluded = 1e9;  // a penalty that leaves a column's weight at zero

/// `restricted`: the priors' predictions on the restricted cells are nearly unpenalised like
/// the priors themselves; otherwise they are left out (cross-validation chooses).
std::vector<double> Penalty(const std::vector<std::string>& columns, double lambda, double ratio,
                            bool restricted) {
  std::vector<double> p(columns.size());
  for (std::size_t j = 0; j < columns.size(); ++j)
    p[j] = lambda * (columns[j].rfind("a:table", 0) == 0 ? 1e-4   // the measured table: a prior
                     : RestrictedPrior(columns[j])      ? (restricted ? 1e-4 : kExcluded)
                     : columns[j].rfind("p:prior", 0) == 0 ? 1e-4  // other devices' models
                     : Additive(columns[j])             ? ratio
                                                        : 1.0);
  return p;
}

}  // namespace

std::string OpConfigKey(const space::PlanEdge& e) {
  return e.op.Label() + " " + Shape(e.in) + ">" + Shape(e.out);
}

space::SearchSpace SpaceRef::Load() const {
  return space::SearchSpace::Load(name_or_path, overrides,
                                  space::InputSpec{space::TensorShape{c, h, w}, classes});
}

namespace {

/// Calls emit(name, value) for every non-zero feature; one NetworkPlan, no other graph work
/// (prediction must stay cheap: see bench/RESULTS.md).
template <class Emit>
void ForEachFeature(const space::SearchSpace& space, const space::Genotype& g, const OpTable& table,
                    Emit&& emit) {
  const space::NetworkPlan plan = space.Plan(g);
  // Only cell spaces have `none` ops, hence edges that are used but not live; elsewhere the used
  // features would copy the live ones (and make the fit slower: its cost is cubic in the
  // columns). Pruned and raw stay in every space: saved models have both.
  const bool has_used = space.HasCells();
  std::vector<int> live_inputs(plan.vertices.size(), 0);
  double lut_raw = 0, lut_used = 0, lut_pruned = 0, macs = 0, macs_used = 0, macs_raw = 0,
         params = 0;
  bool any_live = false;
  int weighted[3] = {0, 0, 0};  // ops with parameters (convolutions, linear): live, used, all
  std::string key;
  for (const space::PlanEdge& e : plan.edges) {
    if (e.op.kind == space::OpKind::kNone) continue;
    const std::string config = OpConfigKey(e);
    const auto it = table.find(config);
    const double ms = it == table.end() ? 0.0 : it->second;
    const double op_macs = static_cast<double>(space::OpMacs(e.op, e.in, e.out));
    lut_raw += ms;
    macs_raw += op_macs;
    if (space::OpParams(e.op, e.in, e.out) > 0) weighted[0] += e.live, weighted[1] += e.used, ++weighted[2];
    key.assign("a:raw ").append(config);
    emit(key, 1.0);
    if (has_used && e.used) {  // runtimes that drop unused results but compute on zero inputs
      lut_used += ms;
      macs_used += op_macs;
      key.assign("a:used ").append(config);
      emit(key, 1.0);
    }
    if (e.live) {
      any_live = true;
      lut_pruned += ms;
      macs += op_macs;
      params += static_cast<double>(space::OpParams(e.op, e.in, e.out));
      ++live_inputs[static_cast<std::size_t>(e.dst)];
      key.assign("a:pruned ").append(config);
      emit(key, 1.0);
    }
  }
  for (std::size_t v = 0; v < plan.vertices.size(); ++v) {
    if (static_cast<int>(v) == plan.input) continue;
    key.assign("a:sum v").append(std::to_string(v)).append(" of ").append(
        std::to_string(std::min(live_inputs[v], 4)));
    emit(key, 1.0);
  }
  if (!table.empty()) {
    emit("a:table pruned", lut_pruned);
    if (has_used) emit("a:table used", lut_used);
    emit("a:table raw", lut_raw);
  }
  emit("c:macs", macs);
  if (has_used) emit("c:macs used", macs_used);
  emit("c:macs raw", macs_raw);
  emit("c:params", params);
  // How many weighted ops run, one-hot: a sum over ops misses what is shared between them
  // (NB201 on gold_6226: cells without a convolution run 8% under the best additive fit).
  static const char* const kWeighted[] = {"c:weighted ops pruned ", "c:weighted ops used ",
                                          "c:weighted ops raw "};
  for (int s = 0; s < 3; ++s) {
    if (s == 1 && !has_used) continue;
    key.assign(kWeighted[s]).append(std::to_string(weighted[s]));
    emit(key, 1.0);
  }
  emit("c:connected", any_live ? 1.0 : 0.0);  // a cut cell leaves no edge on an input->output path
  // The graph encoding three ways: pruned, used, raw (space::EdgeSet).
  constexpr space::EdgeSet kSets[] = {space::EdgeSet::kLive, space::EdgeSet::kUsed,
                                      space::EdgeSet::kAll};
  static const char* const kPrefix[] = {"c:enc pruned ", "c:enc used ", "c:enc raw "};
  thread_local std::vector<std::string> names[3];  // built once per thread
  for (int s = 0; s < 3; ++s) {
    if (s == 1 && !has_used) continue;
    const std::vector<float> enc = space.GraphEncoding(g, kSets[s]);
    while (names[s].size() < enc.size())
      names[s].push_back(kPrefix[s] + std::to_string(names[s].size()));
    for (std::size_t i = 0; i < enc.size(); ++i)
      if (enc[i] != 0) emit(names[s][i], enc[i]);
  }
}

/// The prior models' predictions (few-shot fits): "p:prior<i>" for the architecture as written
/// and, in cell spaces with `restricted`, "p:prior<i> used" for the same cell with its dead ends
/// (edges that feed no output) set to `none`. Runtimes differ in whether they run dead branches
/// (NB201: pixel3 drops dead ends the three other devices run); a device's model evaluated on
/// the restricted cell then predicts what such a runtime executes (NB201, all cells: pixel3's
/// Spearman with titan_rtx_256 is 0.878 as written and 0.942 on the used edges; the pruned
/// cell, 0.892, adds little).
template <class Emit>
void ForEachPriorFeature(const space::SearchSpace& space, const space::Genotype& g,
                         const std::vector<LatencyModel>& priors, bool restricted, Emit&& emit) {
  if (priors.empty()) return;
  const bool cells = space.HasCells() && restricted;
  const space::Genotype used = cells ? space.Restricted(g, space::EdgeSet::kUsed) : g;
  for (std::size_t i = 0; i < priors.size(); ++i) {
    const std::string name = "p:prior" + std::to_string(i);
    emit(name, priors[i].Predict(space, g).ms);
    if (!cells) continue;
    emit(name + " used", priors[i].Predict(space, used).ms);
  }
}

}  // namespace

std::map<std::string, double> LatencyFeatures(const space::SearchSpace& space,
                                              const space::Genotype& g, const OpTable& table) {
  std::map<std::string, double> f;
  ForEachFeature(space, g, table, [&](const std::string& name, double v) { f[name] += v; });
  return f;
}

std::vector<double> LatencyModel::Row(const space::SearchSpace& space, const space::Genotype& g) const {
  std::vector<double> raw(columns_.size(), 0.0);
  ForEachFeature(space, g, table_, [&](const std::string& name, double v) {
    const auto it = index_.find(name);
    if (it != index_.end()) raw[it->second] += v;
  });
  ForEachPriorFeature(space, g, priors_, restricted_priors_, [&](const std::string& name, double v) {
    const auto it = index_.find(name);
    if (it != index_.end()) raw[it->second] += v;
  });
  for (std::size_t j = 0; j < columns_.size(); ++j) raw[j] = (raw[j] - mean_[j]) / scale_[j];
  return raw;
}

void LatencyModel::BuildIndex() {
  index_.clear();
  restricted_priors_ = false;
  for (std::size_t j = 0; j < columns_.size(); ++j) {
    index_[columns_[j]] = j;
    restricted_priors_ = restricted_priors_ || RestrictedPrior(columns_[j]);
  }
}

LatencyModel LatencyModel::Fit(const space::SearchSpace& space, const SpaceRef& ref,
                               const std::vector<space::Genotype>& archs,
                               const std::vector<double>& ms, const OpTable& table,
                               const LatencyFitOptions& options,
                               const std::vector<LatencyModel>& priors) {
  if (archs.size() != ms.size()) throw std::invalid_argument("one latency per architecture");
  if (archs.size() < 5)
    throw std::invalid_argument("a latency model needs at least 5 measured architectures, got " +
                                std::to_string(archs.size()));
  for (double v : ms)
    if (!(v > 0) || !std::isfinite(v)) throw std::invalid_argument("latencies must be finite and > 0");
  LatencyModel m;
  m.space_ = ref;
  m.table_ = table;
  m.samples_ = archs.size();
  m.options_ = options;
  m.priors_ = priors;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    m.train_keys_.push_back(space.Key(archs[i]));
    m.train_ms_.push_back(ms[i]);
  }
  std::vector<std::map<std::string, double>> feats;
  feats.reserve(archs.size());
  std::map<std::string, bool> names;
  for (const auto& g : archs) {
    feats.push_back(LatencyFeatures(space, g, table));
    ForEachPriorFeature(space, g, priors, options.restricted_priors != 0,
                        [&](const std::string& name, double v) { feats.back()[name] = v; });
    for (const auto& kv : feats.back()) names[kv.first] = true;
  }
  // Standardise; drop columns that never vary here (the intercept carries them).
  const double n = static_cast<double>(archs.size());
  for (const auto& kv : names) {
    double s = 0, s2 = 0;
    for (const auto& f : feats) {
      const auto it = f.find(kv.first);
      const double v = it == f.end() ? 0.0 : it->second;
      s += v, s2 += v * v;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    if (var <= 1e-12 * std::max(1.0, mean * mean)) continue;
    m.columns_.push_back(kv.first);
    m.mean_.push_back(mean);
    m.scale_.push_back(std::sqrt(var));
  }
  std::vector<std::vector<double>> x(archs.size(), std::vector<double>(m.columns_.size()));
  for (std::size_t r = 0; r < archs.size(); ++r)
    for (std::size_t j = 0; j < m.columns_.size(); ++j) {
      const auto it = feats[r].find(m.columns_[j]);
      x[r][j] = ((it == feats[r].end() ? 0.0 : it->second) - m.mean_[j]) / m.scale_[j];
    }
  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> all(archs.size());
  std::iota(all.begin(), all.end(), 0);
  double lambda = options.lambda, ratio = options.additive_ratio;
  bool has_restricted = false;
  for (const auto& c : m.columns_) has_restricted = has_restricted || RestrictedPrior(c);
  // With the priors' restricted-cell predictions: kept or left out, by cross-validation unless
  // the options say (they cost variance when a device runs cells as written: NB201, 10
  // measurements, bench/RESULTS.md).
  std::vector<bool> restricted_choices{options.restricted_priors != 0};
  if (has_restricted && options.restricted_priors < 0) restricted_choices = {true, false};
  bool restricted = restricted_choices.front();
  if (!(lambda > 0)) {
    // 5-fold cross-validation of the relative error, capped at 100% so that a few near-zero
    // measurements (e.g. cut cells a runtime skips) do not decide the penalty alone.
    std::vector<std::size_t> cv(all);
    std::shuffle(cv.begin(), cv.end(), rng);
    if (cv.size() > kMaxCvRows) cv.resize(kMaxCvRows);
    double best = std::numeric_limits<double>::infinity();
    for (bool use : restricted_choices) {
      for (double q : kAdditiveRatios) {
        for (double l : {0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0}) {
          double err = 0;
          for (std::size_t k = 0; k < 5; ++k) {
            std::vector<std::size_t> train, test;
            for (std::size_t i = 0; i < cv.size(); ++i) (i % 5 == k ? test : train).push_back(cv[i]);
            const auto beta = FitRows(x, ms, train, Penalty(m.columns_, l, q, use), options.robust);
            for (std::size_t r : test) err += std::min(1.0, std::abs(Dot(beta, x[r]) / ms[r] - 1.0));
          }
          if (err < best) best = err, lambda = l, ratio = q, restricted = use;
        }
      }
    }
  }
  if (has_restricted && !restricted) {  // left out: drop the columns (and their cost in Predict)
    std::vector<std::size_t> keep;
    for (std::size_t j = 0; j < m.columns_.size(); ++j)
      if (!RestrictedPrior(m.columns_[j])) keep.push_back(j);
    auto select = [&](auto& v) {
      std::remove_reference_t<decltype(v)> out;
      for (std::size_t j : keep) out.push_back(v[j]);
      v = std::move(out);
    };
    select(m.columns_), select(m.mean_), select(m.scale_);
    for (auto& row : x) select(row);
  }
  m.lambda_ = lambda;
  m.ratio_ = ratio;
  const auto penalty = Penalty(m.columns_, lambda, ratio, restricted);
  {
    // The spread users see is calibrated on held-out rows: 5-fold predictions with the chosen
    // penalty, and the 68th percentile of their relative errors (one standard deviation's
    // share of a normal error). The bootstrap spread alone understated the error several times.
    std::vector<std::size_t> cv(all);
    std::mt19937_64 cv_rng(options.seed ^ 0xCA11B8A7EULL);
    std::shuffle(cv.begin(), cv.end(), cv_rng);
    if (cv.size() > kMaxCvRows) cv.resize(kMaxCvRows);
    std::vector<double> rel;
    for (std::size_t k = 0; k < 5; ++k) {
      std::vector<std::size_t> train, test;
      for (std::size_t i = 0; i < cv.size(); ++i) (i % 5 == k ? test : train).push_back(cv[i]);
      if (test.empty() || train.size() < 2) continue;
      const auto beta = FitRows(x, ms, train, penalty, options.robust);
      for (std::size_t r : test) rel.push_back(std::abs(Dot(beta, x[r]) / ms[r] - 1.0));
    }
    if (!rel.empty()) {
      std::sort(rel.begin(), rel.end());
      m.rel_sigma_ = rel[std::min(rel.size() - 1, static_cast<std::size_t>(0.6827 * static_cast<double>(rel.size())))];
    }
  }
  m.weights_ = FitRows(x, ms, all, penalty, options.robust);
  m.BuildIndex();
  std::uniform_int_distribution<std::size_t> pick(0, archs.size() - 1);
  for (int b = 0; b < options.members; ++b) {
    std::vector<std::size_t> rows(archs.size());
    for (auto& r : rows) r = pick(rng);
    m.members_.push_back(FitRows(x, ms, rows, penalty, options.robust));
  }
  return m;
}

LatencyModel LatencyModel::Refit(const space::SearchSpace& space,
                                 const std::vector<space::Genotype>& archs,
                                 const std::vector<double>& ms) const {
  std::vector<space::Genotype> all;
  for (const auto& k : train_keys_) all.push_back(space.ParseKey(k));
  all.insert(all.end(), archs.begin(), archs.end());
  std::vector<double> y(train_ms_);
  y.insert(y.end(), ms.begin(), ms.end());
  LatencyFitOptions o = options_;
  o.lambda = lambda_;
  o.additive_ratio = ratio_;
  o.restricted_priors = restricted_priors_ ? 1 : 0;
  LatencyModel m = Fit(space, space_, all, y, table_, o, priors_);
  m.description = description;
  m.precision = precision;
  // Refits chain from the original measurements, so remember only those.
  m.train_keys_ = train_keys_;
  m.train_ms_ = train_ms_;
  m.samples_ = all.size();
  return m;
}

LatencyPrediction LatencyModel::Predict(const space::SearchSpace& space, const space::Genotype& g) const {
  const std::vector<double> row = Row(space, g);
  LatencyPrediction p;
  p.ms = Dot(weights_, row);
  if (!members_.empty()) {
    double s = 0, s2 = 0;
    for (const auto& w : members_) {
      const double v = Dot(w, row);
      s += v, s2 += v * v;
    }
    const double k = static_cast<double>(members_.size());
    p.bootstrap_std_ms = std::sqrt(std::max(0.0, s2 / k - (s / k) * (s / k)));
  }
  p.std_ms = rel_sigma_ > 0 ? rel_sigma_ * std::abs(p.ms) : p.bootstrap_std_ms;
  return p;
}

// File layout: "PNLM", format version (u32), payload size (u64), CRC-32 of the payload (u32),
// payload (cereal portable binary). The checksum is verified before deserialising, so a damaged
// file never reaches cereal with a corrupted length.
void LatencyModel::Save(const std::string& path) const {
  std::ostringstream body;
  {
    cereal::PortableBinaryOutputArchive ar(body);
    ar(*this);
    ar(rel_sigma_);  // format 2
    ar(priors_);     // format 3
    ar(precision);   // format 4
  }
  const std::string bytes = body.str();
  std::ostringstream file;
  {
    cereal::PortableBinaryOutputArchive ar(file);
    const std::uint32_t version = kFormatVersion;
    const std::uint64_t size = bytes.size();
    const std::uint32_t crc = static_cast<std::uint32_t>(
        ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    ar(version, size, crc);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, 4);
    const std::string header = file.str();
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": cannot rename " + tmp);
}

LatencyModel LatencyModel::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open latency model");
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  if (all.size() < 4 || !std::equal(all.begin(), all.begin() + 4, kMagic))
    throw std::runtime_error(path + ": not a paretonas latency model (bad magic)");
  LatencyModel m;
  try {
    const std::string header = all.substr(4, 17);  // endianness byte, u32, u64, u32
    BoundedBinaryInputArchive hr(header, 4);
    std::uint32_t version = 0, crc = 0;
    std::uint64_t size = 0;
    hr(version);
    if (version > kFormatVersion)
      throw std::runtime_error(path + ": latency model format " + std::to_string(version) +
                               " is newer than this paretonas reads (" +
                               std::to_string(kFormatVersion) + "); upgrade paretonas");
    hr(size, crc);
    const std::size_t header_end = 4 + 1 + 4 + 8 + 4;  // magic, endianness byte, u32, u64, u32
    if (all.size() < header_end || size != all.size() - header_end)
      throw std::runtime_error(path + ": damaged latency model (truncated or extended: payload of " +
                               std::to_string(all.size() < header_end ? 0 : all.size() - header_end) +
                               " bytes, header says " + std::to_string(size) + ")");
    const char* payload = all.data() + header_end;
    if (static_cast<std::uint32_t>(::crc32(0L, reinterpret_cast<const Bytef*>(payload),
                                           static_cast<uInt>(size))) != crc)
      throw std::runtime_error(path + ": damaged latency model (checksum mismatch)");
    BoundedBinaryInputArchive ar(all.data() + header_end, all.size() - header_end, header_end);
    ar(m);
    if (version >= 2) ar(m.rel_sigma_);
    if (version >= 3) ar(m.priors_);
    if (version >= 4) ar(m.precision);
    for (auto& p : m.priors_) p.BuildIndex();
  } catch (const cereal::Exception& e) {  // a std::runtime_error too: before the rethrow below
    throw std::runtime_error(path + ": damaged latency model (" + e.what() + ")");
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": damaged latency model (" + e.what() + ")");
  }
  if (m.weights_.size() != m.columns_.size() + 1 || m.mean_.size() != m.columns_.size() ||
      m.scale_.size() != m.columns_.size())
    throw std::runtime_error(path + ": damaged latency model (inconsistent sizes)");
  for (const auto& w : m.members_)
    if (w.size() != m.weights_.size())
      throw std::runtime_error(path + ": damaged latency model (inconsistent sizes)");
  m.BuildIndex();
  return m;
}

std::vector<std::size_t> SpreadSelection(const space::SearchSpace& space,
                                         const std::vector<space::Genotype>& pool, std::size_t n) {
  n = std::min(n, pool.size());
  if (n == 0) return {};
  // Dense standardised feature rows.
  std::vector<std::map<std::string, double>> feats;
  feats.reserve(pool.size());
  std::map<std::string, std::size_t> col;
  for (const auto& g : pool) {
    feats.push_back(LatencyFeatures(space, g, {}));
    for (const auto& kv : feats.back()) col.emplace(kv.first, 0);
  }
  std::size_t k = 0;
  for (auto& kv : col) kv.second = k++;
  std::vector<std::vector<float>> x(pool.size(), std::vector<float>(col.size(), 0.0f));
  for (std::size_t r = 0; r < pool.size(); ++r)
    for (const auto& kv : feats[r]) x[r][col[kv.first]] = static_cast<float>(kv.second);
  for (std::size_t j = 0; j < col.size(); ++j) {
    double s = 0, s2 = 0;
    for (const auto& row : x) s += row[j], s2 += static_cast<double>(row[j]) * row[j];
    const double mean = s / static_cast<double>(x.size());
    const double sd = std::sqrt(std::max(0.0, s2 / static_cast<double>(x.size()) - mean * mean));
    for (auto& row : x) row[j] = sd > 1e-12 ? static_cast<float>((row[j] - mean) / sd) : 0.0f;
  }
  auto dist = [&](std::size_t a, std::size_t b) {
    double d = 0;
    for (std::size_t j = 0; j < col.size(); ++j) {
      const double t = x[a][j] - x[b][j];
      d += t * t;
    }
    return d;
  };
  // Start: the row nearest the mean (all zeros after standardising), then farthest-first.
  std::size_t first = 0;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t r = 0; r < x.size(); ++r) {
    double d = 0;
    for (float v : x[r]) d += static_cast<double>(v) * v;
    if (d < best) best = d, first = r;
  }
  std::vector<std::size_t> chosen{first};
  std::vector<double> nearest(x.size());
  for (std::size_t r = 0; r < x.size(); ++r) nearest[r] = dist(r, first);
  while (chosen.size() < n) {
    std::size_t far = 0;
    for (std::size_t r = 1; r < x.size(); ++r)
      if (nearest[r] > nearest[far]) far = r;
    if (nearest[far] <= 0) break;  // every row is a duplicate of a chosen one
    chosen.push_back(far);
    for (std::size_t r = 0; r < x.size(); ++r) nearest[r] = std::min(nearest[r], dist(r, far));
  }
  return chosen;
}

}  // namespace paretonas::predictors
