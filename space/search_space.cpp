#include "space/search_space.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "space/arch_graph.h"
#include "space/input_error.h"

namespace paretonas::space {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

}  // namespace

std::uint64_t SearchSpace::NumGenotypes() const {
  std::uint64_t n = 1;
  for (const auto& d : decisions_) {
    if (n > UINT64_MAX / d.labels.size()) return UINT64_MAX;
    n *= d.labels.size();
  }
  return n;
}

std::vector<Genotype> SearchSpace::Enumerate(std::uint64_t limit) const {
  if (NumGenotypes() > limit) {
    throw std::length_error("space '" + name_ + "' has " +
                            (NumGenotypes() == UINT64_MAX ? std::string("more than 2^64")
                                                          : std::to_string(NumGenotypes())) +
                            " genotypes, more than the limit " + std::to_string(limit));
  }
  std::vector<Genotype> out;
  Genotype g(decisions_.size(), 0);
  const bool has_chain = std::any_of(stages_.begin(), stages_.end(),
                                     [](const Stage& s) { return !s.is_cells; });
  while (true) {
    if (!has_chain) {
      out.push_back(g);
    } else {
      // Unused block slots make several genotypes share a key; keep the one whose unused
      // slots are 0 (what ParseKey returns).
      const Genotype canonical = ParseKey(Key(g));
      if (canonical == g) out.push_back(g);
    }
    size_t i = decisions_.size();
    while (i > 0) {
      --i;
      if (++g[i] < static_cast<int>(decisions_[i].labels.size())) break;
      g[i] = 0;
      if (i == 0) return out;
    }
    if (decisions_.empty()) return out;
  }
}

Genotype SearchSpace::Sample(std::mt19937_64& rng) const {
  Genotype g(decisions_.size());
  for (size_t i = 0; i < decisions_.size(); ++i) {
    std::uniform_int_distribution<int> pick(0, static_cast<int>(decisions_[i].labels.size()) - 1);
    g[i] = pick(rng);  // drawn even when fixed: the same stream with and without fixes
  }
  return WithFixed(std::move(g));
}

Genotype SearchSpace::WithFixed(Genotype g) const {
  for (size_t i = 0; i < fixed_.size() && i < g.size(); ++i)
    if (fixed_[i] >= 0) g[i] = fixed_[i];
  return g;
}

Genotype SearchSpace::Mutate(const Genotype& parent, double rate, std::mt19937_64& rng) const {
  Genotype g = parent;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  auto change = [&](size_t i) {
    const int n = static_cast<int>(decisions_[i].labels.size());
    if (n < 2) return false;
    std::uniform_int_distribution<int> pick(0, n - 2);
    int v = pick(rng);
    if (v >= g[i]) ++v;  // any value but the current one
    g[i] = v;
    return true;
  };
  bool changed = false;
  for (size_t i = 0; i < decisions_.size(); ++i)
    if (coin(rng) < rate) changed |= change(i);
  if (!changed) {
    std::uniform_int_distribution<size_t> pick(0, decisions_.size() - 1);
    for (int tries = 0; tries < 64 && !changed; ++tries) changed = change(pick(rng));
  }
  return g;
}

Genotype SearchSpace::Crossover(const Genotype& a, const Genotype& b, std::mt19937_64& rng) const {
  Genotype g = a;
  std::bernoulli_distribution coin(0.5);
  for (size_t i = 0; i < g.size() && i < b.size(); ++i)
    if (coin(rng)) g[i] = b[i];
  return g;
}

std::string SearchSpace::CheckGenotype(const Genotype& g) const {
  if (g.size() != decisions_.size()) {
    return "genotype has " + std::to_string(g.size()) + " choices, the space '" + name_ +
           "' has " + std::to_string(decisions_.size()) + " decisions";
  }
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] < 0 || g[i] >= static_cast<int>(decisions_[i].labels.size())) {
      return "choice " + std::to_string(g[i]) + " of decision '" + decisions_[i].name +
             "' is out of range [0, " + std::to_string(decisions_[i].labels.size() - 1) + "]";
    }
  }
  return "";
}

std::string SearchSpace::Key(const Genotype& g) const {
  std::vector<std::string> parts;
  if (width_decision_ >= 0) parts.push_back("w=" + decisions_[width_decision_].labels[g[width_decision_]]);
  if (first_cell_decision_ >= 0) {
    std::string cell;
    for (int j = 1; j < cell_nodes_; ++j) {
      if (j > 1) cell += "+";
      cell += "|";
      for (size_t k = 0; k < cell_edges_.size(); ++k) {
        if (cell_edges_[k].second != j) continue;
        cell += cell_op_names_[g[first_cell_decision_ + k]] + "~" +
                std::to_string(cell_edges_[k].first) + "|";
      }
    }
    parts.push_back(cell);
  }
  for (size_t si = 0; si < stages_.size(); ++si) {
    const Stage& st = stages_[si];
    if (st.is_cells) continue;
    const int depth = st.depth_decision >= 0 ? st.depths[g[st.depth_decision]] : st.depths[0];
    std::string part = "s" + std::to_string(si) + "=";
    for (int b = 0; b < depth; ++b) {
      const int d = st.first_block_decision + b;
      part += (b ? "," : "") + decisions_[d].labels[g[d]];
    }
    parts.push_back(part);
  }
  std::string key;
  for (size_t i = 0; i < parts.size(); ++i) key += (i ? ";" : "") + parts[i];
  return key;
}

Genotype SearchSpace::ParseKey(const std::string& key) const {
  Genotype g(decisions_.size(), 0);
  auto fail = [&](const std::string& why) -> InputError {
    return InputError("architecture '" + key + "' is not a key of space '" + name_ + "': " + why);
  };
  auto index_of = [&](int decision, const std::string& label) {
    const auto& labels = decisions_[decision].labels;
    auto it = std::find(labels.begin(), labels.end(), label);
    if (it == labels.end()) {
      std::string allowed;
      for (const auto& l : labels) allowed += (allowed.empty() ? "" : ", ") + l;
      throw fail("'" + label + "' is not an option of " + decisions_[decision].name +
                 " (allowed: " + allowed + ")");
    }
    return static_cast<int>(it - labels.begin());
  };
  bool saw_cell = false;
  std::vector<bool> saw_stage(stages_.size(), false);
  bool saw_width = false;
  for (const std::string& part : Split(key, ';')) {
    if (!part.empty() && part[0] == '|') {
      if (first_cell_decision_ < 0) throw fail("the space has no cell");
      if (saw_cell) throw fail("the cell part is given twice");
      const std::vector<std::string> nodes = Split(part, '+');
      if (static_cast<int>(nodes.size()) != cell_nodes_ - 1)
        throw fail("expected " + std::to_string(cell_nodes_ - 1) + " node groups separated by '+'");
      size_t k = 0;
      for (int j = 1; j < cell_nodes_; ++j) {
        const std::string& grp = nodes[j - 1];
        if (grp.size() < 2 || grp.front() != '|' || grp.back() != '|') {
          std::string pattern = "|";
          for (size_t q = k; q < cell_edges_.size() && cell_edges_[q].second == j; ++q)
            pattern += "op~" + std::to_string(cell_edges_[q].first) + "|";
          std::string hint;
          if (!grp.empty() && grp.front() == '|' && grp.back() != '|') hint = " (the closing '|' is missing)";
          else if (!grp.empty() && grp.front() != '|') hint = " (the opening '|' is missing)";
          throw fail("node " + std::to_string(j) + "'s group '" + grp + "' must look like " + pattern + hint);
        }
        const std::vector<std::string> edges = Split(grp.substr(1, grp.size() - 2), '|');
        size_t inputs = 0;
        for (size_t q = k; q < cell_edges_.size() && cell_edges_[q].second == j; ++q) ++inputs;
        if (edges.size() != inputs)
          throw fail("node " + std::to_string(j) + " needs " + std::to_string(inputs) + " inputs");
        for (size_t e = 0; e < inputs; ++e, ++k) {
          const std::string from = std::to_string(cell_edges_[k].first);
          const size_t tilde = edges[e].rfind('~');
          if (tilde == std::string::npos || edges[e].substr(tilde + 1) != from)
            throw fail("edge '" + edges[e] + "' must be op~" + from);
          const int d = first_cell_decision_ + static_cast<int>(k);
          g[d] = index_of(d, edges[e].substr(0, tilde));
        }
      }
      saw_cell = true;
    } else if (part.rfind("w=", 0) == 0) {
      if (width_decision_ < 0) throw fail("the space has no width multiplier");
      if (saw_width) throw fail("the width is given twice");
      g[width_decision_] = index_of(width_decision_, part.substr(2));
      saw_width = true;
    } else if (part.size() > 1 && part[0] == 's' && part.find('=') != std::string::npos) {
      const size_t eq = part.find('=');
      char* end = nullptr;
      const long si = std::strtol(part.c_str() + 1, &end, 10);
      if (end != part.c_str() + eq || si < 0 || si >= static_cast<long>(stages_.size()) ||
          stages_[si].is_cells)
        throw fail("'" + part.substr(0, eq) + "' is not a block stage of the space");
      if (saw_stage[si]) throw fail("stage s" + std::to_string(si) + " is given twice");
      const Stage& st = stages_[si];
      const std::vector<std::string> blocks = Split(part.substr(eq + 1), ',');
      const int depth = static_cast<int>(blocks.size());
      auto it = std::find(st.depths.begin(), st.depths.end(), depth);
      if (it == st.depths.end()) throw fail("stage " + std::to_string(si) + " cannot have depth " + std::to_string(depth));
      if (st.depth_decision >= 0) g[st.depth_decision] = static_cast<int>(it - st.depths.begin());
      for (int b = 0; b < depth; ++b)
        g[st.first_block_decision + b] = index_of(st.first_block_decision + b, blocks[b]);
      saw_stage[si] = true;
    } else {
      throw fail("unrecognised part '" + part + "'" +
                 (first_cell_decision_ >= 0 && part.find('~') != std::string::npos
                      ? " (a cell key starts and ends with '|', e.g. |op~0|+|op~0|op~1|+...)"
                      : ""));
    }
  }
  if (first_cell_decision_ >= 0 && !saw_cell) throw fail("the cell part |op~0|+... is missing");
  if (width_decision_ >= 0 && !saw_width) throw fail("the width part w=... is missing");
  for (size_t si = 0; si < stages_.size(); ++si)
    if (!stages_[si].is_cells && !saw_stage[si])
      throw fail("the part s" + std::to_string(si) + "=... is missing");
  return g;
}

int SearchSpace::ScaledChannels(int channels, const Genotype& g) const {
  const double w = width_decision_ >= 0 ? widths_[g[width_decision_]] : widths_[0];
  if (w == 1.0) return channels;
  const int scaled = static_cast<int>(std::lround(channels * w / 4.0)) * 4;
  return std::max(4, scaled);
}

ArchGraph SearchSpace::BuildGraph(const Genotype& g) const {
  const std::string problem = CheckGenotype(g);
  if (!problem.empty()) throw InputError(problem);
  ArchGraph graph;
  TensorShape shape = input_.shape;
  int cur = graph.AddVertex(shape, "input");
  graph.SetInput(cur);
  auto step = [&](const OpSpec& op, int channels, const std::string& role) {
    shape = OutputShape(op, shape, channels);
    const int v = graph.AddVertex(shape, role);
    graph.AddEdge(cur, v, op);
    cur = v;
  };
  step(stem_, ScaledChannels(stem_channels_, g), "stem");
  int cell_index = 0;
  for (size_t si = 0; si < stages_.size(); ++si) {
    const Stage& st = stages_[si];
    const int channels = ScaledChannels(st.channels, g);
    const std::string sname = "stage" + std::to_string(si);
    if (st.is_cells) {
      if (st.reduction) step(*st.reduction, channels, sname + ".reduction");
      if (shape.c != channels) {
        // A cell keeps the shape: adapt channels with a 1x1 conv when a stage widens without
        // a reduction.
        OpSpec adapt{OpKind::kConvBn, 1, 1, 1};
        step(adapt, channels, sname + ".adapt");
      }
      for (int c = 0; c < st.cells; ++c, ++cell_index) {
        const std::string cname = sname + ".cell" + std::to_string(c);
        std::vector<int> nodes{cur};
        for (int j = 1; j < cell_nodes_; ++j)
          nodes.push_back(graph.AddVertex(shape, cname + ".node" + std::to_string(j)));
        for (size_t k = 0; k < cell_edges_.size(); ++k)
          graph.AddEdge(nodes[cell_edges_[k].first], nodes[cell_edges_[k].second],
                        cell_ops_[g[first_cell_decision_ + k]]);
        cur = nodes.back();
      }
    } else {
      const int depth = st.depth_decision >= 0 ? st.depths[g[st.depth_decision]] : st.depths[0];
      for (int b = 0; b < depth; ++b) {
        const int d = st.first_block_decision + b;
        const std::string& label = decisions_[d].labels[g[d]];
        const std::string bname = sname + ".block" + std::to_string(b);
        if (label == "skip") {
          const int v = graph.AddVertex(shape, bname);
          graph.AddEdge(cur, v, OpSpec{OpKind::kSkip, 1, 1, 1});
          cur = v;
          continue;
        }
        const int per_kernel = static_cast<int>(st.expansions.size());
        OpSpec op = st.block;
        op.kernel = st.kernels[g[d] / per_kernel];
        op.expansion = st.expansions[g[d] % per_kernel];
        op.stride = b == 0 ? st.stride : 1;
        const TensorShape in = shape;
        const int src = cur;
        step(op, channels, bname);
        if (op.stride == 1 && in == shape) graph.AddEdge(src, cur, OpSpec{OpKind::kSkip, 1, 1, 1});
      }
    }
  }
  for (size_t i = 0; i < head_.size(); ++i) {
    const HeadOp& h = head_[i];
    const bool last = i + 1 == head_.size();
    step(h.op, last ? input_.num_classes : ScaledChannels(h.channels, g),
         last ? "output" : "head" + std::to_string(i));
  }
  graph.SetOutput(cur);
  return graph;
}

NetworkPlan SearchSpace::Plan(const Genotype& g) const { return BuildGraph(g).Plan(); }
std::string SearchSpace::CanonicalHash(const Genotype& g, EdgeSet set) const {
  return BuildGraph(g).CanonicalHash(set);
}
StaticCosts SearchSpace::Costs(const Genotype& g) const { return BuildGraph(g).Costs(); }
bool SearchSpace::Connected(const Genotype& g) const { return BuildGraph(g).Connected(); }
std::string SearchSpace::ToDot(const Genotype& g) const { return BuildGraph(g).ToDot(Key(g)); }

std::vector<float> SearchSpace::OneHot(const Genotype& g) const {
  std::vector<float> out;
  for (size_t i = 0; i < decisions_.size(); ++i) {
    for (size_t k = 0; k < decisions_[i].labels.size(); ++k)
      out.push_back(static_cast<int>(k) == g[i] ? 1.0f : 0.0f);
  }
  return out;
}

std::vector<bool> SearchSpace::LiveCellEdges(const Genotype& g) const {
  return CellEdges(g, EdgeSet::kLive);
}

std::vector<bool> SearchSpace::CellEdges(const Genotype& g, EdgeSet set) const {
  std::vector<bool> in_set(cell_edges_.size(), false);
  if (first_cell_decision_ < 0) return in_set;
  auto active = [&](size_t k) { return cell_ops_[g[first_cell_decision_ + k]].kind != OpKind::kNone; };
  std::vector<char> fwd(cell_nodes_, 0), bwd(cell_nodes_, 0);
  fwd[0] = 1;
  for (size_t k = 0; k < cell_edges_.size(); ++k)  // sorted by target: a forward sweep suffices
    if (active(k) && fwd[cell_edges_[k].first]) fwd[cell_edges_[k].second] = 1;
  bwd[cell_nodes_ - 1] = 1;
  for (size_t k = cell_edges_.size(); k-- > 0;)
    if (active(k) && bwd[cell_edges_[k].second]) bwd[cell_edges_[k].first] = 1;
  for (size_t k = 0; k < cell_edges_.size(); ++k) {
    const bool reaches_output = active(k) && bwd[cell_edges_[k].second];
    in_set[k] = set == EdgeSet::kAll    ? active(k)
                : set == EdgeSet::kUsed ? reaches_output
                                        : reaches_output && fwd[cell_edges_[k].first];
  }
  return in_set;
}

Genotype SearchSpace::Restricted(const Genotype& g, EdgeSet set) const {
  Genotype r = g;
  if (first_cell_decision_ < 0 || set == EdgeSet::kAll) return r;
  int none_op = -1;
  for (size_t o = 0; o < cell_ops_.size() && none_op < 0; ++o)
    if (cell_ops_[o].kind == OpKind::kNone) none_op = static_cast<int>(o);
  if (none_op < 0) return r;
  const std::vector<bool> kept = CellEdges(g, set);
  for (size_t k = 0; k < cell_edges_.size(); ++k)
    if (!kept[k]) r[first_cell_decision_ + k] = none_op;
  return r;
}

std::vector<float> SearchSpace::CellOpCounts(const Genotype& g, EdgeSet set) const {
  std::vector<float> counts;
  if (first_cell_decision_ < 0) return counts;
  std::vector<int> slot(cell_ops_.size(), -1);  // op -> position in `counts`
  for (size_t o = 0; o < cell_ops_.size(); ++o)
    if (cell_ops_[o].kind != OpKind::kNone) slot[o] = static_cast<int>(counts.size()), counts.push_back(0);
  const std::vector<bool> kept = CellEdges(g, set);  // never a `none` edge
  for (size_t k = 0; k < cell_edges_.size(); ++k)
    if (kept[k]) counts[slot[g[first_cell_decision_ + k]]] += 1;
  return counts;
}

std::vector<Genotype> SearchSpace::Relabelings(const Genotype& g) const {
  std::vector<Genotype> out;
  constexpr int kMaxIntermediate = 8;
  if (first_cell_decision_ < 0 || cell_nodes_ - 2 > kMaxIntermediate || cell_nodes_ < 4) return out;
  std::map<std::pair<int, int>, size_t> edge_index;
  for (size_t k = 0; k < cell_edges_.size(); ++k) edge_index[cell_edges_[k]] = k;
  int none_op = -1;
  for (size_t o = 0; o < cell_ops_.size() && none_op < 0; ++o)
    if (cell_ops_[o].kind == OpKind::kNone) none_op = static_cast<int>(o);
  auto is_none = [&](int op) { return cell_ops_[op].kind == OpKind::kNone; };
  std::vector<int> perm(cell_nodes_);  // perm[old node] = new node; input and output stay
  for (int v = 0; v < cell_nodes_; ++v) perm[v] = v;
  const std::string own = Key(g);
  std::map<std::string, Genotype> found;  // by key: sorted, each once
  while (std::next_permutation(perm.begin() + 1, perm.end() - 1)) {
    Genotype r = g;
    for (size_t k = 0; k < cell_edges_.size(); ++k) r[first_cell_decision_ + k] = none_op;
    bool ok = true;
    for (size_t k = 0; k < cell_edges_.size() && ok; ++k) {
      const int op = g[first_cell_decision_ + k];
      if (is_none(op)) continue;
      const auto it = edge_index.find({perm[cell_edges_[k].first], perm[cell_edges_[k].second]});
      ok = it != edge_index.end();  // the renumbered edge must exist (and point forward)
      if (ok) r[first_cell_decision_ + it->second] = op;
    }
    for (size_t k = 0; k < cell_edges_.size() && ok; ++k) ok = r[first_cell_decision_ + k] >= 0;
    if (!ok) continue;
    std::string key = Key(r);
    if (key != own) found.emplace(std::move(key), std::move(r));
  }
  for (auto& [key, r] : found) out.push_back(std::move(r));
  return out;
}

std::vector<float> SearchSpace::GraphEncoding(const Genotype& g, bool pruned) const {
  return GraphEncoding(g, pruned ? EdgeSet::kLive : EdgeSet::kAll);
}

std::vector<float> SearchSpace::GraphEncoding(const Genotype& g, EdgeSet set) const {
  std::vector<float> out;
  if (first_cell_decision_ >= 0) {
    const std::vector<bool> kept = CellEdges(g, set);
    std::vector<float> adj(static_cast<size_t>(cell_nodes_) * cell_nodes_, 0.0f);
    std::vector<float> ops;
    for (size_t k = 0; k < cell_edges_.size(); ++k) {
      const int op = g[first_cell_decision_ + k];
      const bool keep = kept[k];
      if (keep) adj[cell_edges_[k].first * cell_nodes_ + cell_edges_[k].second] = 1.0f;
      for (size_t o = 0; o < cell_ops_.size(); ++o)
        ops.push_back(keep && static_cast<int>(o) == op ? 1.0f : 0.0f);
    }
    out.insert(out.end(), adj.begin(), adj.end());
    out.insert(out.end(), ops.begin(), ops.end());
  }
  for (const Stage& st : stages_) {
    if (st.is_cells) continue;
    const int depth = st.depth_decision >= 0 ? st.depths[g[st.depth_decision]] : st.depths[0];
    const int max_depth = *std::max_element(st.depths.begin(), st.depths.end());
    const int per_kernel = static_cast<int>(st.expansions.size());
    for (int b = 0; b < max_depth; ++b) {
      const int choice = g[st.first_block_decision + b];
      const bool skip = decisions_[st.first_block_decision + b].labels[choice] == "skip";
      const bool active = b < depth && !skip;
      out.push_back(active ? 1.0f : 0.0f);
      for (size_t k = 0; k < st.kernels.size(); ++k)
        out.push_back(active && choice / per_kernel == static_cast<int>(k) ? 1.0f : 0.0f);
      for (int e = 0; e < per_kernel; ++e)
        out.push_back(active && choice % per_kernel == e ? 1.0f : 0.0f);
    }
  }
  if (width_decision_ >= 0)
    for (size_t w = 0; w < widths_.size(); ++w)
      out.push_back(g[width_decision_] == static_cast<int>(w) ? 1.0f : 0.0f);
  return out;
}

}  // namespace paretonas::space
