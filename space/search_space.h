// SearchSpace: a search space defined as data (YAML), and the operations on its architectures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "space/network_plan.h"

namespace paretonas::space {

class ArchGraph;  // space/arch_graph.h (Boost.Graph); include it where you need the graph itself.

/// An architecture as the search sees it: one choice index per decision of its space.
using Genotype = std::vector<int>;

/// One place where the search chooses, with the labels of its options.
struct Decision {
  std::string name;                 ///< "cell.0->1", "stage1.depth", "stage2.block0", "width"
  std::vector<std::string> labels;  ///< option labels, index = choice value
};

/// Where the network's input comes from (set by the dataset).
struct InputSpec {
  TensorShape shape{3, 32, 32};
  int num_classes = 10;
};

/// Immutable after Load; every method is const and thread-safe.
class SearchSpace {
 public:
  /// Loads a preset by name ("nb201", "mobilenet") or a YAML file by path. `overrides` set the
  /// file's `parameters` (e.g. {"channels": "8"}). Throws InputError naming file, line and field.
  static SearchSpace Load(const std::string& name_or_path,
                          const std::map<std::string, std::string>& overrides,
                          const InputSpec& input);
  /// Names of the presets compiled into the binary (from space/presets/*.yaml).
  static std::vector<std::string> PresetNames();
  /// Text of a preset's YAML file, or nullopt.
  static std::optional<std::string> PresetText(const std::string& name);

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  const InputSpec& input() const { return input_; }
  const std::vector<Decision>& decisions() const { return decisions_; }
  const std::map<std::string, double>& parameters() const { return parameters_; }
  /// True for spaces with cells: only they have `none` ops, hence dead branches (so the
  /// EdgeSets differ).
  bool HasCells() const { return first_cell_decision_ >= 0; }

  /// Number of genotypes (product of the decisions' sizes), saturating at UINT64_MAX.
  std::uint64_t NumGenotypes() const;
  /// Every distinct architecture key, in decision order. Throws std::length_error when the space
  /// has more than `limit` genotypes.
  std::vector<Genotype> Enumerate(std::uint64_t limit = 10'000'000) const;

  Genotype Sample(std::mt19937_64& rng) const;
  /// Per decision, the option the space fixes (its `fix:` section, or an experiment's
  /// `space.fix`), -1 where it is searched. Sample() honours it; a search proposes only
  /// genotypes that do (Strategy::Ask applies WithFixed to every proposal).
  const std::vector<int>& fixed() const { return fixed_; }
  /// `g` with every fixed decision set to its option.
  Genotype WithFixed(Genotype g) const;
  /// Changes each decision with probability `rate`; always changes at least one.
  Genotype Mutate(const Genotype& parent, double rate, std::mt19937_64& rng) const;
  /// Uniform crossover: each decision from either parent with probability 1/2.
  Genotype Crossover(const Genotype& a, const Genotype& b, std::mt19937_64& rng) const;

  /// Empty when `g` has the right length and every choice is in range; else what is wrong.
  std::string CheckGenotype(const Genotype& g) const;
  /// The space's textual key: the NB201 arch string for cell spaces, "w=..;s1=k3e6,.." for chains.
  std::string Key(const Genotype& g) const;
  /// Inverse of Key (choices of unused block slots become 0). Throws InputError.
  Genotype ParseKey(const std::string& key) const;

  ArchGraph BuildGraph(const Genotype& g) const;
  NetworkPlan Plan(const Genotype& g) const;
  /// See ArchGraph::CanonicalHash: which edges (EdgeSet) make the identity.
  std::string CanonicalHash(const Genotype& g, EdgeSet set = EdgeSet::kLive) const;
  StaticCosts Costs(const Genotype& g) const;
  /// True when the input reaches the output through non-`none` operations.
  bool Connected(const Genotype& g) const;
  std::string ToDot(const Genotype& g) const;
  /// One-hot encoding, one block per decision (length = sum of decision sizes).
  std::vector<float> OneHot(const Genotype& g) const;
  /// Graph encoding for predictors, fixed length per space. Cell part: the cell's adjacency
  /// (nodes x nodes, 1 where an edge carries an op other than `none`) followed by each cell
  /// edge's op one-hot; with `pruned`, edges that cannot reach the cell output or be reached
  /// from the cell input are zeroed. Chain part: per block slot, [active, kernel one-hot,
  /// expansion one-hot]; then the width one-hot.
  std::vector<float> GraphEncoding(const Genotype& g, bool pruned) const;
  /// The same with the edges of `set` kept (kLive: pruned; kAll: raw).
  std::vector<float> GraphEncoding(const Genotype& g, EdgeSet set) const;
  /// Per cell edge (decision order): on an input->output path of non-`none` ops inside the cell.
  std::vector<bool> LiveCellEdges(const Genotype& g) const;
  /// Per cell edge (decision order): in `set` (see EdgeSet), judged inside the cell.
  std::vector<bool> CellEdges(const Genotype& g, EdgeSet set) const;
  /// `g` with every cell edge outside `set` set to `none`: the architecture a runtime that
  /// executes only `set` runs (kUsed: dead ends dropped; kLive: pruned). `g` itself for spaces
  /// without cells or without a `none` op, and for kAll.
  Genotype Restricted(const Genotype& g, EdgeSet set) const;
  /// Per cell op other than `none` (in the cell's op order): how many edges of `set` carry it.
  /// Empty for spaces without cells. Unlike GraphEncoding's per-edge one-hot it does not depend
  /// on where an op sits, so a model can carry what it learns across positions.
  std::vector<float> CellOpCounts(const Genotype& g, EdgeSet set) const;
  /// The other genotypes that write the same cell graph, every edge as written, with the cell's
  /// intermediate nodes renumbered (same canonical hash for every EdgeSet, a different key): in
  /// NB201, swapping nodes 1 and 2 when no op joins them. Sorted by key, without `g`; empty for
  /// spaces without cells, and for cells of more than 8 intermediate nodes (8! orders).
  std::vector<Genotype> Relabelings(const Genotype& g) const;

 private:
  static SearchSpace LoadImpl(const std::string& name_or_path,
                              const std::map<std::string, std::string>& overrides,
                              const InputSpec& input);
  struct Stage {
    bool is_cells = true;
    int cells = 0;                 // cells stage
    std::optional<OpSpec> reduction;
    int channels = 0;
    OpSpec block;                  // blocks stage
    int stride = 1;
    std::vector<int> depths, kernels, expansions;
    bool allow_skip = false;
    int depth_decision = -1;       // index into decisions_
    int first_block_decision = -1;
  };
  struct HeadOp {
    OpSpec op;
    int channels = 0;  // 0: number of classes
  };

  int ScaledChannels(int channels, const Genotype& g) const;
  void AddDecisions();

  std::string name_;
  std::string source_;  // file path or "preset:NAME"
  InputSpec input_;
  std::map<std::string, double> parameters_;
  std::vector<double> widths_;
  int width_decision_ = -1;
  OpSpec stem_;
  int stem_channels_ = 0;
  int cell_nodes_ = 0;
  std::vector<std::pair<int, int>> cell_edges_;  // (from, to), sorted by (to, from)
  std::vector<OpSpec> cell_ops_;
  std::vector<std::string> cell_op_names_;
  int first_cell_decision_ = -1;
  std::vector<Stage> stages_;
  std::vector<HeadOp> head_;
  std::vector<Decision> decisions_;
  std::vector<int> fixed_;  // per decision: the fixed option, -1 when searched
};

}  // namespace paretonas::space
