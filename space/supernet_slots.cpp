#include "space/supernet_slots.h"

#include "space/arch_graph.h"

namespace paretonas::space {
namespace {

bool HasWeights(OpKind kind) {
  switch (kind) {
    case OpKind::kNone:
    case OpKind::kSkip:
    case OpKind::kAvgPool:
    case OpKind::kMaxPool:
    case OpKind::kMaxPoolDown:
      return false;
    case OpKind::kNorConv:
    case OpKind::kConvBn:
    case OpKind::kConvBnRelu:
    case OpKind::kResNetBasic:
    case OpKind::kMBConv:
    case OpKind::kDenseRelu:
    case OpKind::kClassifier:
    case OpKind::kBnReluClassifier:
      return true;
  }
  return true;
}

// "stage0.cell1.node2" -> "stage0.cell1.node"; "" when `role` is not a cell node.
std::string CellPrefix(const std::string& role) {
  const auto pos = role.rfind(".node");
  if (pos == std::string::npos || role.find(".cell") == std::string::npos) return "";
  return role.substr(0, pos + 5);
}

}  // namespace

std::vector<std::string> SupernetSlots(const SearchSpace& space, const Genotype& g) {
  const ArchGraph graph = space.BuildGraph(g);
  const auto& G = graph.graph();
  std::vector<std::string> slots(graph.num_edges());
  for (auto [e, end] = boost::edges(G); e != end; ++e) {
    const EdgeProps& ep = G[*e];
    if (!HasWeights(ep.op.kind)) continue;
    const std::string& dst = G[boost::target(*e, G)].role;
    const std::string& src = G[boost::source(*e, G)].role;
    const std::string cell = CellPrefix(dst);
    if (!cell.empty()) {
      // The cell's input is the vertex before it (whatever it is called); other sources are
      // nodes of the same cell.
      const std::string from = src.compare(0, cell.size(), cell) == 0 ? src.substr(cell.size()) : "0";
      slots[ep.id] = dst + "<-" + from + "/" + ep.op.Label();
    } else {
      slots[ep.id] = dst;
    }
  }
  return slots;
}

bool IsCellSlot(const std::string& slot) { return slot.find("<-") != std::string::npos; }

}  // namespace paretonas::space
