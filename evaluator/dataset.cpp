#include "evaluator/dataset.h"

#include <ATen/CPUGeneratorImpl.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "evaluator/user_data.h"
#include "space/input_error.h"

namespace paretonas::evaluator {

namespace {

std::string FindFile(const std::string& dir, const std::string& base) {
  for (const std::string& candidate : {dir + "/" + base + ".gz", dir + "/" + base}) {
    std::ifstream probe(candidate);
    if (probe) return candidate;
  }
  throw InputError(dir + "/" + base + "[.gz]: file not found (is the dataset installed? "
                   "Fashion-MNIST: apt-get install dataset-fashion-mnist)");
}

torch::Tensor Normalize(torch::Tensor x_uint8, const std::vector<double>& mean,
                        const std::vector<double>& std, double pixel_max = 255.0) {
  torch::Tensor x = x_uint8.to(torch::kFloat32).div_(pixel_max);
  const auto c = static_cast<int64_t>(mean.size());
  auto m = torch::tensor(mean, torch::kFloat32).view({1, c, 1, 1});
  auto s = torch::tensor(std, torch::kFloat32).view({1, c, 1, 1});
  return x.sub_(m).div_(s).contiguous();
}

// The split every dataset uses (user_data.cpp), on a label tensor.
void Split(const torch::Tensor& y, int validation, int subset, std::uint64_t seed,
           std::vector<int64_t>* train, std::vector<int64_t>* val) {
  const torch::Tensor c = y.contiguous();
  const std::vector<std::int64_t> labels(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  StratifiedSplit(labels, validation, subset, seed, train, val);
}

torch::Tensor Select(const torch::Tensor& t, const std::vector<int64_t>& idx) {
  return t.index_select(0, torch::tensor(idx, torch::kInt64)).contiguous();
}

void ReadCifar(const std::string& file, std::vector<torch::Tensor>* xs,
               std::vector<torch::Tensor>* ys) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file + ": file not found (CIFAR-10 binary version expected)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kRecord = 1 + 3 * 32 * 32;
  if (bytes.empty() || bytes.size() % kRecord != 0) {
    throw InputError(file + ": " + std::to_string(bytes.size()) +
                     " bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)");
  }
  const int64_t n = static_cast<int64_t>(bytes.size() / kRecord);
  auto raw = torch::from_blob(bytes.data(), {n, static_cast<int64_t>(kRecord)}, torch::kUInt8).clone();
  ys->push_back(raw.select(1, 0).to(torch::kInt64));
  xs->push_back(raw.narrow(1, 1, 3072).reshape({n, 3, 32, 32}));
  if ((ys->back() > 9).any().item<bool>()) throw InputError(file + ": a label is above 9");
}

torch::Tensor Synthetic(const DatasetOptions& o, int n, std::uint64_t seed, torch::Tensor* labels) {
  // Class templates are fixed by the dataset; samples add noise. Learnable, not trivial.
  auto tgen = at::make_generator<at::CPUGeneratorImpl>(0xC1A55ULL);
  const int64_t c = o.synthetic_channels, s = o.synthetic_size, k = o.synthetic_classes;
  auto templates = torch::randn({k, c, s, s}, tgen);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  *labels = torch::arange(n, torch::kInt64).remainder(k);
  auto x = templates.index_select(0, *labels) + 1.5 * torch::randn({n, c, s, s}, gen);
  return x.contiguous();
}

}  // namespace

torch::Tensor ReadIdx(const std::string& path, int expected_magic) {
  IdxFile f = ReadIdxFile(path, expected_magic);
  return torch::from_blob(f.bytes.data(), f.dims, torch::kUInt8).clone();
}

namespace {

torch::Tensor ImagesTensor(const ImageArray& a) {
  const std::vector<int64_t> shape{a.n, a.c, a.h, a.w};
  if (a.is_uint8)
    return torch::from_blob(const_cast<std::uint8_t*>(a.u8.data()), shape, torch::kUInt8).clone();
  return torch::from_blob(const_cast<float*>(a.f32.data()), shape, torch::kFloat32).clone();
}

torch::Tensor LabelsTensor(const ImageArray& a) {
  return torch::from_blob(const_cast<std::int64_t*>(a.labels.data()),
                          {static_cast<int64_t>(a.labels.size())}, torch::kInt64)
      .clone();
}

/// (x / pixel_max - mean) / std per channel, in float32, in the order an export documents.
torch::Tensor NormalizeAny(const torch::Tensor& x, double pixel_max, const std::vector<double>& mean,
                           const std::vector<double>& sd) {
  return Normalize(x, mean, sd, pixel_max);
}

}  // namespace

Dataset LoadDataset(const DatasetOptions& o, bool with_test, bool full_train) {
  const std::string problem = o.Validate();
  if (!problem.empty()) throw InputError(problem);
  Dataset d;
  if (!IsUserDataset(o.name)) d.input = DatasetInput(o);
  torch::Tensor x, y, tx, ty;
  torch::Tensor given_vx, given_vy;  // a validation split that comes with the data
  if (IsUserDataset(o.name)) {
    DatasetOptions r = o;
    if (r.mean.empty() || r.input_c == 0 || r.pixel_max <= 0) ResolveUserData(&r);
    const UserData u = LoadUserData(r, with_test);
    d.input = {{static_cast<int>(u.train.c), static_cast<int>(u.train.h), static_cast<int>(u.train.w)},
               u.classes};
    x = NormalizeAny(ImagesTensor(u.train), r.pixel_max, r.mean, r.std);
    y = LabelsTensor(u.train);
    if (!u.val.empty()) {
      given_vx = NormalizeAny(ImagesTensor(u.val), r.pixel_max, r.mean, r.std);
      given_vy = LabelsTensor(u.val);
    }
    if (with_test && !u.test.empty()) {
      tx = NormalizeAny(ImagesTensor(u.test), r.pixel_max, r.mean, r.std);
      ty = LabelsTensor(u.test);
    }
    d.description = u.description;
  } else if (o.name == "synthetic") {
    x = Synthetic(o, o.synthetic_train, 1, &y);
    if (with_test) tx = Synthetic(o, o.synthetic_test, 2, &ty);
    d.description = "synthetic " + std::to_string(o.synthetic_classes) + " classes";
  } else if (o.name == "cifar10") {
    if (o.path.empty()) throw InputError("dataset.path: CIFAR-10 needs the folder of data_batch_*.bin");
    std::vector<torch::Tensor> xs, ys;
    for (int i = 1; i <= 5; ++i) ReadCifar(o.path + "/data_batch_" + std::to_string(i) + ".bin", &xs, &ys);
    std::vector<double> mean, sd;
    DatasetNormalization(o, &mean, &sd);
    x = Normalize(torch::cat(xs), mean, sd);
    y = torch::cat(ys);
    if (with_test) {
      std::vector<torch::Tensor> txs, tys;
      ReadCifar(o.path + "/test_batch.bin", &txs, &tys);
      tx = Normalize(txs[0], mean, sd);
      ty = tys[0];
    }
    d.description = "cifar10 " + o.path;
  } else {
    const std::string dir = o.path.empty() ? o.DefaultPath() : o.path;
    std::vector<double> mean, sd;
    DatasetNormalization(o, &mean, &sd);
    auto images = [&](const std::string& base) {
      const std::string f = FindFile(dir, base);
      torch::Tensor raw = ReadIdx(f, 0x00000803);
      if (raw.dim() != 3 || raw.size(1) != 28 || raw.size(2) != 28)
        throw InputError(f + ": expected 28x28 images");
      return Normalize(raw.unsqueeze(1), mean, sd);
    };
    auto labels = [&](const std::string& base, int64_t n) {
      const std::string f = FindFile(dir, base);
      torch::Tensor raw = ReadIdx(f, 0x00000801);
      if (raw.size(0) != n)
        throw InputError(f + ": " + std::to_string(raw.size(0)) + " labels for " +
                         std::to_string(n) + " images");
      if ((raw > 9).any().item<bool>()) throw InputError(f + ": a label is above 9");
      return raw.to(torch::kInt64);
    };
    x = images("train-images-idx3-ubyte");
    y = labels("train-labels-idx1-ubyte", x.size(0));
    if (with_test) {
      tx = images("t10k-images-idx3-ubyte");
      ty = labels("t10k-labels-idx1-ubyte", tx.size(0));
    }
    d.description = o.name + " " + dir;
  }
  if (given_vx.defined()) {
    // The data brings its own validation split: dataset.validation is not carved out. Retraining
    // (full_train) trains on both.
    if (full_train) {
      x = torch::cat({x, given_vx});
      y = torch::cat({y, given_vy});
    }
    std::vector<int64_t> train_idx, unused;
    Split(y, 0, full_train ? 0 : o.train_subset, o.split_seed, &train_idx, &unused);
    d.train_x = Select(x, train_idx);
    d.train_y = Select(y, train_idx);
    if (!full_train) {
      d.val_x = given_vx;
      d.val_y = given_vy;
    }
  } else {
    if (o.validation >= x.size(0))
      throw InputError("dataset.validation: " + std::to_string(o.validation) +
                       " is not below the training set size " + std::to_string(x.size(0)));
    std::vector<int64_t> train_idx, val_idx;
    Split(y, full_train ? 0 : o.validation, full_train ? 0 : o.train_subset,
          o.split_seed, &train_idx, &val_idx);
    d.train_x = Select(x, train_idx);
    d.train_y = Select(y, train_idx);
    if (!val_idx.empty()) {
      d.val_x = Select(x, val_idx);
      d.val_y = Select(y, val_idx);
    }
  }
  if (with_test) {
    d.test_x = tx;
    d.test_y = ty;
  }
  return d;
}

}  // namespace paretonas::evaluator
