// Search quality on the real NAS-Bench-201 table: share of the exact Pareto front's cells found
// within 300 and 1000 evaluations, over many seeds, for each strategy.
// Usage: nb201_search_bench CSV LATENCY_COLUMN [SEEDS] [STRATEGY ...]
//   strategies (each with optional "+" suffixes: a StrategyOptions::dedup name, e.g. +key or
//   +canonical_used, canonical hash by default; +connected: reject_disconnected, never propose
//   a cell whose output is cut off from its input; +remeasure[=MARGIN]: remeasure_front, evaluate the
//   node-swapped twins of the trials within MARGIN (default 0.01) of the front; +batch=N:
//   N proposals per generation instead of the population size; +prescreen=K:B: the pre-screen,
//   B proposals a generation scored by the table's synflow column and the static params, of
//   which the best K (NSGA-II survival order on synflow max, params min) are evaluated; the
//   CSV then needs a synflow column, e.g. from zero_cost_nb201_bench; +prescreen_surrogate=K:B
//   and +prescreen_surrogate=K:B:synflow: the best K of B by the surrogates (the strategy's
//   kappa), without and with synflow among their features): random, nsga2 (textbook: population 20, binary tournament, uniform crossover,
//   per-edge mutation 1/6), nsga2_surrogate[:KAPPA[:POOL[:FRACTION[:POPULATION]]]] (surrogate-assisted
//   offspring; defaults kappa 1, pool 20, fraction 0.75)
// BENCH_VERBOSE=1 prints each seed's shares at the checkpoints; BENCH_VERBOSE=2 also lists the
// front cells that seed missed. BENCH_DUMP=FILE appends every trial (seed, id, key) to FILE.
// BENCH_FIRST_SEED=K starts the seeds at K instead of 0. BENCH_MAX_EVALS=N stops each run after N
// evaluations (default 1000), e.g. 300 to screen a setting at the first checkpoint only.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "evaluator/table_evaluator.h"
#include "search/pareto.h"
#include "search/search_loop.h"
#include "search/strategy.h"
#include "space/search_space.h"

using namespace paretonas;

namespace {

struct Stats {
  double mean = 0, sd = 0, min = 0, max = 0;
};
// The upper median (v[n/2] after sorting); `v` must not be empty.
double UpperMedian(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

Stats Summarise(const std::vector<double>& v) {
  Stats s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / (v.size() - 1)) : 0;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CSV LATENCY_COLUMN [SEEDS] [STRATEGY ...]\n", argv[0]);
    return 2;
  }
  const std::string csv = argv[1], lat_col = argv[2];
  const int seeds = argc > 3 ? std::atoi(argv[3]) : 30;
  // BENCH_FIRST_SEED=K runs seeds K..K+SEEDS-1 (default 0): fresh seeds to check a setting
  // chosen on the first ones.
  const int first_seed = std::getenv("BENCH_FIRST_SEED") ? std::atoi(std::getenv("BENCH_FIRST_SEED")) : 0;
  const int max_evals = std::getenv("BENCH_MAX_EVALS") ? std::atoi(std::getenv("BENCH_MAX_EVALS")) : 1000;
  std::vector<std::string> strategies;
  for (int i = 4; i < argc; ++i) strategies.push_back(argv[i]);
  if (strategies.empty()) strategies = {"random", "nsga2", "nsga2_surrogate"};

  const space::SearchSpace sp = space::SearchSpace::Load("nb201", {}, space::InputSpec{});
  evaluator::TableOptions topt;
  topt.path = csv;
  topt.latency_column = lat_col;
  evaluator::TableEvaluator table(topt, nullptr);
  // The pre-screen's view: proxy columns and static costs (loaded only when a strategy asks).
  std::unique_ptr<evaluator::TableEvaluator> untrained;

  // The exact front over every cell of the table.
  const auto all = sp.Enumerate();
  std::vector<search::Point> pts;
  std::vector<std::string> keys;
  std::map<std::string, std::string> key_hash;
  for (const auto& g : all) {
    const auto r = table.Evaluate({0, sp.Key(g), "", g, 0});
    pts.push_back({-r.metrics.at("val_accuracy"), r.metrics.at("latency_ms")});
    keys.push_back(sp.Key(g));
    key_hash[keys.back()] = sp.CanonicalHash(g);
  }
  const auto fronts = search::NonDominatedSort(pts);
  std::set<std::string> front_keys, front_hashes, front_used, front_raw;
  std::vector<search::Point> front_pts;
  for (int i : fronts[0]) {
    front_keys.insert(keys[i]);
    front_hashes.insert(key_hash[keys[i]]);
    front_used.insert(sp.CanonicalHash(all[i], space::EdgeSet::kUsed));
    front_raw.insert(sp.CanonicalHash(all[i], space::EdgeSet::kAll));
    front_pts.push_back(pts[i]);
  }
  // Hypervolume reference: worst accuracy and latency over the table, plus 10% of the range.
  search::Point lo{1e300, 1e300}, hi{-1e300, -1e300};
  for (const auto& p : pts)
    for (int k = 0; k < 2; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
  const search::Point ref{hi[0] + 0.1 * (hi[0] - lo[0]), hi[1] + 0.1 * (hi[1] - lo[1])};
  const double hv_exact = search::Hypervolume(front_pts, ref);
  std::printf("table %s, latency %s: exact front %zu cells (%zu distinct functions by canonical "
              "hash; %zu executed graphs with used edges, %zu with all)\n",
              csv.c_str(), lat_col.c_str(), front_keys.size(), front_hashes.size(),
              front_used.size(), front_raw.size());
  {
    int cut = 0;  // cells whose output does not depend on the input: chance accuracy
    for (int i : fronts[0]) cut += !sp.Connected(all[i]);
    std::printf("  front cells whose output is cut off from the input (never proposed with "
                "+connected): %d\n", cut);
  }
  // Measurement luck on the front: cells that lie far below the median latency of the cells that
  // execute the same graph on a runtime that skips dead ends (same used edges; pixel3). There,
  // finding them is a lottery over the graph's dead-end variants, which no model can rank; on a
  // runtime that runs dead branches (gold_6226) the variants differ in real cost instead. When
  // the table has NB201's arch_index (unrelated to the ops; the order of measurement, as far as
  // its drift shows), also how many of them were measured in a fast stretch: a block of 125
  // consecutive indices whose cells run >= 5% under their graphs' medians.
  {
    std::map<std::string, std::vector<double>> by_used;
    std::vector<std::string> used_hash(all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      used_hash[i] = sp.CanonicalHash(all[i], space::EdgeSet::kUsed);
      by_used[used_hash[i]].push_back(pts[i][1]);
    }
    std::map<std::string, double> median;
    for (const auto& [h, v] : by_used)
      if (v.size() >= 5) median[h] = UpperMedian(v);
    std::vector<size_t> lucky;
    for (int i : fronts[0])
      if (median.count(used_hash[i]) && pts[i][1] <= 0.85 * median[used_hash[i]]) lucky.push_back(i);
    std::printf("  front cells >= 15%% faster than the median of the >= 5 cells with the same used "
                "edges: %zu of %zu\n", lucky.size(), fronts[0].size());
    const auto csv_table = evaluator::ReadCsv(csv);
    const auto& header = csv_table.header;
    if (std::find(header.begin(), header.end(), "arch_index") != header.end()) {
      constexpr long kBlock = 125;
      const int index_col = csv_table.Column(csv, "arch_index");
      const int key_col = csv_table.Column(csv, topt.key_column);
      std::map<std::string, long> index_of;
      for (const auto& row : csv_table.rows) index_of[row[key_col]] = std::stol(row[index_col]);
      std::map<long, std::vector<double>> block_ratios;  // latency / its graph's median, by block
      for (size_t i = 0; i < all.size(); ++i)
        if (median.count(used_hash[i]))
          block_ratios[index_of.at(keys[i]) / kBlock].push_back(pts[i][1] / median[used_hash[i]]);
      std::set<long> fast;
      for (const auto& [b, r] : block_ratios)
        if (UpperMedian(r) <= 0.95) fast.insert(b);
      int in_fast = 0;
      for (size_t i : lucky) in_fast += fast.count(index_of.at(keys[i]) / kBlock);
      std::printf("  of those, measured in a fast stretch of arch_index: %d (fast stretches: %zu of "
                  "%zu blocks of %ld)\n", in_fast, fast.size(), block_ratios.size(), kBlock);
    }
  }

  search::Problem problem;
  problem.space = &sp;
  problem.objectives = {{"val_accuracy", true}, {"latency_ms", false}};
  for (const auto& full_name : strategies) {
    search::StrategyOptions opt;
    search::PrescreenOptions prescreen;  // ranks on synflow and params unless by the surrogates
    prescreen.by = {{"synflow", true}, {"params", false}};
    // "+" suffixes: a StrategyOptions::dedup name, "connected" (reject_disconnected),
    // "remeasure" (remeasure_front), "batch=N" or "prescreen=K:B".
    std::string name = full_name.substr(0, full_name.find('+'));
    for (size_t plus = full_name.find('+'); plus != std::string::npos;) {
      const size_t next = full_name.find('+', plus + 1);
      const std::string token = full_name.substr(plus + 1, next == std::string::npos ? next : next - plus - 1);
      if (token == "connected") {
        opt.reject_disconnected = true;
      } else if (token.rfind("remeasure", 0) == 0) {  // remeasure or remeasure=MARGIN
        opt.remeasure_front = true;
        if (token.size() > 10 && token[9] == '=') opt.remeasure_margin = std::atof(token.c_str() + 10);
      } else if (token.rfind("batch=", 0) == 0) {
        opt.batch = std::atoi(token.c_str() + 6);
      } else if (token.rfind("prescreen=", 0) == 0 && token.find(':') != std::string::npos) {
        prescreen.keep = std::atoi(token.c_str() + 10);
        opt.batch = std::atoi(token.c_str() + token.find(':') + 1);
      } else if (token.rfind("prescreen_surrogate=", 0) == 0 && token.find(':') != std::string::npos) {
        prescreen.surrogate = true;
        prescreen.by.clear();
        prescreen.keep = std::atoi(token.c_str() + 20);
        const size_t colon = token.find(':');
        opt.batch = std::atoi(token.c_str() + colon + 1);
        const size_t second = token.find(':', colon + 1);
        if (second != std::string::npos) prescreen.features.push_back(token.substr(second + 1));
      } else {
        opt.dedup = token;  // checked with the other options below
      }
      plus = next;
    }
    opt.population = 20;
    opt.mutation_rate = 1.0 / 6;
    opt.name = name == "random" ? "random" : "nsga2";
    if (name.rfind("nsga2_surrogate", 0) == 0) {  // nsga2_surrogate[:KAPPA[:POOL[:FRACTION[:POP]]]]
      opt.surrogate = true;
      const size_t a = name.find(':');
      if (a != std::string::npos) {
        opt.surrogate_kappa = std::atof(name.c_str() + a + 1);
        const size_t b = name.find(':', a + 1);
        if (b != std::string::npos) {
          opt.surrogate_pool = std::atoi(name.c_str() + b + 1);
          const size_t c = name.find(':', b + 1);
          if (c != std::string::npos) {
            opt.surrogate_fraction = std::atof(name.c_str() + c + 1);
            const size_t d = name.find(':', c + 1);
            if (d != std::string::npos) opt.population = std::atoi(name.c_str() + d + 1);
          }
        }
      }
    }
    if (const std::string problem = opt.Validate(); !problem.empty()) {
      std::fprintf(stderr, "%s: %s (or the suffixes +connected, +remeasure[=MARGIN], +batch=N)\n", full_name.c_str(), problem.c_str());
      return 2;
    }
    auto strategy = search::CreateStrategy(opt);
    prescreen.kappa = opt.surrogate_kappa;  // the strategy's optimism
    if (prescreen.enabled() && !untrained) untrained = std::make_unique<evaluator::TableEvaluator>(topt, &sp);
    std::map<int, std::vector<double>> share, share_fn, hv_ratio;
    double seconds = 0;
    for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
      search::SearchState state;
      state.seed = seed;
      state.SetRng(std::mt19937_64(seed));
      const auto t0 = std::chrono::steady_clock::now();
      std::set<std::string> found_keys, found_hashes;
      std::vector<search::Point> found_pts;
      size_t next_checkpoint = 0;
      const std::vector<int> checkpoints{300, 1000};
      int evaluated = 0;  // trials evaluated (the pre-screen's screened proposals are not)
      while (evaluated < max_evals) {
        const int left = max_evals - evaluated;
        const int made = strategy->Ask(state, problem, prescreen.enabled() ? 1 << 30 : left);
        if (made == 0) break;
        if (prescreen.enabled()) {  // as search::RunSearch's pre-screen does
          std::vector<std::int64_t> ids;
          for (auto id : state.pending) {
            auto& t = state.trials[id];
            search::EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
            q.rung = search::kPrescreenRung;
            const auto r = untrained->Evaluate(q);
            if (!r.metrics.count("synflow")) {
              std::fprintf(stderr, "%s: %s has no synflow column\n", full_name.c_str(), csv.c_str());
              return 2;
            }
            t.metrics = r.metrics;
            ids.push_back(id);
          }
          const auto keep = search::SelectPrescreened(state, problem, prescreen, ids, std::min(prescreen.keep, left));
          for (auto id : ids)
            if (!std::binary_search(keep.begin(), keep.end(), id)) state.trials[id].state = search::TrialState::kScreened;
          state.pending = keep;
        }
        for (auto id : state.pending) {
          auto& t = state.trials[id];
          search::ApplyResult(t, table.Evaluate({t.id, t.key, t.hash, t.genotype, t.seed}), problem);
        }
        // Count exactly at the checkpoints: trials are numbered in evaluation order.
        for (auto id : state.pending) {
          const auto& t = state.trials[id];
          ++evaluated;
          if (t.state == search::TrialState::kComplete) {
            found_keys.insert(t.key);
            found_hashes.insert(t.hash);
            found_pts.push_back(problem.ObjectiveVector(t));
          }
          while (next_checkpoint < checkpoints.size() && evaluated == checkpoints[next_checkpoint]) {
            int hits = 0, fn_hits = 0;
            for (const auto& k : front_keys) hits += found_keys.count(k);
            for (const auto& h : front_hashes) fn_hits += found_hashes.count(h);
            const int c = checkpoints[next_checkpoint];
            share[c].push_back(100.0 * hits / front_keys.size());
            share_fn[c].push_back(100.0 * fn_hits / front_hashes.size());
            hv_ratio[c].push_back(search::Hypervolume(found_pts, ref) / hv_exact);
            if (const char* v = std::getenv("BENCH_VERBOSE")) {
              std::printf("  seed %d @%d: cells %d, functions %d, hv %.4f\n", seed, c, hits, fn_hits,
                          hv_ratio[c].back());
              if (std::string(v) == "2")  // which front cells were missed
                for (const auto& k : front_keys)
                  if (!found_keys.count(k)) std::printf("    missed %s\n", k.c_str());
            }
            ++next_checkpoint;
          }
        }
        strategy->Tell(state, problem);
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (const char* path = std::getenv("BENCH_DUMP")) {  // every trial: seed, id, key
        if (FILE* f = std::fopen(path, "a")) {
          for (const auto& t : state.trials)
            std::fprintf(f, "%d %lld %s\n", seed, static_cast<long long>(t.id), t.key.c_str());
          std::fclose(f);
        }
      }
    }
    for (int c : {300, 1000}) {
      if (share[c].empty()) continue;
      const Stats s = Summarise(share[c]), f = Summarise(share_fn[c]), h = Summarise(hv_ratio[c]);
      std::printf("%-16s @%4d: front cells found %5.1f%% (sd %4.1f, min %4.1f, max %5.1f) | "
                  "front functions %5.1f%% | HV ratio %.4f (sd %.4f)\n",
                  full_name.c_str(), c, s.mean, s.sd, s.min, s.max, f.mean, h.mean, h.sd);
    }
    std::printf("%-16s %.2f s per %d-evaluation run\n", full_name.c_str(), seconds / seeds, max_evals);
    std::fflush(stdout);
  }
  return 0;
}
