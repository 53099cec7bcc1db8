// The drawing of an architecture on the run page and in the report: nodes, edges, ops by colour.
#include "experiments/report_parts.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "evaluator/latency_estimate.h"
#include "search/pareto.h"
#include "search/proxy_names.h"
#include "search/search_loop.h"
#include "space/search_space.h"

namespace paretonas::experiments::report_parts {
namespace {

std::string OpColor(const space::OpSpec& op) {
  switch (op.kind) {
    case space::OpKind::kSkip: return "#999999";
    case space::OpKind::kNorConv: return op.kernel >= 3 ? "#d7191c" : "#fdae61";
    case space::OpKind::kAvgPool:
    case space::OpKind::kMaxPool:
    case space::OpKind::kMaxPoolDown: return "#2b83ba";
    case space::OpKind::kDenseRelu: return "#d95f02";
    case space::OpKind::kMBConv: return "#7b3294";
    case space::OpKind::kNone:
    case space::OpKind::kConvBn:
    case space::OpKind::kConvBnRelu:
    case space::OpKind::kResNetBasic:
    case space::OpKind::kClassifier:
    case space::OpKind::kBnReluClassifier:
      break;  // stems, reductions and heads: dark grey

  }
  return "#1a1a1a";
}

// Layered drawing of the live graph: a vertex's layer is its longest path from the input.
}  // namespace

std::string GraphDrawing(const space::NetworkPlan& plan) {
  const int n = static_cast<int>(plan.vertices.size());
  std::vector<int> layer(n, -1);
  layer[plan.input] = 0;
  for (const auto& e : plan.edges)  // edges are in topological order of their targets
    if (e.live && layer[e.src] >= 0) layer[e.dst] = std::max(layer[e.dst], layer[e.src] + 1);
  std::map<int, std::vector<int>> by_layer;
  for (int v = 0; v < n; ++v)
    if (layer[v] >= 0 && (v == plan.input || v == plan.output || layer[v] > 0)) by_layer[layer[v]].push_back(v);
  if (layer[plan.output] < 0) return "<p><em>the output is not connected to the input</em></p>";
  size_t widest = 1;
  for (const auto& [l, vs] : by_layer) widest = std::max(widest, vs.size());
  const double w = std::max<double>(340, 170.0 * widest), h = 70.0 * by_layer.size() + 20;
  std::map<int, std::pair<double, double>> pos;
  for (const auto& [l, vs] : by_layer)
    for (size_t i = 0; i < vs.size(); ++i) pos[vs[i]] = {w * (i + 1) / (vs.size() + 1), 30 + 70.0 * l};
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "'>";
  // Edges that would overlap (parallel edges, or edges skipping layers along one column) are
  // drawn as curves bent alternately left and right.
  std::map<std::pair<int, int>, int> seen_pair;
  int bends = 0;
  for (const auto& e : plan.edges) {
    if (!e.live || !pos.count(e.src) || !pos.count(e.dst)) continue;
    const auto [xa, ya] = pos[e.src];
    const auto [xb, yb] = pos[e.dst];
    const int parallel = seen_pair[{e.src, e.dst}]++;
    const int span = layer[e.dst] - layer[e.src];
    double bend = 0;
    if (parallel > 0 || span > 1) {
      ++bends;
      bend = (bends % 2 ? 1 : -1) * (28.0 * span + 18.0 * parallel);
    }
    const double mx = (xa + xb) / 2 + bend, my = (ya + yb) / 2;
    os << "<path d='M" << xa << "," << ya << " Q" << mx + bend << "," << my << " " << xb << ","
       << yb << "' fill='none' stroke='" << OpColor(e.op) << "' stroke-width='2'/><text x='"
       << mx + (bend < 0 ? -4 : 4) << "' y='" << my + 3 << "' font-size='10' text-anchor='"
       << (bend < 0 ? "end" : "start") << "' fill='" << OpColor(e.op) << "'>" << Esc(e.op.Label())
       << "</text>";
  }
  for (const auto& [v, p] : pos) {
    const auto& s = plan.vertices[v];
    os << "<circle cx='" << p.first << "' cy='" << p.second << "' r='6' fill='"
       << (v == plan.input || v == plan.output ? "#1a9641" : "#fff") << "' stroke='#333'><title>"
       << s.c << "x" << s.h << "x" << s.w << "</title></circle>";
  }
  os << "</svg>";
  return os.str();
}


}  // namespace paretonas::experiments::report_parts
