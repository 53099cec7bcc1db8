#include "search/strategy.h"

#include <algorithm>
#include <numeric>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include "search/nsga2.h"
#include "search/pareto.h"
#include "search/surrogate.h"

namespace paretonas::search {

std::string StrategyOptions::Validate() const {
  std::ostringstream e;
  const auto& names = StrategyNames();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    e << "search.strategy: '" << name << "' is unknown; allowed: nsga2, random, "
      << "regularized_evolution";
  } else if (population < 2) {
    e << "search.population: " << population << " must be >= 2";
  } else if (batch < 0) {
    e << "search.batch: " << batch << " must be >= 0 (0 means the population size)";
  } else if (crossover_prob < 0 || crossover_prob > 1) {
    e << "search.crossover_prob: " << crossover_prob << " must be in [0, 1]";
  } else if (mutation_rate > 1) {
    e << "search.mutation_rate: " << mutation_rate << " must be <= 1 (negative: 1/#decisions)";
  } else if (sample_size < 2 || sample_size > population) {
    e << "search.sample_size: " << sample_size << " must be in [2, population=" << population
      << "]";
  } else if (max_tries < 1) {
    e << "search.max_tries: " << max_tries << " must be >= 1";
  } else if (surrogate_pool < 1) {
    e << "search.surrogate_pool: " << surrogate_pool << " must be >= 1";
  } else if (surrogate_kappa < 0 || !std::isfinite(surrogate_kappa)) {
    e << "search.surrogate_kappa: " << surrogate_kappa << " must be >= 0";
  } else if (!(surrogate_fraction >= 0 && surrogate_fraction <= 1)) {
    e << "search.surrogate_fraction: " << surrogate_fraction << " must be in [0, 1]";
  } else if (!(remeasure_margin >= 0 && std::isfinite(remeasure_margin))) {
    e << "search.remeasure_margin: " << remeasure_margin << " must be >= 0";
  } else if (remeasure_after < 0) {
    e << "search.remeasure_after: " << remeasure_after << " must be >= 0 (generations)";
  } else {
    auto check = [&](const char* field, const std::string& value,
                     const std::vector<std::string>& allowed) {
      if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
      e << "search." << field << ": '" << value << "' is unknown; allowed:";
      for (size_t i = 0; i < allowed.size(); ++i) e << (i ? ", " : " ") << allowed[i];
    };
    check("dedup", dedup, DedupNames());
    if (e.str().empty()) check("sampler", sampler, space::SamplerNames());
    if (e.str().empty()) check("mutation", mutation, space::MutationNames());
    if (e.str().empty()) check("crossover", crossover, space::CrossoverNames());
  }
  return e.str();
}

Strategy::Strategy(StrategyOptions options)
    : options_(std::move(options)),
      sampler_(space::CreateSampler(options_.sampler)),
      mutation_(space::CreateMutation(options_.mutation)),
      crossover_(space::CreateCrossover(options_.crossover)) {}

const std::vector<std::string>& DedupNames() {
  static const std::vector<std::string> kNames{"canonical", "canonical_used", "canonical_raw", "key"};
  return kNames;
}

const std::vector<std::string>& StrategyNames() {
  static const std::vector<std::string> kNames{"nsga2", "random", "regularized_evolution"};
  return kNames;
}

double Strategy::MutationRate(const Problem& p) const {
  return options_.mutation_rate >= 0
             ? options_.mutation_rate
             : 1.0 / std::max<size_t>(1, p.space->decisions().size());
}

int Strategy::Ask(SearchState& state, const Problem& problem, int max_new) const {
  if (!state.pending.empty()) throw std::logic_error("Ask: the previous generation is pending");
  PrepareAsk(state, problem);
  std::mt19937_64 rng = state.Rng();
  const int want = std::min(max_new, BatchSize());
  const space::SearchSpace& sp = *problem.space;
  // The duplicate identity (options().dedup); `hash`, the canonical hash, when that is it.
  auto identity = [&](const space::Genotype& g, const std::string& hash) {
    if (options_.dedup == "key") return sp.Key(g);
    if (options_.dedup == "canonical_used") return sp.CanonicalHash(g, space::EdgeSet::kUsed);
    if (options_.dedup == "canonical_raw") return sp.CanonicalHash(g, space::EdgeSet::kAll);
    return hash;
  };
  std::set<std::string> seen;
  for (const Trial& t : state.trials) seen.insert(identity(t.genotype, t.hash));
  auto admissible = [&](const space::Genotype& g, std::string* hash) {
    if (options_.reject_disconnected && !sp.Connected(g)) return false;
    *hash = sp.CanonicalHash(g);
    return !seen.count(identity(g, *hash));
  };
  std::int64_t complete = 0;
  for (const Trial& t : state.trials) complete += t.state == TrialState::kComplete;
  const bool use_surrogate =
      options_.surrogate && complete >= std::max<std::int64_t>(10, options_.population);
  std::vector<Proposal> proposals;
  std::vector<std::string> hashes;
  // The user's architectures first (search.enqueue), those not evaluated yet, in their order;
  // kept whatever the surrogate or the pre-screen would say (counted with the second
  // measurements below), and drawn from no generator.
  for (const std::string& key : options_.enqueue) {
    if (static_cast<int>(proposals.size()) >= want) break;
    space::Genotype g = sp.ParseKey(key);
    const std::string hash = sp.CanonicalHash(g);
    if (!seen.insert(identity(g, hash)).second) continue;
    hashes.push_back(hash);
    proposals.push_back(Proposal{std::move(g), {}});
  }
  // Second measurements first: the unevaluated renumberings of the trials within
  // remeasure_margin of the current front (objectives normalised by the trials' ranges) that are
  // at least remeasure_after generations old, closest first, at most half the generation.
  if (options_.remeasure_front) {
    std::set<std::string> keys;
    for (const Trial& t : state.trials) keys.insert(t.key);
    std::vector<std::int64_t> ids;
    std::vector<Point> pts;
    for (const Trial& t : state.trials)
      if (t.state == TrialState::kComplete && problem.Violation(t) <= 0)
        ids.push_back(t.id), pts.push_back(problem.ObjectiveVector(t));
    std::vector<std::pair<double, std::int64_t>> near;  // (epsilon, id)
    if (!pts.empty()) {
      const size_t m = pts[0].size();
      Point lo = pts[0], hi = pts[0];
      for (const Point& p : pts)
        for (size_t j = 0; j < m; ++j) lo[j] = std::min(lo[j], p[j]), hi[j] = std::max(hi[j], p[j]);
      for (Point& p : pts)
        for (size_t j = 0; j < m; ++j) p[j] = hi[j] > lo[j] ? (p[j] - lo[j]) / (hi[j] - lo[j]) : 0.0;
      const auto fronts = NonDominatedSort(pts);
      std::vector<Point> front;
      for (int i : fronts[0]) front.push_back(pts[i]);
      for (size_t i = 0; i < pts.size(); ++i) {
        const double eps = EpsilonToFront(pts[i], front);
        if (eps <= options_.remeasure_margin &&
            state.trials[ids[i]].generation + options_.remeasure_after <= state.generation)
          near.emplace_back(eps, ids[i]);
      }
    }
    std::sort(near.begin(), near.end());
    const int cap = std::max(1, want / 2);
    for (const auto& [eps, id] : near) {
      if (static_cast<int>(proposals.size()) >= cap) break;
      for (space::Genotype& r : sp.Relabelings(state.trials[id].genotype)) {
        if (static_cast<int>(proposals.size()) >= cap) break;
        const std::string key = sp.Key(r);
        if (!keys.insert(key).second) continue;
        hashes.push_back(state.trials[id].hash);  // a renumbering keeps the canonical hash
        seen.insert(identity(r, hashes.back()));  // dedup "key": not again from the pool
        proposals.push_back(Proposal{std::move(r), {id}});
      }
    }
  }
  const int remeasured = static_cast<int>(proposals.size());
  const int fresh = want - remeasured;
  const int pool = remeasured + (use_surrogate ? fresh * options_.surrogate_pool : fresh);
  for (int i = remeasured; i < pool; ++i) {
    Proposal p;
    std::string hash;
    bool ok = false;
    // Every proposal honours the space's fixed decisions (its samplers and operators need not).
    for (int t = 0; t < options_.max_tries && !ok; ++t) {
      p = Propose(state, problem, rng);
      p.genotype = sp.WithFixed(std::move(p.genotype));
      ok = admissible(p.genotype, &hash);
    }
    for (int t = 0; t < options_.max_tries && !ok; ++t) {  // fall back to fresh samples
      p = Proposal{sp.WithFixed(sampler_->Sample(sp, rng)), {}};
      ok = admissible(p.genotype, &hash);
    }
    if (!ok) break;  // the space looks exhausted
    seen.insert(identity(p.genotype, hash));
    proposals.push_back(std::move(p));
    hashes.push_back(hash);
  }
  std::vector<std::size_t> chosen;
  for (int i = 0; i < remeasured; ++i) chosen.push_back(static_cast<size_t>(i));
  if (use_surrogate && fresh > 0) {
    // The first proposals stay as the strategy made them; the surrogates choose the rest of the
    // generation from the remaining pool.
    const size_t own = std::min(
        proposals.size(), static_cast<size_t>(remeasured + std::lround(
                                                  fresh * (1.0 - options_.surrogate_fraction))));
    for (size_t i = remeasured; i < own; ++i) chosen.push_back(i);
    std::vector<space::Genotype> rest;
    for (size_t i = own; i < proposals.size(); ++i) rest.push_back(proposals[i].genotype);
    for (size_t pick : SelectBySurrogate(state, problem, rest, static_cast<size_t>(want) - own,
                                         options_.surrogate_kappa,
                                         TrialSeed(state.seed, -1 - state.generation)))
      chosen.push_back(own + pick);
  } else if (!use_surrogate) {
    for (size_t i = remeasured; i < proposals.size(); ++i) chosen.push_back(i);
  }
  int made = 0;
  for (std::size_t c : chosen) {
    Trial trial;
    trial.id = static_cast<std::int64_t>(state.trials.size());
    trial.generation = state.generation;
    trial.genotype = proposals[c].genotype;
    trial.key = sp.Key(proposals[c].genotype);
    trial.hash = hashes[c];
    trial.parents = proposals[c].parents;
    trial.seed = TrialSeed(state.seed, trial.id);
    state.pending.push_back(trial.id);
    state.trials.push_back(std::move(trial));
    ++made;
  }
  state.SetRng(rng);
  return made;
}

void Strategy::Tell(SearchState& state, const Problem& problem) const {
  for (std::int64_t id : state.pending) {
    if (!state.trials.at(id).finished())
      throw std::logic_error("Tell: trial " + std::to_string(id) + " is not finished");
  }
  std::vector<std::int64_t> finished = state.pending;
  std::sort(finished.begin(), finished.end());
  Survive(state, problem, finished);
  state.pending.clear();
  ++state.generation;
}

void RankAndCrowd(const SearchState& state, const Problem& problem,
                  const std::vector<std::int64_t>& ids, std::vector<int>* rank,
                  std::vector<double>* crowding) {
  std::vector<Point> pts;
  std::vector<double> viol;
  for (std::int64_t id : ids) {
    pts.push_back(problem.ObjectiveVector(state.trials[id]));
    viol.push_back(problem.Violation(state.trials[id]));
  }
  rank->assign(ids.size(), 0);
  crowding->assign(ids.size(), 0.0);
  const auto fronts = ConstrainedSort(pts, viol);
  for (size_t f = 0; f < fronts.size(); ++f) {
    const std::vector<double> cd = CrowdingDistance(pts, fronts[f]);
    for (size_t k = 0; k < fronts[f].size(); ++k) {
      (*rank)[fronts[f][k]] = static_cast<int>(f);
      (*crowding)[fronts[f][k]] = cd[k];
    }
  }
}

std::vector<std::int64_t> SurvivalOrder(const SearchState& state, const Problem& problem,
                                        const std::vector<std::int64_t>& ids,
                                        const std::vector<double>* tie) {
  std::vector<int> rank;
  std::vector<double> crowding;
  RankAndCrowd(state, problem, ids, &rank, &crowding);
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (rank[a] != rank[b]) return rank[a] < rank[b];
    if (crowding[a] != crowding[b]) return crowding[a] > crowding[b];
    if (tie && (*tie)[a] != (*tie)[b]) return (*tie)[a] < (*tie)[b];
    return ids[a] < ids[b];
  });
  std::vector<std::int64_t> out;
  out.reserve(ids.size());
  for (size_t i : order) out.push_back(ids[i]);
  return out;
}

namespace {

/// Random search: uniform samples; the population is unused.
class RandomSearch : public Strategy {
 public:
  using Strategy::Strategy;

 protected:
  void PrepareAsk(const SearchState&, const Problem&) const override {}
  Proposal Propose(const SearchState&, const Problem& problem,
                   std::mt19937_64& rng) const override {
    return {sampler_->Sample(*problem.space, rng), {}};
  }
  void Survive(SearchState&, const Problem&, const std::vector<std::int64_t>&) const override {}
};

/// Regularized (aging) evolution (Real et al., 2019) made multi-objective: the parent is the
/// best of a random sample by constraint-domination rank, then crowding; the oldest member dies.
class RegularizedEvolution : public Strategy {
 public:
  using Strategy::Strategy;

 protected:
  void PrepareAsk(const SearchState& state, const Problem& problem) const override {
    RankAndCrowd(state, problem, state.population, &rank_, &crowding_);
  }
  Proposal Propose(const SearchState& state, const Problem& problem,
                   std::mt19937_64& rng) const override {
    const auto& pop = state.population;
    if (static_cast<int>(pop.size()) < options_.population) {
      return {sampler_->Sample(*problem.space, rng), {}};
    }
    std::uniform_int_distribution<size_t> pick(0, pop.size() - 1);
    size_t best = pick(rng);
    for (int s = 1; s < options_.sample_size; ++s) {
      const size_t c = pick(rng);
      if (rank_[c] < rank_[best] || (rank_[c] == rank_[best] && crowding_[c] > crowding_[best]))
        best = c;
    }
    const Trial& parent = state.trials[pop[best]];
    return {mutation_->Mutate(*problem.space, parent.genotype, MutationRate(problem), rng), {parent.id}};
  }
  void Survive(SearchState& state, const Problem&,
               const std::vector<std::int64_t>& finished) const override {
    for (std::int64_t id : finished)
      if (state.trials[id].state == TrialState::kComplete) state.population.push_back(id);
    while (static_cast<int>(state.population.size()) > options_.population)
      state.population.erase(state.population.begin());
  }
  // NOTE: scratch for the current Ask only, recomputed from the state by PrepareAsk.
  mutable std::vector<int> rank_;
  mutable std::vector<double> crowding_;
};

}  // namespace

std::unique_ptr<Strategy> CreateStrategy(const StrategyOptions& options) {
  const std::string problem = options.Validate();
  if (!problem.empty()) throw std::invalid_argument(problem);
  if (options.name == "nsga2") return std::make_unique<Nsga2>(options);
  if (options.name == "random") return std::make_unique<RandomSearch>(options);
  return std::make_unique<RegularizedEvolution>(options);
}

}  // namespace paretonas::search
