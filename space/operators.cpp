#include "space/operators.h"

#include <algorithm>
#include <stdexcept>

namespace paretonas::space {
namespace {

/// Each decision uniformly and independently.
class UniformSampler : public Sampler {
 public:
  Genotype Sample(const SearchSpace& space, std::mt19937_64& rng) const override {
    return space.Sample(rng);
  }
};

/// Each decision changes with probability `rate` to another value; at least one changes.
class PerDecisionMutation : public Mutation {
 public:
  Genotype Mutate(const SearchSpace& space, const Genotype& parent, double rate,
                  std::mt19937_64& rng) const override {
    return space.Mutate(parent, rate, rng);
  }
};

/// Exactly one decision (uniformly chosen among those with 2+ options) changes; `rate` unused.
class SingleMutation : public Mutation {
 public:
  Genotype Mutate(const SearchSpace& space, const Genotype& parent, double,
                  std::mt19937_64& rng) const override {
    std::vector<size_t> open;
    for (size_t i = 0; i < space.decisions().size(); ++i)
      if (space.decisions()[i].labels.size() > 1) open.push_back(i);
    Genotype g = parent;
    if (open.empty()) return g;
    const size_t d = open[std::uniform_int_distribution<size_t>(0, open.size() - 1)(rng)];
    const int n = static_cast<int>(space.decisions()[d].labels.size());
    int v = std::uniform_int_distribution<int>(0, n - 2)(rng);
    if (v >= g[d]) ++v;
    g[d] = v;
    return g;
  }
};

/// Each decision from either parent with probability 1/2.
class UniformCrossover : public Crossover {
 public:
  Genotype Cross(const SearchSpace& space, const Genotype& a, const Genotype& b,
                 std::mt19937_64& rng) const override {
    return space.Crossover(a, b, rng);
  }
};

/// Decisions before a random cut from `a`, the rest from `b` (keeps neighbouring choices,
/// such as the blocks of one stage, together).
class OnePointCrossover : public Crossover {
 public:
  Genotype Cross(const SearchSpace&, const Genotype& a, const Genotype& b,
                 std::mt19937_64& rng) const override {
    Genotype g = a;
    if (a.size() < 2) return g;
    const size_t cut = std::uniform_int_distribution<size_t>(1, a.size() - 1)(rng);
    for (size_t i = cut; i < g.size() && i < b.size(); ++i) g[i] = b[i];
    return g;
  }
};

std::string Allowed(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const std::vector<std::string>& SamplerNames() {
  static const std::vector<std::string> k{"uniform"};
  return k;
}
const std::vector<std::string>& MutationNames() {
  static const std::vector<std::string> k{"per_decision", "single"};
  return k;
}
const std::vector<std::string>& CrossoverNames() {
  static const std::vector<std::string> k{"uniform", "one_point"};
  return k;
}

std::unique_ptr<Sampler> CreateSampler(const std::string& name) {
  if (name == "uniform") return std::make_unique<UniformSampler>();
  throw std::invalid_argument("sampler '" + name + "' is unknown; allowed: " + Allowed(SamplerNames()));
}

std::unique_ptr<Mutation> CreateMutation(const std::string& name) {
  if (name == "per_decision") return std::make_unique<PerDecisionMutation>();
  if (name == "single") return std::make_unique<SingleMutation>();
  throw std::invalid_argument("mutation '" + name + "' is unknown; allowed: " + Allowed(MutationNames()));
}

std::unique_ptr<Crossover> CreateCrossover(const std::string& name) {
  if (name == "uniform") return std::make_unique<UniformCrossover>();
  if (name == "one_point") return std::make_unique<OnePointCrossover>();
  throw std::invalid_argument("crossover '" + name + "' is unknown; allowed: " + Allowed(CrossoverNames()));
}

}  // namespace paretonas::space
