#include "space/arch_graph.h"

#include <algorithm>
#include <boost/graph/topological_sort.hpp>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

namespace paretonas::space {
namespace {

std::uint64_t Mix(std::uint64_t h, std::uint64_t v) {
  // splitmix64-style combination; order-dependent.
  std::uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t HashString(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::uint64_t HashShape(const TensorShape& s) {
  return Mix(Mix(Mix(0x5151, s.c), s.h), s.w);
}

}  // namespace

int ArchGraph::AddVertex(const TensorShape& shape, const std::string& role) {
  return static_cast<int>(boost::add_vertex(VertexProps{shape, role}, g_));
}

int ArchGraph::AddEdge(int src, int dst, const OpSpec& op) {
  const int id = next_edge_id_++;
  boost::add_edge(static_cast<Vertex>(src), static_cast<Vertex>(dst), EdgeProps{id, op}, g_);
  return id;
}

std::vector<int> ArchGraph::TopologicalOrder() const {
  std::vector<Vertex> reversed;
  boost::topological_sort(g_, std::back_inserter(reversed));  // throws boost::not_a_dag
  return std::vector<int>(reversed.rbegin(), reversed.rend());
}

std::string ArchGraph::Validate() const {
  try {
    TopologicalOrder();
  } catch (const boost::not_a_dag&) {
    return "the graph has a cycle";
  }
  for (auto [e, end] = boost::edges(g_); e != end; ++e) {
    const auto& ep = g_[*e];
    const TensorShape& in = g_[boost::source(*e, g_)].shape;
    const TensorShape& out = g_[boost::target(*e, g_)].shape;
    const TensorShape expect = OutputShape(ep.op, in, out.c);
    if (expect != out) {
      std::ostringstream os;
      os << "edge " << ep.id << " (" << ep.op.Label() << ") maps " << in.c << "x" << in.h << "x"
         << in.w << " to " << expect.c << "x" << expect.h << "x" << expect.w
         << " but its target tensor is " << out.c << "x" << out.h << "x" << out.w;
      return os.str();
    }
  }
  return "";
}

void ArchGraph::Reachability(const std::vector<int>& order, std::vector<char>* fwd,
                             std::vector<char>* bwd) const {
  fwd->assign(num_vertices(), 0);
  bwd->assign(num_vertices(), 0);
  (*fwd)[input_] = 1;
  for (int v : order) {
    if (!(*fwd)[v]) continue;
    for (auto [e, end] = boost::out_edges(v, g_); e != end; ++e)
      if (g_[*e].op.kind != OpKind::kNone) (*fwd)[boost::target(*e, g_)] = 1;
  }
  (*bwd)[output_] = 1;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (!(*bwd)[*it]) continue;
    for (auto [e, end] = boost::in_edges(*it, g_); e != end; ++e)
      if (g_[*e].op.kind != OpKind::kNone) (*bwd)[boost::source(*e, g_)] = 1;
  }
}

std::vector<bool> ArchGraph::EdgesIn(EdgeSet set, const std::vector<char>& fwd,
                                     const std::vector<char>& bwd) const {
  std::vector<bool> in(next_edge_id_, false);
  for (auto [e, end] = boost::edges(g_); e != end; ++e) {
    const auto& ep = g_[*e];
    in[ep.id] = ep.op.kind != OpKind::kNone &&
                (set == EdgeSet::kAll ||
                 (bwd[boost::target(*e, g_)] && (set == EdgeSet::kUsed || fwd[boost::source(*e, g_)])));
  }
  return in;
}

std::vector<bool> ArchGraph::Edges(EdgeSet set) const {
  std::vector<char> fwd, bwd;
  if (set != EdgeSet::kAll) Reachability(TopologicalOrder(), &fwd, &bwd);
  return EdgesIn(set, fwd, bwd);
}

std::vector<bool> ArchGraph::LiveEdges() const { return Edges(EdgeSet::kLive); }

bool ArchGraph::Connected() const {
  const std::vector<bool> live = LiveEdges();
  return std::find(live.begin(), live.end(), true) != live.end();
}

std::string ArchGraph::CanonicalHash(EdgeSet set) const {
  const std::vector<bool> used = Edges(set);
  const int n = num_vertices();
  std::vector<std::uint64_t> h(n, 0);
  std::vector<char> has(n, 0);
  h[input_] = Mix(HashString("input"), HashShape(g_[input_].shape));
  has[input_] = 1;
  for (int v : TopologicalOrder()) {
    if (v == input_) continue;
    std::vector<std::uint64_t> terms;
    for (auto [e, end] = boost::in_edges(v, g_); e != end; ++e) {
      if (!used[g_[*e].id]) continue;
      const int u = static_cast<int>(boost::source(*e, g_));
      terms.push_back(Mix(HashString(g_[*e].op.Label()), h[u]));
    }
    if (terms.empty()) {  // a zero tensor (read only by edges outside kLive)
      h[v] = Mix(HashString("zero"), HashShape(g_[v].shape));
      continue;
    }
    std::sort(terms.begin(), terms.end());  // a sum is commutative
    std::uint64_t acc = HashShape(g_[v].shape);
    for (std::uint64_t t : terms) acc = Mix(acc, t);
    h[v] = acc;
    has[v] = 1;
  }
  std::uint64_t result = h[output_];  // the zero tensor's hash when nothing reaches it
  if (set == EdgeSet::kAll) {
    // Computed but never read (a dead end): executed all the same, so part of the identity.
    std::vector<std::uint64_t> ends;
    for (int v = 0; v < n; ++v) {
      if (v == output_ || v == input_ || !has[v]) continue;
      bool read = false;
      for (auto [e, end] = boost::out_edges(v, g_); e != end && !read; ++e) read = used[g_[*e].id];
      if (!read) ends.push_back(h[v]);
    }
    std::sort(ends.begin(), ends.end());
    for (std::uint64_t t : ends) result = Mix(result, Mix(HashString("dead end"), t));
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(result));
  return buf;
}

NetworkPlan ArchGraph::Plan() const {
  NetworkPlan plan;
  plan.input = input_;
  plan.output = output_;
  const std::vector<int> order = TopologicalOrder();
  std::vector<char> fwd, bwd;
  Reachability(order, &fwd, &bwd);
  const std::vector<bool> live = EdgesIn(EdgeSet::kLive, fwd, bwd),
                          used = EdgesIn(EdgeSet::kUsed, fwd, bwd);
  std::vector<int> pos(num_vertices());
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = static_cast<int>(i);
  plan.vertex_order = order;
  for (int v = 0; v < num_vertices(); ++v) plan.vertices.push_back(g_[v].shape);
  for (auto [e, end] = boost::edges(g_); e != end; ++e) {
    PlanEdge pe;
    pe.id = g_[*e].id;
    pe.src = static_cast<int>(boost::source(*e, g_));
    pe.dst = static_cast<int>(boost::target(*e, g_));
    pe.op = g_[*e].op;
    pe.in = g_[pe.src].shape;
    pe.out = g_[pe.dst].shape;
    pe.live = live[pe.id];
    pe.used = used[pe.id];
    plan.edges.push_back(pe);
  }
  std::stable_sort(plan.edges.begin(), plan.edges.end(), [&](const PlanEdge& a, const PlanEdge& b) {
    return pos[a.dst] != pos[b.dst] ? pos[a.dst] < pos[b.dst] : a.id < b.id;
  });
  return plan;
}

namespace {

// Peak of simultaneously live float32 tensors at batch 1 when executing `plan` in order.
std::int64_t PeakActivationBytes(const NetworkPlan& plan, bool pruned) {
  const int n = static_cast<int>(plan.vertices.size());
  std::vector<int> pos(n);
  for (int i = 0; i < n; ++i) pos[plan.vertex_order[i]] = i;
  std::vector<int> last_use(n, -1);
  std::vector<char> used(n, 0);
  used[plan.input] = 1;
  for (const PlanEdge& e : plan.edges) {
    if (e.op.kind == OpKind::kNone || (pruned && !e.live)) continue;
    last_use[e.src] = std::max(last_use[e.src], pos[e.dst]);
    used[e.src] = used[e.dst] = 1;
  }
  used[plan.output] = 1;
  last_use[plan.output] = n;
  std::int64_t live_bytes = 0, peak = 0;
  std::vector<std::vector<int>> frees(n + 1);
  for (int v = 0; v < n; ++v)
    if (used[v] && last_use[v] >= 0) frees[last_use[v]].push_back(v);
  for (int i = 0; i < n; ++i) {
    const int v = plan.vertex_order[i];
    if (used[v]) live_bytes += plan.vertices[v].Elements() * 4;
    peak = std::max(peak, live_bytes);
    for (int f : frees[i]) live_bytes -= plan.vertices[f].Elements() * 4;
  }
  return peak;
}

}  // namespace

StaticCosts ArchGraph::Costs() const {
  StaticCosts c;
  const NetworkPlan plan = Plan();
  for (const PlanEdge& e : plan.edges) {
    const std::int64_t p = OpParams(e.op, e.in, e.out), m = OpMacs(e.op, e.in, e.out);
    c.params += p;
    c.macs += m;
    if (e.live) {
      c.params_pruned += p;
      c.macs_pruned += m;
    }
  }
  c.activation_bytes = PeakActivationBytes(plan, true);
  c.activation_bytes_raw = PeakActivationBytes(plan, false);
  return c;
}

std::string ArchGraph::ToDot(const std::string& title) const {
  const std::vector<bool> live = LiveEdges();
  std::ostringstream os;
  os << "digraph arch {\n  label=\"" << title << "\";\n  rankdir=TB;\n  node [shape=box];\n";
  for (int v = 0; v < num_vertices(); ++v) {
    const auto& s = g_[v].shape;
    os << "  v" << v << " [label=\"" << g_[v].role << "\\n" << s.c << "x" << s.h << "x" << s.w
       << "\"];\n";
  }
  for (auto [e, end] = boost::edges(g_); e != end; ++e) {
    const auto& ep = g_[*e];
    if (ep.op.kind == OpKind::kNone) continue;
    os << "  v" << boost::source(*e, g_) << " -> v" << boost::target(*e, g_) << " [label=\""
       << ep.op.Label() << "\"" << (live[ep.id] ? "" : ", style=dashed, color=grey") << "];\n";
  }
  os << "}\n";
  return os.str();
}

}  // namespace paretonas::space
