#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "space/arch_graph.h"
#include "space/input_error.h"
#include "space/operators.h"
#include "space/search_space.h"
#include "tests/test_paths.h"

namespace paretonas::space {
namespace {

SearchSpace Nb201(std::map<std::string, std::string> set = {}) {
  return SearchSpace::Load("nb201", set, InputSpec{{3, 32, 32}, 10});
}

TEST(Nb201, EnumeratesExactlyTheBenchmarkCells) {
  const std::string csv = testing::Nb201Csv();
  if (csv.empty()) GTEST_SKIP() << "../shared/benchmarks/nb201 is absent; nothing to compare with";
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::set<std::string> table;
  while (std::getline(in, line)) {
    const size_t a = line.find(','), b = line.find(',', a + 1);
    table.insert(line.substr(a + 1, b - a - 1));
  }
  const SearchSpace sp = Nb201();
  std::set<std::string> ours;
  for (const auto& g : sp.Enumerate()) ours.insert(sp.Key(g));
  EXPECT_EQ(ours.size(), 15625u);
  EXPECT_EQ(ours, table);
}

TEST(Nb201, EveryArchStringRoundTrips) {
  const SearchSpace sp = Nb201();
  for (const auto& g : sp.Enumerate()) {
    const std::string key = sp.Key(g);
    ASSERT_EQ(sp.ParseKey(key), g) << key;
  }
}

TEST(Nb201, StaticMacsReproduceReferenceFlops) {
  const SearchSpace sp = Nb201();
  const std::string none = "none", c3 = "nor_conv_3x3";
  auto cell = [](std::vector<std::string> e) {
    return "|" + e[0] + "~0|+|" + e[1] + "~0|" + e[2] + "~1|+|" + e[3] + "~0|" + e[4] + "~1|" +
           e[5] + "~2|";
  };
  const std::vector<std::pair<std::string, double>> cases{
      {cell({none, none, none, none, none, none}), 7.78305},
      {cell({c3, c3, c3, c3, c3, c3}), 220.11969},
      {cell({none, none, none, c3, none, none}), 43.17249},
      {cell({"nor_conv_1x1", none, none, none, none, none}), 11.71521},
  };
  for (const auto& [arch, mflops] : cases) {
    const double macs = static_cast<double>(sp.Costs(sp.ParseKey(arch)).macs) / 1e6;
    EXPECT_NEAR(macs, mflops, mflops * 1e-4) << arch;
  }
}

TEST(Nb201, ParseKeyRejectsMalformedStrings) {
  const SearchSpace sp = Nb201();
  for (const std::string bad :
       {"", "|none~0|", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "garbage"}) {
    EXPECT_THROW(sp.ParseKey(bad), InputError) << bad;
  }
}

// Found by fuzz/fuzz_arch_key: a part given twice used to be accepted, half overwriting the first.
TEST(Keys, APartGivenTwiceIsRefused) {
  const SearchSpace mb = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  EXPECT_NO_THROW(mb.ParseKey("w=0.75;s0=k5e6;s1=k5e1;s2=k3e3,k7e3,k5e3;s3=k3e1,k3e6"));
  EXPECT_THROW(mb.ParseKey("w=0.75;s0=k5e6;s1=k5e1;s2=k3e3,k7e3,k5e3;s2=k3e3;s3=k3e1,k3e6"), InputError);
  EXPECT_THROW(mb.ParseKey("w=0.75;w=1;s0=k5e6;s1=k5e1;s2=k3e3;s3=k3e1"), InputError);
  const SearchSpace nb = Nb201();
  const std::string cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
  EXPECT_THROW(nb.ParseKey(cell + ";" + cell), InputError);
}

std::vector<SearchSpace> AllSpaces() {
  return {Nb201({{"channels", "8"}, {"cells_per_stage", "1"}}),
          SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10}),
          SearchSpace::Load(testing::SourceDir() + "/experiments/spaces/tiny_hybrid.yaml", {},
                            InputSpec{{3, 32, 32}, 10})};
}

TEST(SpaceProperties, SamplesMutationsAndCrossoversAreValid) {
  std::mt19937_64 rng(7);
  for (const SearchSpace& sp : AllSpaces()) {
    for (int i = 0; i < 1500; ++i) {
      const Genotype a = sp.Sample(rng), b = sp.Sample(rng);
      const Genotype m = sp.Mutate(a, 1.0 / 6, rng);
      const Genotype c = sp.Crossover(a, b, rng);
      for (const Genotype& g : {a, m, c}) {
        ASSERT_EQ(sp.CheckGenotype(g), "") << sp.name();
        ASSERT_EQ(sp.BuildGraph(g).Validate(), "") << sp.name() << " " << sp.Key(g);
        ASSERT_EQ(sp.Key(sp.ParseKey(sp.Key(g))), sp.Key(g));
      }
      EXPECT_NE(m, a) << "a mutation must change at least one choice";
    }
  }
}

TEST(SpaceProperties, CrossoverOfIdenticalParentsReturnsTheParent) {
  std::mt19937_64 rng(3);
  for (const SearchSpace& sp : AllSpaces()) {
    for (int i = 0; i < 200; ++i) {
      const Genotype g = sp.Sample(rng);
      EXPECT_EQ(sp.Crossover(g, g, rng), g);
    }
  }
}

TEST(CanonicalHash, InvariantToRelabellingIntermediateNodes) {
  const OpSpec conv{OpKind::kNorConv, 3, 1, 1}, skip{OpKind::kSkip, 1, 1, 1},
      pool{OpKind::kAvgPool, 3, 1, 1};
  const TensorShape s{4, 8, 8};
  // input -> a (conv), input -> b (pool), a -> out (skip), b -> out (conv); vertices added in
  // two different orders.
  ArchGraph g1, g2;
  {
    int in = g1.AddVertex(s, "in"), a = g1.AddVertex(s, "a"), b = g1.AddVertex(s, "b"),
        out = g1.AddVertex(s, "out");
    g1.AddEdge(in, a, conv); g1.AddEdge(in, b, pool); g1.AddEdge(a, out, skip); g1.AddEdge(b, out, conv);
    g1.SetInput(in); g1.SetOutput(out);
  }
  {
    int out = g2.AddVertex(s, "out"), b = g2.AddVertex(s, "b"), in = g2.AddVertex(s, "in"),
        a = g2.AddVertex(s, "a");
    g2.AddEdge(b, out, conv); g2.AddEdge(a, out, skip); g2.AddEdge(in, b, pool); g2.AddEdge(in, a, conv);
    g2.SetInput(in); g2.SetOutput(out);
  }
  EXPECT_EQ(g1.CanonicalHash(), g2.CanonicalHash());
  ArchGraph g3 = g1;  // a different function: swap which branch is pooled
  g3.AddEdge(0, 3, pool);
  EXPECT_NE(g1.CanonicalHash(), g3.CanonicalHash());
}

TEST(CellOpCounts, CountEachOpOnTheEdgesOfTheSetWhereverItSits) {
  const SearchSpace sp = Nb201();
  // 2<-0 conv3 and 2<-1 conv1 feed only node 2, which 3<-2 (none) drops; 1<-0 conv3, 3<-0 skip
  // and 3<-1 pool reach the output. Counted ops: skip, conv1, conv3, pool (none is not).
  const Genotype g = sp.ParseKey(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|none~2|");
  EXPECT_EQ(sp.CellOpCounts(g, EdgeSet::kAll), (std::vector<float>{1, 1, 2, 1}));
  EXPECT_EQ(sp.CellOpCounts(g, EdgeSet::kLive), (std::vector<float>{1, 0, 1, 1}));
  EXPECT_EQ(sp.CellOpCounts(g, EdgeSet::kUsed), (std::vector<float>{1, 0, 1, 1}));
  // Where an op sits does not matter: the same ops on other edges, same counts.
  EXPECT_EQ(sp.CellOpCounts(sp.ParseKey("|skip_connect~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|"
                                        "nor_conv_3x3~0|nor_conv_1x1~1|none~2|"),
                            EdgeSet::kAll),
            (std::vector<float>{1, 1, 2, 1}));
  const SearchSpace chain = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  EXPECT_TRUE(chain.CellOpCounts(Genotype(chain.decisions().size(), 0), EdgeSet::kAll).empty());
}

TEST(Relabelings, SwapNb201sMiddleNodesWhenNoOpJoinsThem) {
  const SearchSpace sp = Nb201();
  // Nodes 1 and 2 swap: 1<-0 conv3 and 2<-0 skip trade places, so do 3<-1 and 3<-2.
  const Genotype g = sp.ParseKey(
      "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|");
  const std::vector<Genotype> r = sp.Relabelings(g);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(sp.Key(r[0]),
            "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_1x1~2|");
  for (EdgeSet set : {EdgeSet::kLive, EdgeSet::kUsed, EdgeSet::kAll})
    EXPECT_EQ(sp.CanonicalHash(r[0], set), sp.CanonicalHash(g, set));
  EXPECT_EQ(sp.Key(sp.Relabelings(r[0]).at(0)), sp.Key(g));  // the swap undoes itself
  // An op on 1->2 would point backwards after the swap; a swap onto itself is no other key.
  EXPECT_TRUE(sp.Relabelings(sp.ParseKey(
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|none~2|")).empty());
  EXPECT_TRUE(sp.Relabelings(sp.ParseKey(
      "|skip_connect~0|+|skip_connect~0|none~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|")).empty());
  // Over all 15,625 cells: the 1,500 pairs of canonical_raw classes (DedupDecides... in
  // search_test) list each other, and nothing else.
  size_t listed = 0;
  for (const Genotype& c : sp.Enumerate()) {
    for (const Genotype& o : sp.Relabelings(c)) {
      ++listed;
      ASSERT_EQ(sp.CanonicalHash(o, EdgeSet::kAll), sp.CanonicalHash(c, EdgeSet::kAll)) << sp.Key(c);
    }
  }
  EXPECT_EQ(listed, 3000u);
  const SearchSpace chain = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  EXPECT_TRUE(chain.Relabelings(Genotype(chain.decisions().size(), 0)).empty());  // no cell
}

TEST(CanonicalHash, IgnoresEdgesThatCannotReachTheOutput) {
  const SearchSpace sp = Nb201();
  // Node 1 feeds nothing (1->2 and 1->3 are none), so edge 0->1 is dead whatever its op.
  const std::string a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
  const std::string b = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
  EXPECT_EQ(sp.CanonicalHash(sp.ParseKey(a)), sp.CanonicalHash(sp.ParseKey(b)));
  // Node 2 is never reached from the input (0->2 and 1->2 are none): 2->3 is dead.
  const std::string c = "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|";
  const std::string d = "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|";
  EXPECT_EQ(sp.CanonicalHash(sp.ParseKey(c)), sp.CanonicalHash(sp.ParseKey(d)));
  EXPECT_NE(sp.CanonicalHash(sp.ParseKey(a)), sp.CanonicalHash(sp.ParseKey(c)));
}

// Brute-force canonical form of an NB201 cell: the edges of `set` (kLive: on an input->output
// path of non-none ops; kUsed: reaching the output; kAll: every non-none one), minimised over the
// relabellings of nodes 1 and 2 that keep edges forward.
std::string BruteForceCanonical(const std::vector<std::string>& ops /* 6 edges in key order */,
                                EdgeSet set = EdgeSet::kLive) {
  const std::vector<std::pair<int, int>> edges{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}};
  std::vector<bool> fwd(4, false), bwd(4, false);
  fwd[0] = true;
  for (int pass = 0; pass < 4; ++pass)
    for (size_t e = 0; e < 6; ++e)
      if (ops[e] != "none" && fwd[edges[e].first]) fwd[edges[e].second] = true;
  bwd[3] = true;
  for (int pass = 0; pass < 4; ++pass)
    for (size_t e = 0; e < 6; ++e)
      if (ops[e] != "none" && bwd[edges[e].second]) bwd[edges[e].first] = true;
  std::vector<std::tuple<int, int, std::string>> kept;
  for (size_t e = 0; e < 6; ++e) {
    const bool keep = ops[e] != "none" &&
                      (set == EdgeSet::kAll || (bwd[edges[e].second] &&
                                                (set == EdgeSet::kUsed || fwd[edges[e].first])));
    if (keep) kept.emplace_back(edges[e].first, edges[e].second, ops[e]);
  }
  if (kept.empty()) return "zero";
  std::string best;
  for (const std::vector<int> perm : {std::vector<int>{0, 1, 2, 3}, std::vector<int>{0, 2, 1, 3}}) {
    std::vector<std::tuple<int, int, std::string>> mapped;
    bool forward = true;
    for (const auto& [u, v, op] : kept) {
      mapped.emplace_back(perm[u], perm[v], op);
      forward &= perm[u] < perm[v];
    }
    if (!forward) continue;
    std::sort(mapped.begin(), mapped.end());
    std::string text;
    for (const auto& [u, v, op] : mapped) text += std::to_string(u) + std::to_string(v) + op + ";";
    if (best.empty() || text < best) best = text;
  }
  return best;
}

TEST(CanonicalHash, PartitionsNb201LikeBruteForceIsomorphism) {
  const SearchSpace sp = Nb201({{"channels", "4"}, {"cells_per_stage", "1"}});
  for (EdgeSet set : {EdgeSet::kLive, EdgeSet::kUsed, EdgeSet::kAll}) {
    SCOPED_TRACE(static_cast<int>(set));
    std::map<std::string, std::string> hash_to_canon, canon_to_hash;
    std::mt19937_64 rng(11);
    for (int i = 0; i < 3000; ++i) {
      const Genotype g = sp.Sample(rng);
      std::vector<std::string> ops;
      for (size_t d = 0; d < g.size(); ++d) ops.push_back(sp.decisions()[d].labels[g[d]]);
      const std::string canon = BruteForceCanonical(ops, set), hash = sp.CanonicalHash(g, set);
      auto [it1, new1] = hash_to_canon.emplace(hash, canon);
      EXPECT_EQ(it1->second, canon) << "hash " << hash << " merges different graphs";
      auto [it2, new2] = canon_to_hash.emplace(canon, hash);
      EXPECT_EQ(it2->second, hash) << "the same graph got two hashes: " << sp.Key(g);
    }
    // Fewer classes the more dead edges are ignored (3000 samples of 15,625 cells).
    EXPECT_GT(hash_to_canon.size(), set == EdgeSet::kLive ? 1000u : 2000u);
  }
}

TEST(CanonicalHash, EdgeSetsKeepMoreOfTheDeadBranches) {
  const SearchSpace sp = Nb201();
  // Node 2 is never reached from the input, but 2->3 feeds the output: used, not live.
  const Genotype c = sp.ParseKey("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_3x3~2|");
  const Genotype d = sp.ParseKey("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|");
  EXPECT_EQ(sp.CanonicalHash(c), sp.CanonicalHash(d));
  EXPECT_NE(sp.CanonicalHash(c, EdgeSet::kUsed), sp.CanonicalHash(d, EdgeSet::kUsed));
  EXPECT_NE(sp.CanonicalHash(c, EdgeSet::kAll), sp.CanonicalHash(d, EdgeSet::kAll));
  // Node 1 feeds nothing: 0->1 is a dead end, run only by a runtime that keeps every edge.
  const Genotype a = sp.ParseKey("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  const Genotype b = sp.ParseKey("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  EXPECT_EQ(sp.CanonicalHash(a, EdgeSet::kUsed), sp.CanonicalHash(b, EdgeSet::kUsed));
  EXPECT_NE(sp.CanonicalHash(a, EdgeSet::kAll), sp.CanonicalHash(b, EdgeSet::kAll));
  EXPECT_EQ(sp.CellEdges(c, EdgeSet::kLive), (std::vector<bool>{true, false, false, true, true, false}));
  EXPECT_EQ(sp.CellEdges(c, EdgeSet::kUsed), (std::vector<bool>{true, false, false, true, true, true}));
  EXPECT_EQ(sp.CellEdges(a, EdgeSet::kUsed), (std::vector<bool>{false, true, false, true, false, true}));
  EXPECT_EQ(sp.CellEdges(a, EdgeSet::kAll), (std::vector<bool>{true, true, false, true, false, true}));
  // Restricted: the cell a runtime that skips the other edges executes.
  EXPECT_EQ(sp.Key(sp.Restricted(c, EdgeSet::kUsed)), sp.Key(c));
  EXPECT_EQ(sp.Key(sp.Restricted(c, EdgeSet::kLive)),
            "|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|");
  EXPECT_EQ(sp.Key(sp.Restricted(a, EdgeSet::kUsed)),
            "|none~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  EXPECT_EQ(sp.Key(sp.Restricted(a, EdgeSet::kAll)), sp.Key(a));
  for (const Genotype& g : {a, b, c, d})
    for (EdgeSet set : {EdgeSet::kLive, EdgeSet::kUsed}) {
      const Genotype r = sp.Restricted(g, set);
      EXPECT_EQ(sp.CellEdges(r, EdgeSet::kAll), sp.CellEdges(g, set)) << sp.Key(g);
      EXPECT_EQ(sp.CanonicalHash(r, set), sp.CanonicalHash(g, set)) << sp.Key(g);
    }
  // The plan marks the same edges (every cell of the network repeats the genotype).
  int used = 0, live = 0;
  for (const PlanEdge& e : sp.Plan(c).edges) {
    used += e.used;
    live += e.live;
    EXPECT_TRUE(!e.live || e.used);
  }
  EXPECT_GT(used, live);
  // The used encoding keeps 2->3 of c; the pruned one drops it.
  const auto enc_used = sp.GraphEncoding(c, EdgeSet::kUsed), enc_live = sp.GraphEncoding(c, EdgeSet::kLive);
  EXPECT_EQ(enc_used[2 * 4 + 3], 1.0f);
  EXPECT_EQ(enc_live[2 * 4 + 3], 0.0f);
}

TEST(Mobilenet, ResidualsAndCostsFollowTheBlocks) {
  const SearchSpace sp = SearchSpace::Load("mobilenet", {}, InputSpec{{1, 28, 28}, 10});
  const Genotype g = sp.ParseKey("w=1;s0=k3e1;s1=k3e1;s2=k3e1;s3=k3e1");
  const NetworkPlan plan = sp.Plan(g);
  // stem(1->16, 28x28), s0 mbconv 16->16 + residual skip, 3 stride-2 blocks, head conv, classifier
  int skips = 0;
  for (const auto& e : plan.edges) skips += e.op.kind == OpKind::kSkip;
  EXPECT_EQ(skips, 1);
  const StaticCosts c = sp.Costs(g);
  EXPECT_EQ(c.params, c.params_pruned);
  // stem: 9*1*16 + 32 = 176; s0 (e=1): dw 9*16+32, project 16*16+32 -> 464
  EXPECT_GT(c.params, 176 + 464);
  EXPECT_EQ(sp.Key(sp.ParseKey("w=0.5;s0=k5e6,skip;s1=k3e1;s2=k3e1,k7e3;s3=k3e1")),
            "w=0.5;s0=k5e6,skip;s1=k3e1;s2=k3e1,k7e3;s3=k3e1");
}

struct BadSpace {
  std::string name;
  std::string yaml;
  std::vector<std::string> expect;  // substrings of the message
};

TEST(SpaceFiles, BadFilesGetMessagesNamingFileLineAndField) {
  const std::string dir = testing::TempDir("space");
  const std::string ok_head =
      "name: t\nstem: {op: conv_bn, channels: 8}\ncell:\n  nodes: 3\n";
  const std::vector<BadSpace> cases{
      {"unknown_op", ok_head + "  ops: [none, conv_9x9_magic]\nstages: [{cells: 1, channels: 8}]\nhead: {op: classifier}\n",
       {"unknown_op.yaml:5", "cell.ops", "conv_9x9_magic", "allowed"}},
      {"cycle", ok_head + "  ops: [none, skip_connect]\n  edges: [[0, 1], [1, 2], [2, 1]]\nstages: [{cells: 1, channels: 8}]\nhead: {op: classifier}\n",
       {"cycle.yaml:6", "cell.edges", "cycle"}},
      {"missing_field", "name: t\nstem: {op: conv_bn, channels: 8}\nhead: {op: classifier}\n",
       {"missing_field.yaml", "stages"}},
      {"wrong_type", ok_head + "  ops: [none, skip_connect]\nstages: [{cells: many, channels: 8}]\nhead: {op: classifier}\n",
       {"wrong_type.yaml:6", "stages[0].cells", "many"}},
      {"unknown_key", ok_head + "  ops: [none, skip_connect]\n  nodez: 3\nstages: [{cells: 1, channels: 8}]\nhead: {op: classifier}\n",
       {"unknown_key.yaml:6", "cell.nodez", "did you mean 'nodes'"}},
      {"bad_head", ok_head + "  ops: [none, skip_connect]\nstages: [{cells: 1, channels: 8}]\nhead: {op: skip_connect}\n",
       {"bad_head.yaml:7", "head[0].op"}},
  };
  for (const auto& c : cases) {
    const std::string path = dir + "/" + c.name + ".yaml";
    testing::WriteText(path, c.yaml);
    try {
      SearchSpace::Load(path, {}, InputSpec{});
      ADD_FAILURE() << c.name << ": loaded without error";
    } catch (const InputError& e) {
      for (const auto& s : c.expect)
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos)
            << c.name << ": '" << e.what() << "' lacks '" << s << "'";
    }
  }
}

TEST(SpaceFiles, ParameterOverridesChangeTheNetwork) {
  const SearchSpace small = Nb201({{"channels", "8"}, {"cells_per_stage", "1"}});
  const SearchSpace big = Nb201();
  const Genotype g(6, 3);
  EXPECT_LT(small.Costs(g).params * 10, big.Costs(g).params);
  EXPECT_THROW(Nb201({{"chanels", "8"}}), InputError);
}

TEST(Operators, RegistryBuildsEveryNamedOperatorAndRejectsOthers) {
  for (const auto& n : SamplerNames()) EXPECT_TRUE(CreateSampler(n));
  for (const auto& n : MutationNames()) EXPECT_TRUE(CreateMutation(n));
  for (const auto& n : CrossoverNames()) EXPECT_TRUE(CreateCrossover(n));
  try {
    CreateMutation("gaussian");
    ADD_FAILURE() << "accepted an unknown mutation";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("per_decision"), std::string::npos) << e.what();
  }
  EXPECT_THROW(CreateCrossover("two_point"), std::invalid_argument);
  EXPECT_THROW(CreateSampler("sobol"), std::invalid_argument);
}

TEST(Operators, EveryOperatorKeepsGenotypesValidAndHonoursItsContract) {
  std::mt19937_64 rng(21);
  for (const SearchSpace& sp : AllSpaces()) {
    for (const auto& mn : MutationNames()) {
      const auto mutation = CreateMutation(mn);
      for (int i = 0; i < 300; ++i) {
        const Genotype p = sp.Sample(rng);
        const Genotype c = mutation->Mutate(sp, p, 1.0 / 6, rng);
        ASSERT_EQ(sp.CheckGenotype(c), "");
        int changed = 0;
        for (size_t d = 0; d < p.size(); ++d) changed += p[d] != c[d];
        EXPECT_GE(changed, 1) << mn;
        if (mn == "single") EXPECT_EQ(changed, 1);
      }
    }
    for (const auto& cn : CrossoverNames()) {
      const auto crossover = CreateCrossover(cn);
      for (int i = 0; i < 300; ++i) {
        const Genotype a = sp.Sample(rng), b = sp.Sample(rng);
        const Genotype c = crossover->Cross(sp, a, b, rng);
        ASSERT_EQ(sp.CheckGenotype(c), "");
        for (size_t d = 0; d < c.size(); ++d) EXPECT_TRUE(c[d] == a[d] || c[d] == b[d]) << cn;
        EXPECT_EQ(crossover->Cross(sp, a, a, rng), a) << cn;
      }
    }
  }
}

TEST(Encodings, GraphEncodingHasAFixedLengthAndPrunesDeadEdges) {
  const SearchSpace sp = Nb201();
  // Node 1 feeds nothing: edge 0->1 is dead.
  const Genotype g = sp.ParseKey("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  const auto raw = sp.GraphEncoding(g, false), pruned = sp.GraphEncoding(g, true);
  ASSERT_EQ(raw.size(), 16u + 6u * 5u);  // 4x4 adjacency + 6 edges x 5 ops
  EXPECT_EQ(raw[0 * 4 + 1], 1.0f);
  EXPECT_EQ(pruned[0 * 4 + 1], 0.0f);
  EXPECT_EQ(raw[0 * 4 + 2], 1.0f);
  EXPECT_EQ(pruned[0 * 4 + 2], 1.0f);
  EXPECT_EQ(sp.LiveCellEdges(g), (std::vector<bool>{false, true, false, true, false, true}));
  const Genotype all = sp.ParseKey("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  EXPECT_EQ(sp.GraphEncoding(all, false), sp.GraphEncoding(all, true));
  std::mt19937_64 rng(8);
  for (const SearchSpace& s : AllSpaces()) {
    const size_t len = s.GraphEncoding(s.Sample(rng), false).size();
    EXPECT_GT(len, 0u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(s.GraphEncoding(s.Sample(rng), true).size(), len);
    EXPECT_EQ(s.OneHot(s.Sample(rng)).size(), [&] {
      size_t n = 0;
      for (const auto& d : s.decisions()) n += d.labels.size();
      return n;
    }());
  }
}

}  // namespace
}  // namespace paretonas::space
