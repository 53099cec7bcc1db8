// Operations that label the edges of an architecture graph, and their static costs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace paretonas::space {

/// Shape of one activation tensor at batch 1 (channels, height, width).
struct TensorShape {
  int c = 0;
  int h = 0;
  int w = 0;
  std::int64_t Elements() const { return std::int64_t{c} * h * w; }
  bool operator==(const TensorShape& o) const { return c == o.c && h == o.h && w == o.w; }
  bool operator!=(const TensorShape& o) const { return !(*this == o); }
};

enum class OpKind {
  kNone,              ///< zero: contributes nothing (NB201 `none`)
  kSkip,              ///< identity (shapes must match)
  kNorConv,           ///< ReLU -> Conv(k, stride 1, no bias) -> BN (NB201 `nor_conv_kxk`)
  kAvgPool,           ///< 3x3 average pool, stride 1, pad 1, padding not counted
  kMaxPool,           ///< 3x3 max pool, stride 1, pad 1
  kMaxPoolDown,       ///< 2x2 max pool, stride 2 (halves height and width; head only)
  kConvBn,            ///< Conv(k, stride, no bias) -> BN (a stem)
  kConvBnRelu,        ///< Conv(k, stride, no bias) -> BN -> ReLU
  kResNetBasic,       ///< NB201 residual reduction block (stride 2)
  kMBConv,            ///< MobileNetV2 inverted residual body (expand, depthwise, project)
  kDenseRelu,         ///< fully connected layer over the whole tensor (flatten -> Linear) -> ReLU; head only
  kClassifier,        ///< global average pool -> Linear
  kBnReluClassifier,  ///< BN -> ReLU -> global average pool -> Linear (NB201 head)
};

/// One operation with its attributes. Channels come from the tensors it connects.
struct OpSpec {
  OpKind kind = OpKind::kNone;
  int kernel = 1;
  int stride = 1;
  int expansion = 1;

  /// Stable textual label, e.g. "nor_conv_3x3", "mbconv_k5_e6_s2"; used in hashes and exports.
  std::string Label() const;
  bool operator==(const OpSpec& o) const {
    return kind == o.kind && kernel == o.kernel && stride == o.stride && expansion == o.expansion;
  }
};

/// Parses an op name as written in space files ("nor_conv_3x3", "skip_connect", "mbconv", ...).
/// Returns false and fills `error` with the list of allowed names on failure.
bool ParseOpName(const std::string& name, OpSpec* op, std::string* error);

/// Every value of OpKind, in declaration order (for tests that must reach every operation).
const std::vector<OpKind>& AllOpKinds();

/// Names accepted by ParseOpName, for error messages.
const char* AllowedOpNames();

/// Output shape of `op` applied to `in`, producing `out_channels` channels (or `classes`).
TensorShape OutputShape(const OpSpec& op, const TensorShape& in, int out_channels);

/// Trainable parameters of the module the builder makes for this op (BN affine counted).
std::int64_t OpParams(const OpSpec& op, const TensorShape& in, const TensorShape& out);

/// Multiply-accumulates at batch 1, NAS-Bench-201's convention: convolutions and linear layers
/// (linear bias counted as one MAC per output), no cost for BN, activations, pooling or sums.
std::int64_t OpMacs(const OpSpec& op, const TensorShape& in, const TensorShape& out);

}  // namespace paretonas::space
