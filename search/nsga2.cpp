#include "search/nsga2.h"

#include <algorithm>

namespace paretonas::search {

void Nsga2::PrepareAsk(const SearchState& state, const Problem& problem) const {
  RankAndCrowd(state, problem, state.population, &rank_, &crowding_);
}

size_t Nsga2::Tournament(std::mt19937_64& rng) const {
  std::uniform_int_distribution<size_t> pick(0, rank_.size() - 1);
  const size_t a = pick(rng), b = pick(rng);
  // Ranks already encode constraint-domination (infeasible fronts come after feasible ones).
  if (rank_[a] != rank_[b]) return rank_[a] < rank_[b] ? a : b;
  return crowding_[b] > crowding_[a] ? b : a;
}

Proposal Nsga2::Propose(const SearchState& state, const Problem& problem,
                        std::mt19937_64& rng) const {
  const space::SearchSpace& sp = *problem.space;
  if (state.population.size() < 2) return {sampler_->Sample(sp, rng), {}};
  const Trial& pa = state.trials[state.population[Tournament(rng)]];
  const Trial& pb = state.trials[state.population[Tournament(rng)]];
  std::bernoulli_distribution do_cross(options_.crossover_prob);
  space::Genotype child = pa.genotype;
  std::vector<std::int64_t> parents{pa.id};
  if (do_cross(rng)) {
    child = crossover_->Cross(sp, pa.genotype, pb.genotype, rng);
    if (pb.id != pa.id) parents.push_back(pb.id);
  }
  return {mutation_->Mutate(sp, child, MutationRate(problem), rng), parents};
}

void Nsga2::Survive(SearchState& state, const Problem& problem,
                    const std::vector<std::int64_t>& finished) const {
  std::vector<std::int64_t> pool = state.population;
  for (std::int64_t id : finished)
    if (state.trials[id].state == TrialState::kComplete) pool.push_back(id);
  std::vector<std::int64_t> survivors = SurvivalOrder(state, problem, pool);
  survivors.resize(std::min<size_t>(survivors.size(), options_.population));
  std::sort(survivors.begin(), survivors.end());
  state.population = survivors;
}

}  // namespace paretonas::search
