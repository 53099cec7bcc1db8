#include "space/search_space.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "space/arch_graph.h"
#include "space/input_error.h"
#include "space/yaml_util.h"

namespace paretonas::space {

// Defined in the generated presets_embedded.cpp (CMake embeds space/presets/*.yaml).
const std::map<std::string, std::string>& EmbeddedPresets();

namespace {

using yamlutil::AsBool;
using yamlutil::AsInt;
using yamlutil::AsIntList;
using yamlutil::AsString;
using yamlutil::CheckKeys;
using yamlutil::Where;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string FormatNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Evaluates "channels", "16", "channels*2", "base*3/2" against the parameters.
int EvalExpr(const std::string& file, const std::string& field, const YAML::Node& node,
             const std::map<std::string, double>& params) {
  const std::string text = AsString(file, field, node);
  double value = 1;
  char op = '*';
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find_first_of("*/", i);
    if (j == std::string::npos) j = text.size();
    std::string term = text.substr(i, j - i);
    term.erase(std::remove(term.begin(), term.end(), ' '), term.end());
    double t = 0;
    char* end = nullptr;
    const double num = std::strtod(term.c_str(), &end);
    if (!term.empty() && end && *end == '\0') {
      t = num;
    } else if (params.count(term)) {
      t = params.at(term);
    } else {
      std::string known;
      for (const auto& [k, v] : params) known += (known.empty() ? "" : ", ") + k;
      throw InputError(Where(file, node) + "field '" + field + "': '" + text +
                       "' is not an integer or an expression of parameters (" +
                       (known.empty() ? "none defined" : known) + ") with * and /");
    }
    value = op == '*' ? value * t : value / t;
    if (j == text.size()) break;
    op = text[j];
    i = j + 1;
  }
  const int result = static_cast<int>(std::lround(value));
  if (result <= 0) {
    throw InputError(Where(file, node) + "field '" + field + "': '" + text + "' evaluates to " +
                     std::to_string(result) + "; must be a positive integer");
  }
  return result;
}

OpSpec ParseOp(const std::string& file, const std::string& field, const YAML::Node& node) {
  OpSpec op;
  std::string error;
  if (!ParseOpName(AsString(file, field, node), &op, &error))
    throw InputError(Where(file, node) + "field '" + field + "': " + error);
  return op;
}

std::string BlockLabel(int kernel, int expansion) {
  return "k" + std::to_string(kernel) + "e" + std::to_string(expansion);
}

}  // namespace

std::vector<std::string> SearchSpace::PresetNames() {
  std::vector<std::string> names;
  for (const auto& [k, v] : EmbeddedPresets()) names.push_back(k);
  return names;
}

std::optional<std::string> SearchSpace::PresetText(const std::string& name) {
  const auto& presets = EmbeddedPresets();
  auto it = presets.find(name);
  if (it == presets.end()) return std::nullopt;
  return it->second;
}

SearchSpace SearchSpace::Load(const std::string& name_or_path,
                              const std::map<std::string, std::string>& overrides,
                              const InputSpec& input) {
  try {
    return LoadImpl(name_or_path, overrides, input);
  } catch (const YAML::Exception& e) {  // anything the field checks did not name (fuzz-found)
    throw InputError(name_or_path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

SearchSpace SearchSpace::LoadImpl(const std::string& name_or_path,
                                  const std::map<std::string, std::string>& overrides,
                                  const InputSpec& input) {
  SearchSpace s;
  s.input_ = input;
  YAML::Node root;
  std::string file = name_or_path;
  if (auto text = PresetText(name_or_path)) {
    file = "preset:" + name_or_path;
    root = YAML::Load(*text);
  } else {
    std::ifstream probe(name_or_path);
    if (!probe) {
      std::string names;
      for (const auto& n : PresetNames()) names += (names.empty() ? "" : ", ") + n;
      std::string msg = "space '" + name_or_path + "': not a preset (" + names + ") and no such file";
      const std::string close = yamlutil::ClosestWord(name_or_path, PresetNames());
      if (!close.empty()) msg += "; did you mean '" + close + "'?";
      throw InputError(msg);
    }
    root = yamlutil::LoadFile(name_or_path);
  }
  s.source_ = file;
  CheckKeys(file, "", root,
            {"name", "description", "parameters", "width_multiplier", "stem", "cell", "stages",
             "head"});
  for (const char* required : {"name", "stem", "stages", "head"}) {
    if (!root[required]) {
      throw InputError(file + ": missing required field '" + required +
                       "' (a space needs name, stem, stages and head)");
    }
  }
  s.name_ = AsString(file, "name", root["name"]);

  if (root["parameters"]) {
    CheckKeys(file, "parameters", root["parameters"], [&] {
      std::vector<std::string> keys;
      for (const auto& kv : root["parameters"]) keys.push_back(yamlutil::KeyName(file, kv.first));
      return keys;
    }());
    for (const auto& kv : root["parameters"]) {
      const std::string key = yamlutil::KeyName(file, kv.first);
      s.parameters_[key] = yamlutil::AsDouble(file, "parameters." + key, kv.second);
    }
  }
  for (const auto& [key, value] : overrides) {
    if (!s.parameters_.count(key)) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : s.parameters_) keys.push_back(k);
      std::string msg = file + ": --set " + key + "=" + value + ": unknown space parameter '" +
                        key + "'";
      const std::string close = yamlutil::ClosestWord(key, keys);
      if (!close.empty()) msg += "; did you mean '" + close + "'?";
      throw InputError(msg);
    }
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || v <= 0) {
      throw InputError(file + ": --set " + key + "=" + value +
                       ": space parameters take a positive number");
    }
    s.parameters_[key] = v;
  }

  if (root["width_multiplier"]) {
    const YAML::Node w = root["width_multiplier"];
    if (!w.IsSequence() || w.size() == 0) {
      throw InputError(Where(file, w) +
                       "field 'width_multiplier': expected a non-empty list of numbers");
    }
    for (size_t i = 0; i < w.size(); ++i) {
      const double v = yamlutil::AsDouble(file, "width_multiplier", w[i]);
      if (v <= 0 || v > 4) {
        throw InputError(Where(file, w[i]) + "field 'width_multiplier': " + FormatNumber(v) +
                         " is out of range (0, 4]");
      }
      s.widths_.push_back(v);
    }
  } else {
    s.widths_ = {1.0};
  }

  const YAML::Node stem = root["stem"];
  CheckKeys(file, "stem", stem, {"op", "kernel", "stride", "channels"});
  if (!stem["op"] || !stem["channels"])
    throw InputError(Where(file, stem) + "field 'stem': needs 'op' and 'channels'");
  s.stem_ = ParseOp(file, "stem.op", stem["op"]);
  if (s.stem_.kind != OpKind::kConvBn && s.stem_.kind != OpKind::kConvBnRelu) {
    throw InputError(Where(file, stem["op"]) + "field 'stem.op': '" + stem["op"].Scalar() +
                     "' is not a stem op; allowed: conv_bn, conv_bn_relu");
  }
  if (stem["kernel"]) s.stem_.kernel = AsInt(file, "stem.kernel", stem["kernel"]);
  if (stem["stride"]) s.stem_.stride = AsInt(file, "stem.stride", stem["stride"]);
  if (s.stem_.kernel < 1 || s.stem_.kernel % 2 == 0 || s.stem_.stride < 1 || s.stem_.stride > 2) {
    throw InputError(Where(file, stem) +
                     "field 'stem': kernel must be odd and positive, stride 1 or 2");
  }
  s.stem_channels_ = EvalExpr(file, "stem.channels", stem["channels"], s.parameters_);

  if (root["cell"]) {
    const YAML::Node cell = root["cell"];
    CheckKeys(file, "cell", cell, {"nodes", "ops", "edges"});
    if (!cell["nodes"] || !cell["ops"])
      throw InputError(Where(file, cell) + "field 'cell': needs 'nodes' and 'ops'");
    s.cell_nodes_ = AsInt(file, "cell.nodes", cell["nodes"]);
    if (s.cell_nodes_ < 2 || s.cell_nodes_ > 8) {
      throw InputError(Where(file, cell["nodes"]) + "field 'cell.nodes': " +
                       std::to_string(s.cell_nodes_) + " is out of range [2, 8]");
    }
    if (const YAML::Node edges = cell["edges"]) {
      if (!edges.IsSequence() || edges.size() == 0)
        throw InputError(Where(file, edges) + "field 'cell.edges': expected a list of [from, to] pairs");
      for (size_t i = 0; i < edges.size(); ++i) {
        const std::vector<int> e = AsIntList(file, "cell.edges[" + std::to_string(i) + "]", edges[i]);
        if (e.size() != 2 || e[0] < 0 || e[1] < 1 || e[0] >= s.cell_nodes_ ||
            e[1] >= s.cell_nodes_ || e[0] == e[1]) {
          throw InputError(Where(file, edges[i]) + "field 'cell.edges[" + std::to_string(i) +
                           "]': expected [from, to] with 0 <= from < " +
                           std::to_string(s.cell_nodes_) + ", 1 <= to < " +
                           std::to_string(s.cell_nodes_) + ", from != to (node 0 is the input)");
        }
        const std::pair<int, int> edge{e[0], e[1]};
        if (std::find(s.cell_edges_.begin(), s.cell_edges_.end(), edge) != s.cell_edges_.end())
          throw InputError(Where(file, edges[i]) + "field 'cell.edges': duplicate edge [" +
                           std::to_string(e[0]) + ", " + std::to_string(e[1]) + "]");
        s.cell_edges_.push_back(edge);
      }
      // Depth-first search for a cycle, so that the message can name a node on it.
      std::vector<int> color(s.cell_nodes_, 0);
      std::function<int(int)> visit = [&](int u) -> int {
        color[u] = 1;
        for (const auto& [a, b] : s.cell_edges_) {
          if (a != u) continue;
          if (color[b] == 1) return b;
          if (color[b] == 0)
            if (int c = visit(b); c >= 0) return c;
        }
        color[u] = 2;
        return -1;
      };
      for (int v = 0; v < s.cell_nodes_; ++v) {
        const int c = color[v] == 0 ? visit(v) : -1;
        if (c >= 0)
          throw InputError(Where(file, edges) + "field 'cell.edges': the edges form a cycle "
                           "through node " + std::to_string(c) + "; a cell must be acyclic");
      }
      for (int j = 1; j < s.cell_nodes_; ++j) {
        if (std::none_of(s.cell_edges_.begin(), s.cell_edges_.end(),
                         [&](const auto& e) { return e.second == j; }))
          throw InputError(Where(file, edges) + "field 'cell.edges': node " + std::to_string(j) +
                           " has no input edge");
      }
    } else {
      for (int j = 1; j < s.cell_nodes_; ++j)
        for (int i = 0; i < j; ++i) s.cell_edges_.emplace_back(i, j);
    }
    std::sort(s.cell_edges_.begin(), s.cell_edges_.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second < b.second : a.first < b.first; });
    const YAML::Node ops = cell["ops"];
    if (!ops.IsSequence() || ops.size() == 0)
      throw InputError(Where(file, ops) + "field 'cell.ops': expected a non-empty list of ops");
    for (size_t i = 0; i < ops.size(); ++i) {
      const OpSpec op = ParseOp(file, "cell.ops", ops[i]);
      if (op.kind != OpKind::kNone && op.kind != OpKind::kSkip && op.kind != OpKind::kNorConv &&
          op.kind != OpKind::kAvgPool && op.kind != OpKind::kMaxPool) {
        throw InputError(Where(file, ops[i]) + "field 'cell.ops': '" + ops[i].Scalar() +
                         "' cannot label a cell edge (it changes the shape); allowed: none, "
                         "skip_connect, nor_conv_KxK, avg_pool_3x3, max_pool_3x3");
      }
      s.cell_ops_.push_back(op);
      s.cell_op_names_.push_back(ops[i].Scalar());
    }
  }

  const YAML::Node stages = root["stages"];
  if (!stages.IsSequence() || stages.size() == 0)
    throw InputError(Where(file, stages) + "field 'stages': expected a non-empty list");
  for (size_t i = 0; i < stages.size(); ++i) {
    const std::string f = "stages[" + std::to_string(i) + "]";
    const YAML::Node st = stages[i];
    CheckKeys(file, f, st,
              {"cells", "reduction", "channels", "blocks", "stride", "depth", "kernel",
               "expansion", "skip"});
    Stage stage;
    if (!st["channels"]) throw InputError(Where(file, st) + "field '" + f + ".channels': missing");
    stage.channels = EvalExpr(file, f + ".channels", st["channels"], s.parameters_);
    if (st["cells"] && st["blocks"]) {
      throw InputError(Where(file, st) + "field '" + f +
                       "': has both 'cells' and 'blocks'; a stage is one or the other");
    }
    if (st["cells"]) {
      if (!root["cell"]) {
        throw InputError(Where(file, st) + "field '" + f +
                         ".cells': the space has no 'cell' section defining the cell");
      }
      stage.is_cells = true;
      stage.cells = EvalExpr(file, f + ".cells", st["cells"], s.parameters_);
      if (st["reduction"]) {
        OpSpec red = ParseOp(file, f + ".reduction", st["reduction"]);
        if (red.kind != OpKind::kResNetBasic && red.kind != OpKind::kConvBn &&
            red.kind != OpKind::kConvBnRelu) {
          throw InputError(Where(file, st["reduction"]) + "field '" + f + ".reduction': '" +
                           st["reduction"].Scalar() +
                           "' is not a reduction; allowed: resnet_basic, conv_bn, conv_bn_relu");
        }
        red.stride = 2;
        stage.reduction = red;
      }
      for (const char* k : {"stride", "depth", "kernel", "expansion", "skip"}) {
        if (st[k]) {
          throw InputError(Where(file, st[k]) + "field '" + f + "." + k +
                           "': only a 'blocks' stage takes it");
        }
      }
    } else if (st["blocks"]) {
      stage.is_cells = false;
      stage.block = ParseOp(file, f + ".blocks", st["blocks"]);
      if (stage.block.kind != OpKind::kMBConv) {
        throw InputError(Where(file, st["blocks"]) + "field '" + f + ".blocks': '" +
                         st["blocks"].Scalar() + "' is not a block op; allowed: mbconv");
      }
      stage.stride = st["stride"] ? AsInt(file, f + ".stride", st["stride"]) : 1;
      if (stage.stride != 1 && stage.stride != 2) {
        throw InputError(Where(file, st["stride"]) + "field '" + f + ".stride': " +
                         std::to_string(stage.stride) + " is not allowed; allowed: 1, 2");
      }
      auto list = [&](const char* key, std::vector<int> def) {
        return st[key] ? AsIntList(file, f + "." + key, st[key]) : def;
      };
      stage.depths = list("depth", {1});
      stage.kernels = list("kernel", {3});
      stage.expansions = list("expansion", {6});
      for (int d : stage.depths)
        if (d < 1 || d > 8)
          throw InputError(Where(file, st["depth"]) + "field '" + f + ".depth': " +
                           std::to_string(d) + " is out of range [1, 8]");
      for (int k : stage.kernels)
        if (k < 1 || k > 9 || k % 2 == 0)
          throw InputError(Where(file, st["kernel"]) + "field '" + f + ".kernel': " +
                           std::to_string(k) + " is not allowed; allowed: odd sizes 1..9");
      for (int e : stage.expansions)
        if (e < 1 || e > 8)
          throw InputError(Where(file, st["expansion"]) + "field '" + f + ".expansion': " +
                           std::to_string(e) + " is out of range [1, 8]");
      stage.allow_skip = st["skip"] ? AsBool(file, f + ".skip", st["skip"]) : false;
      if (st["reduction"])
        throw InputError(Where(file, st["reduction"]) + "field '" + f +
                         ".reduction': a 'blocks' stage reduces with its 'stride'");
    } else {
      throw InputError(Where(file, st) + "field '" + f +
                       "': needs 'cells' (a cell stage) or 'blocks' (a chain stage)");
    }
    s.stages_.push_back(stage);
  }

  YAML::Node head = root["head"];
  std::vector<YAML::Node> head_nodes;
  if (head.IsSequence()) {
    for (size_t i = 0; i < head.size(); ++i) head_nodes.push_back(head[i]);
  } else {
    head_nodes.push_back(head);
  }
  for (size_t i = 0; i < head_nodes.size(); ++i) {
    const std::string f = "head[" + std::to_string(i) + "]";
    CheckKeys(file, f, head_nodes[i], {"op", "kernel", "channels"});
    if (!head_nodes[i]["op"]) throw InputError(Where(file, head_nodes[i]) + f + ".op: missing");
    HeadOp h;
    h.op = ParseOp(file, f + ".op", head_nodes[i]["op"]);
    const bool last = i + 1 == head_nodes.size();
    const bool classifier =
        h.op.kind == OpKind::kClassifier || h.op.kind == OpKind::kBnReluClassifier;
    if (last != classifier) {
      throw InputError(Where(file, head_nodes[i]) + "field '" + f + ".op': " +
                       (last ? "the last head op must be classifier or bn_relu_classifier"
                             : "classifier ops may only end the head"));
    }
    if (!classifier && h.op.kind == OpKind::kMaxPoolDown) {
      if (head_nodes[i]["kernel"] || head_nodes[i]["channels"])
        throw InputError(Where(file, head_nodes[i]) + "field '" + f +
                         "': max_pool_2x2 takes no kernel or channels (it keeps the channels)");
    } else if (!classifier) {
      if (h.op.kind != OpKind::kConvBn && h.op.kind != OpKind::kConvBnRelu &&
          h.op.kind != OpKind::kDenseRelu) {
        throw InputError(Where(file, head_nodes[i]["op"]) + "field '" + f +
                         ".op': allowed before the classifier: conv_bn, conv_bn_relu, dense_relu, "
                         "max_pool_2x2");
      }
      if (head_nodes[i]["kernel"])
        h.op.kernel = AsInt(file, f + ".kernel", head_nodes[i]["kernel"]);
      if (!head_nodes[i]["channels"])
        throw InputError(Where(file, head_nodes[i]) + "field '" + f + ".channels': missing");
      h.channels = EvalExpr(file, f + ".channels", head_nodes[i]["channels"], s.parameters_);
    }
    s.head_.push_back(h);
  }
  s.AddDecisions();
  if (s.decisions_.empty()) throw InputError(file + ": the space has no choice to search");
  // Validate the shapes once on a sample, so that a broken space fails at load time.
  const ArchGraph g = s.BuildGraph(Genotype(s.decisions_.size(), 0));
  const std::string problem = g.Validate();
  if (!problem.empty()) throw InputError(file + ": invalid network: " + problem);
  return s;
}

void SearchSpace::AddDecisions() {
  if (widths_.size() > 1) {
    width_decision_ = static_cast<int>(decisions_.size());
    Decision d{"width", {}};
    for (double w : widths_) d.labels.push_back(FormatNumber(w));
    decisions_.push_back(d);
  }
  const bool has_cell_stage =
      std::any_of(stages_.begin(), stages_.end(), [](const Stage& s) { return s.is_cells; });
  if (has_cell_stage) {
    first_cell_decision_ = static_cast<int>(decisions_.size());
    for (const auto& [i, j] : cell_edges_)
      decisions_.push_back({"cell." + std::to_string(i) + "->" + std::to_string(j), cell_op_names_});
  }
  for (size_t si = 0; si < stages_.size(); ++si) {
    Stage& st = stages_[si];
    if (st.is_cells) continue;
    const std::string prefix = "stage" + std::to_string(si);
    if (st.depths.size() > 1) {
      st.depth_decision = static_cast<int>(decisions_.size());
      Decision d{prefix + ".depth", {}};
      for (int v : st.depths) d.labels.push_back(std::to_string(v));
      decisions_.push_back(d);
    }
    st.first_block_decision = static_cast<int>(decisions_.size());
    const int max_depth = *std::max_element(st.depths.begin(), st.depths.end());
    for (int b = 0; b < max_depth; ++b) {
      Decision d{prefix + ".block" + std::to_string(b), {}};
      for (int k : st.kernels)
        for (int e : st.expansions) d.labels.push_back(BlockLabel(k, e));
      if (st.allow_skip && b > 0) d.labels.push_back("skip");
      decisions_.push_back(d);
    }
  }
}

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
    g[i] = pick(rng);
  }
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
