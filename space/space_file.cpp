// Reading a search space: the embedded presets and the user's YAML space files (stages of
// chains and cells, widths, their parameters and expressions), checked and turned into the
// space's decisions. The operations on genotypes are in search_space.cpp.
#include "space/search_space.h"

#include <algorithm>
#include <array>
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
             "head", "fix"});
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
  // Fixed decisions: the file's `fix:` map, then the experiment's (overrides "fix:NAME"), each
  // with where it came from; resolved once the decisions exist.
  std::vector<std::array<std::string, 3>> fixes;  // {decision, option, where}
  if (const YAML::Node fix = root["fix"]) {
    if (!fix.IsMap())
      throw InputError(Where(file, fix) + "field 'fix': expected a map of decision: option, e.g. "
                       "{\"cell.0->1\": nor_conv_3x3}");
    for (const auto& kv : fix) {
      const std::string key = yamlutil::KeyName(file, kv.first);
      fixes.push_back({key, AsString(file, "fix." + key, kv.second), Where(file, kv.second) + "field 'fix." + key + "'"});
    }
  }
  for (const auto& [key, value] : overrides) {
    if (key.rfind("fix:", 0) == 0) {
      fixes.push_back({key.substr(4), value, file + ": space.fix." + key.substr(4)});
      continue;
    }
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
  s.fixed_.assign(s.decisions_.size(), -1);
  for (const auto& [name, option, where] : fixes) {
    std::vector<std::string> names;
    for (const auto& d : s.decisions_) names.push_back(d.name);
    const auto d = std::find(names.begin(), names.end(), name);
    if (d == names.end()) {
      std::string msg = where + ": no decision '" + name + "' in this space; its decisions: ";
      for (size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + names[i];
      throw InputError(msg);
    }
    const auto& labels = s.decisions_[d - names.begin()].labels;
    const auto o = std::find(labels.begin(), labels.end(), option);
    if (o == labels.end()) {
      std::string msg = where + ": '" + option + "' is not an option of " + name + "; allowed: ";
      for (size_t i = 0; i < labels.size(); ++i) msg += (i ? ", " : "") + labels[i];
      throw InputError(msg);
    }
    s.fixed_[d - names.begin()] = static_cast<int>(o - labels.begin());
  }
  if (std::all_of(s.fixed_.begin(), s.fixed_.end(), [](int f) { return f >= 0; }))
    throw InputError(file + ": every decision is fixed: nothing is left to search");
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

}  // namespace paretonas::space
