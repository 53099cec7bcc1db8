// Weight inheritance (LEMONADE, Elsken et al., ICLR 2019): a child starts from its parent's
// trained tensors wherever the two networks share an operation at the same place.
#pragma once

#include <cstdint>
#include <set>

#include "space/graph_net.h"

namespace paretonas::evaluator {

struct Inherited {
  int tensors = 0;             ///< parameters and buffers copied
  std::int64_t elements = 0;   ///< their elements (parameters only)
  std::set<int> edges;         ///< edge ids copied
};

/// Copies into `child` the parameters and buffers (BatchNorm statistics included) of every edge
/// that both networks build with the same id, the same operation and the same input and output
/// shapes: the same op on the same cell edge, the same block with the same shapes in a chain.
/// Edges in `skip` are left alone (already inherited from another parent). Nothing else changes.
Inherited InheritShared(space::GraphNetImpl& child, space::GraphNetImpl& parent, const std::set<int>& skip = {});

}  // namespace paretonas::evaluator
