#include "space/ops.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <regex>

namespace paretonas::space {

std::string OpSpec::Label() const {
  const std::string k = std::to_string(kernel) + "x" + std::to_string(kernel);
  switch (kind) {
    case OpKind::kNone: return "none";
    case OpKind::kSkip: return "skip_connect";
    case OpKind::kNorConv: return "nor_conv_" + k;
    case OpKind::kAvgPool: return "avg_pool_3x3";
    case OpKind::kMaxPool: return "max_pool_3x3";
    case OpKind::kMaxPoolDown: return "max_pool_2x2";
    case OpKind::kConvBn: return "conv_bn_" + k + "_s" + std::to_string(stride);
    case OpKind::kConvBnRelu: return "conv_bn_relu_" + k + "_s" + std::to_string(stride);
    case OpKind::kResNetBasic: return "resnet_basic_s" + std::to_string(stride);
    case OpKind::kMBConv:
      return "mbconv_k" + std::to_string(kernel) + "_e" + std::to_string(expansion) + "_s" +
             std::to_string(stride);
    case OpKind::kDenseRelu: return "dense_relu";
    case OpKind::kClassifier: return "classifier";
    case OpKind::kBnReluClassifier: return "bn_relu_classifier";
  }
  return "?";
}

namespace {
// The position of each OpKind: a switch without default, so that -Werror=switch fails the build
// when a kind is added to the enum and not here, and the static_assert when kOpKinds is not
// raised with it.
constexpr int kOpKinds = 13;
constexpr int KindIndex(OpKind k) {
  switch (k) {
    case OpKind::kNone: return 0;
    case OpKind::kSkip: return 1;
    case OpKind::kNorConv: return 2;
    case OpKind::kAvgPool: return 3;
    case OpKind::kMaxPool: return 4;
    case OpKind::kMaxPoolDown: return 5;
    case OpKind::kConvBn: return 6;
    case OpKind::kConvBnRelu: return 7;
    case OpKind::kResNetBasic: return 8;
    case OpKind::kMBConv: return 9;
    case OpKind::kDenseRelu: return 10;
    case OpKind::kClassifier: return 11;
    case OpKind::kBnReluClassifier: return 12;
  }
  return -1;
}
static_assert(KindIndex(OpKind::kBnReluClassifier) == kOpKinds - 1, "raise kOpKinds with a new OpKind");
}  // namespace

const std::vector<OpKind>& AllOpKinds() {
  static const std::vector<OpKind> kAll = [] {
    std::vector<OpKind> all;
    for (int i = 0; i < kOpKinds; ++i) {
      all.push_back(static_cast<OpKind>(i));
      if (KindIndex(all.back()) != i) throw std::logic_error("AllOpKinds: OpKind is not in declaration order");
    }
    return all;
  }();
  return kAll;
}

const char* AllowedOpNames() {
  return "none, skip_connect, nor_conv_KxK (K odd, e.g. nor_conv_3x3), avg_pool_3x3, "
         "max_pool_3x3, max_pool_2x2, dense_relu, conv_bn, conv_bn_relu, resnet_basic, mbconv, classifier, "
         "bn_relu_classifier";
}

bool ParseOpName(const std::string& name, OpSpec* op, std::string* error) {
  static const std::regex kNorConv("nor_conv_([0-9])x([0-9])");
  std::smatch m;
  *op = OpSpec{};
  if (name == "none") {
    op->kind = OpKind::kNone;
  } else if (name == "skip_connect") {
    op->kind = OpKind::kSkip;
  } else if (std::regex_match(name, m, kNorConv) && m[1] == m[2] &&
             (std::atoi(m[1].str().c_str()) % 2 == 1)) {
    op->kind = OpKind::kNorConv;
    op->kernel = std::atoi(m[1].str().c_str());
  } else if (name == "avg_pool_3x3") {
    op->kind = OpKind::kAvgPool;
    op->kernel = 3;
  } else if (name == "max_pool_3x3") {
    op->kind = OpKind::kMaxPool;
    op->kernel = 3;
  } else if (name == "max_pool_2x2") {
    op->kind = OpKind::kMaxPoolDown;
    op->kernel = 2;
    op->stride = 2;
  } else if (name == "dense_relu") {
    op->kind = OpKind::kDenseRelu;
  } else if (name == "conv_bn") {
    op->kind = OpKind::kConvBn;
    op->kernel = 3;
  } else if (name == "conv_bn_relu") {
    op->kind = OpKind::kConvBnRelu;
    op->kernel = 3;
  } else if (name == "resnet_basic") {
    op->kind = OpKind::kResNetBasic;
    op->kernel = 3;
    op->stride = 2;
  } else if (name == "mbconv") {
    op->kind = OpKind::kMBConv;
    op->kernel = 3;
  } else if (name == "classifier") {
    op->kind = OpKind::kClassifier;
  } else if (name == "bn_relu_classifier") {
    op->kind = OpKind::kBnReluClassifier;
  } else {
    if (error) *error = std::string("unknown op '") + name + "'; allowed: " + AllowedOpNames();
    return false;
  }
  return true;
}

namespace {
int Down(int size, int stride) { return (size + stride - 1) / stride; }  // conv with pad k/2
}  // namespace

TensorShape OutputShape(const OpSpec& op, const TensorShape& in, int out_channels) {
  switch (op.kind) {
    case OpKind::kClassifier:
    case OpKind::kBnReluClassifier:
    case OpKind::kDenseRelu:
      return {out_channels, 1, 1};
    case OpKind::kNone:
    case OpKind::kSkip:
    case OpKind::kAvgPool:
    case OpKind::kMaxPool:
      return in;
    case OpKind::kMaxPoolDown:
      return {in.c, in.h / 2, in.w / 2};
    case OpKind::kNorConv:
    case OpKind::kConvBn:
    case OpKind::kConvBnRelu:
    case OpKind::kResNetBasic:
    case OpKind::kMBConv:
      return {out_channels, Down(in.h, op.stride), Down(in.w, op.stride)};
  }
  throw std::logic_error("OutputShape: unknown op kind " + std::to_string(static_cast<int>(op.kind)));
}

std::int64_t OpParams(const OpSpec& op, const TensorShape& in, const TensorShape& out) {
  const std::int64_t ci = in.c, co = out.c, k2 = std::int64_t{op.kernel} * op.kernel;
  switch (op.kind) {
    case OpKind::kNone:
    case OpKind::kSkip:
    case OpKind::kAvgPool:
    case OpKind::kMaxPool:
    case OpKind::kMaxPoolDown:
      return 0;
    case OpKind::kNorConv:
    case OpKind::kConvBn:
    case OpKind::kConvBnRelu:
      return k2 * ci * co + 2 * co;
    case OpKind::kResNetBasic:
      return (9 * ci * co + 2 * co) + (9 * co * co + 2 * co) + ci * co;
    case OpKind::kMBConv: {
      const std::int64_t hid = ci * op.expansion;
      std::int64_t p = 0;
      if (op.expansion != 1) p += ci * hid + 2 * hid;
      p += k2 * hid + 2 * hid;
      p += hid * co + 2 * co;
      return p;
    }
    case OpKind::kClassifier:
      return ci * co + co;
    case OpKind::kDenseRelu:
      return in.Elements() * co + co;
    case OpKind::kBnReluClassifier:
      return 2 * ci + ci * co + co;
  }
  return 0;
}

std::int64_t OpMacs(const OpSpec& op, const TensorShape& in, const TensorShape& out) {
  const std::int64_t ci = in.c, co = out.c, k2 = std::int64_t{op.kernel} * op.kernel;
  const std::int64_t in_pos = std::int64_t{in.h} * in.w, out_pos = std::int64_t{out.h} * out.w;
  switch (op.kind) {
    case OpKind::kNone:
    case OpKind::kSkip:
    case OpKind::kAvgPool:
    case OpKind::kMaxPool:
    case OpKind::kMaxPoolDown:
      return 0;
    case OpKind::kNorConv:
    case OpKind::kConvBn:
    case OpKind::kConvBnRelu:
      return out_pos * k2 * ci * co;
    case OpKind::kResNetBasic:
      // conv_a (3x3, stride 2), conv_b (3x3), shortcut 1x1 conv after a 2x2 average pool.
      return out_pos * (9 * ci * co + 9 * co * co + ci * co);
    case OpKind::kMBConv: {
      const std::int64_t hid = ci * op.expansion;
      std::int64_t m = 0;
      if (op.expansion != 1) m += in_pos * ci * hid;
      m += out_pos * k2 * hid;
      m += out_pos * hid * co;
      return m;
    }
    case OpKind::kClassifier:
    case OpKind::kBnReluClassifier:
      return ci * co + co;
    case OpKind::kDenseRelu:
      return in.Elements() * co + co;
  }
  return 0;
}

}  // namespace paretonas::space
