// ArchGraph: an architecture as a Boost.Graph DAG. Vertices are tensors, edges are operations.
// NOTE: this is the only header of the project that includes Boost.Graph; keep it inside space/.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "space/network_plan.h"

namespace paretonas::space {

struct VertexProps {
  TensorShape shape;
  std::string role;  ///< "input", "output", "stem", "cell2.node1", ... (for drawings)
};

struct EdgeProps {
  int id = 0;
  OpSpec op;
};

/// Value type. Parallel edges are allowed (a residual is a skip edge beside a block).
class ArchGraph {
 public:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                      VertexProps, EdgeProps>;
  using Vertex = Graph::vertex_descriptor;

  /// Adds a tensor; returns its index.
  int AddVertex(const TensorShape& shape, const std::string& role);
  /// Adds an operation from `src` into `dst`; returns its edge id.
  int AddEdge(int src, int dst, const OpSpec& op);
  void SetInput(int v) { input_ = v; }
  void SetOutput(int v) { output_ = v; }

  int num_vertices() const { return static_cast<int>(boost::num_vertices(g_)); }
  int num_edges() const { return static_cast<int>(boost::num_edges(g_)); }
  int input() const { return input_; }
  int output() const { return output_; }
  const Graph& graph() const { return g_; }

  /// Checks acyclicity and that every edge maps its source shape onto its destination shape.
  /// Returns an empty string when valid, else what is wrong.
  std::string Validate() const;
  /// True when some path of non-`none` edges leads from input to output.
  bool Connected() const;
  /// Per edge id: lies on an input->output path of non-`none` edges.
  std::vector<bool> LiveEdges() const;
  /// Per edge id: in `set` (see EdgeSet; kLive is LiveEdges, kUsed is PlanEdge::used).
  std::vector<bool> Edges(EdgeSet set) const;
  /// Canonical hash (16 hex digits) of what the graph executes, invariant to vertex numbering.
  /// kLive (default): the function it computes, edges that cannot reach the output or cannot be
  /// reached ignored. kUsed: also the edges that compute on zero tensors for the output. kAll:
  /// every non-`none` edge, dead ends included.
  std::string CanonicalHash(EdgeSet set = EdgeSet::kLive) const;
  StaticCosts Costs() const;
  NetworkPlan Plan() const;
  /// Graphviz drawing; dead edges dashed and grey.
  std::string ToDot(const std::string& title) const;

 private:
  std::vector<int> TopologicalOrder() const;  // throws std::runtime_error on a cycle
  /// Per vertex: reached from the input / reaches the output through non-`none` edges.
  void Reachability(const std::vector<int>& order, std::vector<char>* fwd,
                    std::vector<char>* bwd) const;
  /// Per edge id: in `set`, given Reachability's fwd and bwd (unread for kAll).
  std::vector<bool> EdgesIn(EdgeSet set, const std::vector<char>& fwd,
                            const std::vector<char>& bwd) const;
  Graph g_;
  int input_ = 0;
  int output_ = 0;
  int next_edge_id_ = 0;
};

}  // namespace paretonas::space
