// Variation operators on genotypes, each a small interface chosen by name in one registry.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "space/search_space.h"

namespace paretonas::space {

/// Proposes an architecture from nothing (initial populations, random search, fallbacks).
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual Genotype Sample(const SearchSpace& space, std::mt19937_64& rng) const = 0;
};

/// Changes a parent; must return a different, valid genotype whenever the space allows it.
class Mutation {
 public:
  virtual ~Mutation() = default;
  /// `rate`: per-decision probability (operators may ignore it; see each one's contract).
  virtual Genotype Mutate(const SearchSpace& space, const Genotype& parent, double rate,
                          std::mt19937_64& rng) const = 0;
};

/// Combines two parents; crossing a genotype with itself returns it unchanged.
class Crossover {
 public:
  virtual ~Crossover() = default;
  virtual Genotype Cross(const SearchSpace& space, const Genotype& a, const Genotype& b,
                         std::mt19937_64& rng) const = 0;
};

/// Names known to the registry, for validation and --help.
const std::vector<std::string>& SamplerNames();    ///< uniform
const std::vector<std::string>& MutationNames();   ///< per_decision, single
const std::vector<std::string>& CrossoverNames();  ///< uniform, one_point

/// The one registry. Throw std::invalid_argument naming the allowed names.
std::unique_ptr<Sampler> CreateSampler(const std::string& name);
std::unique_ptr<Mutation> CreateMutation(const std::string& name);
std::unique_ptr<Crossover> CreateCrossover(const std::string& name);

}  // namespace paretonas::space
