// A weight-sharing supernet of any graph-defined space (issue #55): one set of weights holding
// every architecture of the space, from which a sub-network is taken as an ordinary GraphNet.
//
// Where a weight lives is its slot (space/supernet_slots.h): each operation of each cell edge has
// its own weights (single path); a chain block's kernel and expansion are elastic (a k x k kernel
// is the centre of the slot's largest kernel, an expansion or a width the first channels), and a
// stage's depth takes its first blocks. A sub-network is a copy of those slices in a standalone
// GraphNet (the network the exporters, the latency and int8 stages already know); its gradients
// are added back into the same slices, in an order the caller fixes (bit-identical for any number
// of workers).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "space/graph_net.h"
#include "space/search_space.h"

namespace paretonas::evaluator {

/// A sub-network taken out of a supernet, and where each of its tensors came from.
struct SubNetwork {
  space::Genotype genotype;
  space::GraphNet net{nullptr};
  struct Binding {
    torch::Tensor sub;    ///< the sub-network's parameter or buffer
    int slot = 0;         ///< the supernet tensor it was sliced from: slot index ...
    std::string name;     ///< ... and the tensor's name in that slot's module
    bool parameter = true;
    std::vector<std::int64_t> start;  ///< per dimension: first index of the slice (length: sub's)
  };
  std::vector<Binding> bindings;
};

class SupernetImpl : public torch::nn::Module {
 public:
  /// The supernet of `space`. Checks `check_samples` sampled architectures (a fixed sample) and
  /// throws InputError, naming the space's file, the slot and the operation, when one of them
  /// cannot be taken out of it.
  explicit SupernetImpl(const space::SearchSpace& space, int check_samples = 64);

  const space::SearchSpace& space() const { return space_; }
  /// The widest architecture: the most parameters, decision by decision (every block at its
  /// largest kernel and expansion, the deepest stages, the widest width).
  const space::Genotype& Largest() const { return largest_; }
  /// The architecture with the fewest parameters whose input reaches its output.
  const space::Genotype& Smallest() const { return smallest_; }
  /// Slot names, in the order of the modules "s0", "s1", ...
  const std::vector<std::string>& slots() const { return slot_names_; }

  /// A standalone GraphNet of `g` holding copies of the supernet's weights for it (BatchNorm
  /// statistics included), in training mode. Throws InputError if `g` does not fit.
  SubNetwork Take(const space::Genotype& g) const;
  /// Adds `sub`'s parameter gradients into the supernet's (allocated as zeros when absent).
  void AddGradients(const SubNetwork& sub);
  /// Writes `sub`'s BatchNorm statistics (e.g. recalibrated) back into the supernet's slices.
  void StoreBuffers(const SubNetwork& sub);

  /// Re-draws every weight from `generator` (space::InitializeParameters' scheme, each slot at
  /// its largest shape).
  void Initialize(at::Generator generator);

 private:
  struct Slot {
    space::PlanEdge edge;    ///< the op at its largest, as first built
    space::GraphNet module;  ///< one-op network: its tensors are "e0.<path>"
  };
  torch::Tensor SuperTensor(const SubNetwork::Binding& b) const;
  /// The view of `full` that `b` covers.
  static torch::Tensor Slice(const torch::Tensor& full, const SubNetwork::Binding& b);
  void AddSlots(const space::Genotype& g);

  space::SearchSpace space_;
  space::Genotype largest_, smallest_;
  std::vector<std::string> slot_names_;
  std::map<std::string, int> slot_index_;
  std::vector<Slot> slots_;
};
TORCH_MODULE(Supernet);

/// The architecture of `space` with the most (`most` true) or fewest parameters, chosen decision
/// by decision (three passes in decision order); the fewest keeps the input connected to the
/// output.
space::Genotype ExtremeGenotype(const space::SearchSpace& space, bool most);

}  // namespace paretonas::evaluator
