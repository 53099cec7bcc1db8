// The search engine's own per-generation cost at population 1,000 on the NB201 space, with an
// instant evaluator: Ask (tournaments, variation, hashing, dedup), Tell (survival), and the
// whole RunSearch loop per generation (journal appends with fsync, trials.jsonl, front.csv,
// hypervolume, two atomic checkpoints). Usage: generation_overhead_bench [GENERATIONS]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "evaluator/worker_pool.h"
#include "search/search_loop.h"
#include "search/strategy.h"
#include "space/search_space.h"

using namespace paretonas;

namespace {

// Deterministic pseudo-metrics from the canonical hash: instant and spread out.
class InstantEvaluator : public evaluator::Evaluator {
 public:
  evaluator::EvalResult Evaluate(const evaluator::EvalRequest& r) override {
    const unsigned long long h = std::stoull(r.hash, nullptr, 16);
    evaluator::EvalResult out;
    out.trial_id = r.trial_id;
    out.ok = true;
    out.metrics["val_accuracy"] = 50 + (h % 5000) / 100.0;
    out.metrics["latency_ms"] = 1 + ((h >> 20) % 5000) / 1000.0 + out.metrics["val_accuracy"] / 50;
    return out;
  }
  std::string Describe() const override { return "instant"; }
};

double Ms(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int generations = argc > 1 ? std::atoi(argv[1]) : 5;
  const space::SearchSpace sp = space::SearchSpace::Load("nb201", {}, space::InputSpec{});
  search::Problem problem;
  problem.space = &sp;
  problem.objectives = {{"val_accuracy", true}, {"latency_ms", false}};
  search::StrategyOptions opt;
  opt.population = 1000;
  auto nsga = search::CreateStrategy(opt);
  InstantEvaluator ev;

  // Ask and Tell alone.
  search::SearchState s;
  s.seed = 1;
  s.SetRng(std::mt19937_64(1));
  std::vector<double> ask_ms, tell_ms;
  for (int g = 0; g < generations; ++g) {
    auto t0 = std::chrono::steady_clock::now();
    nsga->Ask(s, problem, 1000);
    ask_ms.push_back(Ms(t0));
    for (auto id : s.pending) {
      auto& t = s.trials[id];
      search::ApplyResult(t, ev.Evaluate({t.id, t.key, t.hash, t.genotype, t.seed}), problem);
    }
    t0 = std::chrono::steady_clock::now();
    nsga->Tell(s, problem);
    tell_ms.push_back(Ms(t0));
  }
  // The whole loop with its files.
  const std::string dir = "/tmp/paretonas-overhead-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  search::SearchState state;
  state.seed = 1;
  state.SetRng(std::mt19937_64(1));
  evaluator::WorkerPool pool(ev, 1);
  search::RunOptions ro;
  ro.run_dir = dir;
  ro.max_generations = generations;
  const auto t0 = std::chrono::steady_clock::now();
  search::RunSearch(problem, *nsga, state, pool, ro);
  const double total = Ms(t0);
  std::printf("population 1000, %d generations (%zu trials)\n", generations, state.trials.size());
  for (int g = 0; g < generations; ++g)
    std::printf("  generation %d: Ask %.1f ms, Tell %.1f ms\n", g, ask_ms[g], tell_ms[g]);
  std::printf("whole loop: %.1f ms per generation (journal fsyncs, trial files, checkpoints, hypervolume included)\n",
              total / generations);
  std::printf("checkpoint size %.1f KiB\n", std::filesystem::file_size(dir + "/checkpoint.bin") / 1024.0);
  std::filesystem::remove_all(dir);
  return 0;
}
