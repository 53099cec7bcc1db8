#include "search/nsga2.h"

#include <algorithm>
#include <functional>
#include <map>

namespace paretonas::search {

void Nsga2::PrepareAsk(const SearchState& state, const Problem& problem) const {
  parents_ = state.population;
  RankAndCrowd(state, problem, parents_, &rank_, &crowding_);
  const size_t want = static_cast<size_t>(options_.population);
  if (!options_.parents_from_rungs || parents_.size() >= want) return;
  // The fill: stopped trials, highest rung first; within a rung by its own results. Each rung's
  // ranks come after those of the rungs above it, so a tournament prefers a complete trial to
  // any stopped one and a higher rung to a lower.
  std::map<int, std::vector<std::int64_t>, std::greater<int>> by_rung;
  for (const Trial& t : state.trials)
    if (t.state == TrialState::kStopped && t.rung >= 0) by_rung[t.rung].push_back(t.id);
  int next_rank = 0;
  for (int r : rank_) next_rank = std::max(next_rank, r + 1);
  for (const auto& [rung, ids] : by_rung) {
    if (parents_.size() >= want) break;
    std::vector<std::int64_t> chosen = SurvivalOrder(state, problem, ids);
    chosen.resize(std::min(chosen.size(), want - parents_.size()));
    std::vector<int> rank;
    std::vector<double> crowding;
    RankAndCrowd(state, problem, chosen, &rank, &crowding);
    int top = 0;
    for (size_t i = 0; i < chosen.size(); ++i) {
      parents_.push_back(chosen[i]);
      rank_.push_back(next_rank + rank[i]);
      crowding_.push_back(crowding[i]);
      top = std::max(top, rank[i]);
    }
    next_rank += top + 1;
  }
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
  if (parents_.size() < 2) return {sampler_->Sample(sp, rng), {}};
  const Trial& pa = state.trials[parents_[Tournament(rng)]];
  const Trial& pb = state.trials[parents_[Tournament(rng)]];
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
