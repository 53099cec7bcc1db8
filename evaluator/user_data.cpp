#include "evaluator/user_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "evaluator/user_data_readers.h"
#include "space/input_error.h"

namespace paretonas::evaluator {
namespace {

using userdata::MiB;

std::string Fmt12(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.12g", v);
  return buf;
}

}  // namespace

bool IsUserDataset(const std::string& name) {
  return name == "numpy" || name == "idx" || name == "image_folder";
}

std::int64_t TrainingBytes(const UserData& d) {
  std::int64_t e = 0;
  for (const ImageArray* a : {&d.train, &d.val, &d.test}) e += a->n * a->c * a->h * a->w;
  return 4 * e;
}

UserData LoadUserData(const DatasetOptions& o, bool with_test) {
  UserData d = o.name == "numpy" ? userdata::LoadNumpy(o, with_test)
               : o.name == "idx" ? userdata::LoadIdx(o, with_test)
                                 : userdata::LoadImageFolder(o, with_test);
  if (d.train.n < 2) throw InputError(d.train.source + ": fewer than 2 training images");
  // Classes: as given, else the largest label + 1; every label must be in range.
  std::int64_t max_label = -1;
  for (const ImageArray* a : {&d.train, &d.val, &d.test}) {
    if (!a->empty() && (a->c != d.train.c || a->h != d.train.h || a->w != d.train.w))
      throw InputError(a->source + ": images of " + std::to_string(a->c) + "x" +
                       std::to_string(a->h) + "x" + std::to_string(a->w) +
                       " (CxHxW), the training images are " + std::to_string(d.train.c) + "x" +
                       std::to_string(d.train.h) + "x" + std::to_string(d.train.w));
    const std::string& where = a->labels_source.empty() ? a->source : a->labels_source;
    const std::int64_t train_max = a == &d.train ? -1 : max_label;  // the training labels' range
    for (std::size_t i = 0; i < a->labels.size(); ++i) {
      const std::int64_t l = a->labels[i];
      if (o.classes <= 0 && train_max >= 0 && l > train_max)
        throw InputError(where + ": label " + std::to_string(l) + " at index " + std::to_string(i) +
                         " is not a class of the training labels (0 to " + std::to_string(train_max) +
                         "); set dataset.classes if the training split lacks some classes");
      if (l < 0)
        throw InputError(where + ": label " + std::to_string(l) + " at index " + std::to_string(i) +
                         " is negative; labels are class indices 0, 1, 2, ...");
      if (o.classes > 0 && l >= o.classes)
        throw InputError(where + ": label " + std::to_string(l) + " at index " + std::to_string(i) +
                         " is out of range [0, " + std::to_string(o.classes - 1) + "] (dataset.classes = " +
                         std::to_string(o.classes) + ")");
      max_label = std::max(max_label, l);
    }
  }
  if (d.class_names.empty()) d.class_names = o.class_names;
  d.classes = o.classes > 0 ? o.classes
              : !d.class_names.empty() ? static_cast<int>(d.class_names.size())
                                       : static_cast<int>(max_label + 1);
  if (max_label >= d.classes) {
    const ImageArray* at = &d.train;  // the split holding the label
    for (const ImageArray* a : {&d.train, &d.val, &d.test})
      if (std::find(a->labels.begin(), a->labels.end(), max_label) != a->labels.end()) {
        at = a;
        break;
      }
    throw InputError((at->labels_source.empty() ? at->source : at->labels_source) + ": label " +
                     std::to_string(max_label) + " is out of range for the " + std::to_string(d.classes) +
                     " classes of dataset.class_names (labels 0 to " + std::to_string(d.classes - 1) + ")");
  }
  if (d.classes < 2) throw InputError(d.train.source + ": all labels are 0; a classifier needs 2 classes");
  if (!d.class_names.empty() && static_cast<int>(d.class_names.size()) != d.classes)
    throw InputError("dataset.class_names: " + std::to_string(d.class_names.size()) +
                     " names for " + std::to_string(d.classes) + " classes");
  d.description += " (" + MiB(TrainingBytes(d)) + " as float32)";
  return d;
}

namespace {

/// Splits `total` over classes of `sizes` in proportion (largest remainders, ties to the smaller
/// class label), each at most its size: the counts sum to min(total, sum of sizes) exactly.
std::vector<std::size_t> Apportion(const std::vector<std::size_t>& sizes, std::int64_t total) {
  std::size_t all = 0;
  for (std::size_t v : sizes) all += v;
  std::vector<std::size_t> out(sizes.size(), 0);
  if (all == 0 || total <= 0) return out;
  const std::size_t want = std::min<std::size_t>(all, static_cast<std::size_t>(total));
  std::vector<std::pair<double, std::size_t>> rest;  // (fractional part, class)
  std::size_t given = 0;
  for (std::size_t c = 0; c < sizes.size(); ++c) {
    const double exact = static_cast<double>(want) * static_cast<double>(sizes[c]) / static_cast<double>(all);
    out[c] = std::min(sizes[c], static_cast<std::size_t>(std::floor(exact + 1e-9)));
    given += out[c];
    rest.push_back({exact - static_cast<double>(out[c]), c});
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < want && k < 2 * rest.size(); ++k) {
    const std::size_t c = rest[k % rest.size()].second;
    if (out[c] < sizes[c]) {
      ++out[c];
      ++given;
    }
  }
  return out;
}

}  // namespace

void StratifiedSplit(const std::vector<std::int64_t>& y, int validation, int subset,
                     std::uint64_t seed, std::vector<std::int64_t>* train,
                     std::vector<std::int64_t>* val) {
  std::map<std::int64_t, std::vector<std::int64_t>> by_class;
  for (std::size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(static_cast<std::int64_t>(i));
  std::mt19937_64 rng(seed ^ 0x5eed5011ULL);
  std::vector<std::size_t> sizes;
  for (auto& [cls, idx] : by_class) {
    std::shuffle(idx.begin(), idx.end(), rng);
    sizes.push_back(idx.size());
  }
  // Exactly `validation` held out and (at most) `subset` trained on, each class in proportion.
  const std::vector<std::size_t> nv = Apportion(sizes, validation);
  std::vector<std::size_t> left(sizes.size());
  for (std::size_t c = 0; c < sizes.size(); ++c) left[c] = sizes[c] - nv[c];
  std::size_t all_left = 0;
  for (std::size_t v : left) all_left += v;
  const std::vector<std::size_t> nt =
      subset > 0 ? Apportion(left, subset) : left;
  (void)all_left;
  std::size_t c = 0;
  for (auto& [cls, idx] : by_class) {
    val->insert(val->end(), idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(nv[c]));
    train->insert(train->end(), idx.begin() + static_cast<std::ptrdiff_t>(nv[c]),
                  idx.begin() + static_cast<std::ptrdiff_t>(nv[c] + nt[c]));
    ++c;
  }
  std::sort(train->begin(), train->end());
  std::sort(val->begin(), val->end());
}

void ResolveUserData(DatasetOptions* o) {
  if (!IsUserDataset(o->name)) return;
  // A resolved config (a run directory's) records everything: `status`, `report` and `export`
  // need not read the data, and still work when it has moved. Training reads it.
  if (o->input_c > 0 && o->classes > 0 && o->pixel_max > 0 && !o->mean.empty()) {
    if (static_cast<int>(o->mean.size()) != o->input_c)
      throw InputError("dataset.mean: " + std::to_string(o->mean.size()) + " values for " +
                       std::to_string(o->input_c) + "-channel images");
    return;
  }
  const UserData d = LoadUserData(*o, false);
  if (!o->class_names.empty() && !d.class_names.empty() && o->class_names != d.class_names)
    throw InputError("dataset.class_names: the config names " + std::to_string(o->class_names.size()) +
                     " classes, the data " + std::to_string(d.class_names.size()) +
                     " others (did the class folders change since the run started?)");
  o->classes = d.classes;
  o->class_names = d.class_names;
  o->input_c = static_cast<int>(d.train.c);
  o->input_h = static_cast<int>(d.train.h);
  o->input_w = static_cast<int>(d.train.w);
  if (o->pixel_max <= 0) o->pixel_max = d.train.is_uint8 ? 255.0 : 1.0;
  if (!o->mean.empty()) {
    if (static_cast<std::int64_t>(o->mean.size()) != d.train.c)
      throw InputError("dataset.mean: " + std::to_string(o->mean.size()) + " values for " +
                       std::to_string(d.train.c) + "-channel images");
    return;
  }
  // Per-channel mean and std of the images trained on (the split as LoadDataset makes it).
  std::vector<std::int64_t> train_idx, val_idx;
  if (d.val.empty()) {
    StratifiedSplit(d.train.labels, o->validation, o->train_subset, o->split_seed, &train_idx, &val_idx);
  } else {
    StratifiedSplit(d.train.labels, 0, o->train_subset, o->split_seed, &train_idx, &val_idx);
  }
  const std::size_t hw = static_cast<std::size_t>(d.train.h * d.train.w);
  o->mean.assign(d.train.c, 0.0);
  o->std.assign(d.train.c, 0.0);
  for (std::int64_t c = 0; c < d.train.c; ++c) {
    double sum = 0, sq = 0;
    for (std::int64_t i : train_idx) {
      const std::size_t base = (static_cast<std::size_t>(i) * d.train.c + c) * hw;
      for (std::size_t p = 0; p < hw; ++p) {
        const double v = d.train.Scaled(base + p, o->pixel_max);
        sum += v;
        sq += v * v;
      }
    }
    const double count = static_cast<double>(train_idx.size() * hw);
    const double mean = sum / count;
    const double sd = std::sqrt(std::max(0.0, sq / count - mean * mean));
    // Rounded to what the resolved config keeps, so a resumed run normalises identically.
    o->mean[c] = std::stod(Fmt12(mean));
    o->std[c] = std::stod(Fmt12(sd > 1e-12 ? sd : 1.0));
  }
}

}  // namespace paretonas::evaluator
