// A flat, Boost-free description of a network, produced from an ArchGraph for builders.
#pragma once

#include <cstdint>
#include <vector>

#include "space/ops.h"

namespace paretonas::space {

/// One edge (operation) of the network: reads tensor `src`, adds its output into tensor `dst`.
struct PlanEdge {
  int id = 0;  ///< stable id of the edge in the raw graph (used to key modules)
  int src = 0;
  int dst = 0;
  OpSpec op;
  TensorShape in;
  TensorShape out;
  bool live = true;  ///< on some input->output path of non-`none` edges
  /// Its result reaches the output through non-`none` edges, whether or not the input reaches
  /// it (then it computes on a zero tensor): what a runtime that drops unused results but does
  /// not fold constants executes. live implies used.
  bool used = true;
};

/// Which edges of a graph run, by the runtime's treatment of dead branches: kLive, only those on
/// an input->output path (pruned: this engine's builder); kUsed, those whose result reaches the
/// output (dead ends dropped, zero inputs computed on); kAll, every non-`none` edge as written.
enum class EdgeSet { kLive, kUsed, kAll };

/// Tensors (vertices) and operations (edges) in an order where every edge's source is computed
/// before it runs. Each vertex is the sum of its incoming edges; a vertex with no live incoming
/// edge is zero.
struct NetworkPlan {
  std::vector<TensorShape> vertices;
  std::vector<int> vertex_order;  ///< topological order of vertices
  std::vector<PlanEdge> edges;    ///< sorted so that sources are ready (by topo position of dst)
  int input = 0;
  int output = 0;
};

/// The network of the single operation `edge`: its input tensor, the operation, its output
/// tensor (what `latency calibrate` and the kit time to build a per-op table).
inline NetworkPlan OneOpPlan(const PlanEdge& edge) {
  NetworkPlan plan;
  plan.vertices = {edge.in, edge.out};
  plan.vertex_order = {0, 1};
  PlanEdge e = edge;
  e.id = 0, e.src = 0, e.dst = 1, e.live = true, e.used = true;
  plan.edges = {e};
  plan.input = 0, plan.output = 1;
  return plan;
}

/// Static costs without building a module.
struct StaticCosts {
  std::int64_t params = 0;         ///< every non-`none` edge, as written
  std::int64_t macs = 0;
  std::int64_t params_pruned = 0;  ///< live edges only (what the default builder makes)
  std::int64_t macs_pruned = 0;
  std::int64_t activation_bytes = 0;      ///< peak live float32 activations, batch 1, pruned graph
  std::int64_t activation_bytes_raw = 0;  ///< same, executing every edge as written
};

}  // namespace paretonas::space
