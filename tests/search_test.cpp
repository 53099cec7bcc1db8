#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include <unistd.h>
#include <zlib.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "evaluator/mpi_cluster.h"
#include "evaluator/worker_pool.h"
#include "search/fidelity.h"
#include "search/latency_stage.h"
#include "search/pareto.h"
#include "search/run_files.h"
#include "search/search_loop.h"
#include "search/strategy.h"
#include "predictors/kernel_regression.h"
#include "search/surrogate.h"
#include "space/search_space.h"
#include "tests/test_paths.h"

namespace paretonas::search {
namespace {

// NB201 cells on a tiny network (4 channels, one cell per stage, 8x8 inputs): cheap to build.
space::SearchSpace TinyNb201() {
  return space::SearchSpace::Load("nb201", {{"channels", "4"}, {"cells_per_stage", "1"}},
                                  space::InputSpec{{1, 8, 8}, 10});
}

std::vector<Point> RandomPoints(int n, int m, std::mt19937_64& rng, int grid = 0) {
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> gi(0, grid);
  std::vector<Point> pts(n, Point(m));
  for (auto& p : pts)
    for (auto& v : p) v = grid ? gi(rng) : u(rng);
  return pts;
}

std::vector<int> BruteForceRanks(const std::vector<Point>& pts) {
  std::vector<int> rank(pts.size(), -1);
  std::vector<bool> done(pts.size(), false);
  for (int r = 0;; ++r) {
    std::vector<int> front;
    for (size_t i = 0; i < pts.size(); ++i) {
      if (done[i]) continue;
      bool dominated = false;
      for (size_t j = 0; j < pts.size() && !dominated; ++j)
        dominated = !done[j] && j != i && Dominates(pts[j], pts[i]);
      if (!dominated) front.push_back(static_cast<int>(i));
    }
    if (front.empty()) return rank;
    for (int i : front) {
      rank[i] = r;
      done[i] = true;
    }
  }
}

TEST(NonDominatedSort, MatchesBruteForceOnRandomSets) {
  std::mt19937_64 rng(1);
  for (int m : {2, 3, 4}) {
    for (int trial = 0; trial < 30; ++trial) {
      // A coarse grid makes ties and duplicates common.
      const auto pts = RandomPoints(120, m, rng, trial % 2 ? 5 : 0);
      const auto fronts = NonDominatedSort(pts);
      const auto expect = BruteForceRanks(pts);
      std::vector<int> got(pts.size(), -1);
      for (size_t f = 0; f < fronts.size(); ++f)
        for (int i : fronts[f]) got[i] = static_cast<int>(f);
      ASSERT_EQ(got, expect) << "m=" << m << " trial " << trial;
    }
  }
}

TEST(FirstFront, IsNonDominatedSortsFirstFrontOnRandomSets) {
  std::mt19937_64 rng(2);
  for (int m : {1, 2, 3, 4}) {
    for (int trial = 0; trial < 30; ++trial) {
      const auto pts = RandomPoints(trial == 0 ? 0 : 150, m, rng, trial % 2 ? 4 : 0);  // ties and duplicates
      const auto fronts = NonDominatedSort(pts);
      EXPECT_EQ(FirstFront(pts), fronts.empty() ? std::vector<int>{} : fronts[0]) << "m=" << m << " trial " << trial;
    }
  }
  EXPECT_EQ(FirstFront({{1, 5}, {2, 2}, {5, 1}, {3, 3}, {4, 4}, {2, 2}}), (std::vector<int>{0, 1, 2, 5}));
}

TEST(NonDominatedSort, HandMadeSet) {
  const std::vector<Point> pts{{1, 5}, {2, 2}, {5, 1}, {3, 3}, {4, 4}, {2, 2}};
  const auto fronts = NonDominatedSort(pts);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<int>{0, 1, 2, 5}));  // duplicates share a front
  EXPECT_EQ(fronts[1], (std::vector<int>{3}));
  EXPECT_EQ(fronts[2], (std::vector<int>{4}));
}

TEST(ConstrainedSort, FeasibleBeatsInfeasibleAndSmallerViolationWins) {
  const std::vector<Point> pts{{5, 5}, {1, 1}, {0, 0}, {9, 9}};
  const std::vector<double> viol{0, 0.5, 2.0, 0};
  const auto fronts = ConstrainedSort(pts, viol);
  ASSERT_EQ(fronts.size(), 4u);
  EXPECT_EQ(fronts[0], std::vector<int>{0});  // feasible, non-dominated
  EXPECT_EQ(fronts[1], std::vector<int>{3});  // feasible, dominated by 0
  EXPECT_EQ(fronts[2], std::vector<int>{1});  // infeasible, violation 0.5
  EXPECT_EQ(fronts[3], std::vector<int>{2});  // infeasible, violation 2 (even though it dominates)
}

TEST(CrowdingDistance, HandMadeFront) {
  const std::vector<Point> pts{{0, 4}, {1, 2}, {3, 1}, {4, 0}};
  const auto d = CrowdingDistance(pts, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(d[0]));
  EXPECT_TRUE(std::isinf(d[3]));
  EXPECT_NEAR(d[1], (3.0 - 0) / 4 + (4.0 - 1) / 4, 1e-12);
  EXPECT_NEAR(d[2], (4.0 - 1) / 4 + (2.0 - 0) / 4, 1e-12);
}

// Exact hypervolume by summing the dominated cells of the coordinate grid.
double BruteForceHypervolume(const std::vector<Point>& pts, const Point& ref) {
  const size_t m = ref.size();
  std::vector<std::vector<double>> coords(m);
  for (size_t k = 0; k < m; ++k) {
    std::set<double> c{ref[k]};
    for (const auto& p : pts)
      if (p[k] < ref[k]) c.insert(p[k]);
    coords[k].assign(c.begin(), c.end());
  }
  double total = 0;
  std::vector<size_t> idx(m, 0);
  while (true) {
    bool ok = true;
    Point lo(m);
    double vol = 1;
    for (size_t k = 0; k < m; ++k) {
      if (idx[k] + 1 >= coords[k].size()) { ok = false; break; }
      lo[k] = coords[k][idx[k]];
      vol *= coords[k][idx[k] + 1] - lo[k];
    }
    if (ok) {
      for (const auto& p : pts) {
        bool dom = true;
        for (size_t k = 0; k < m; ++k) dom &= p[k] <= lo[k];
        if (dom) { total += vol; break; }
      }
    }
    size_t k = 0;
    while (k < m && ++idx[k] + 1 >= coords[k].size()) idx[k++] = 0;
    if (k == m) return total;
  }
}

TEST(Hypervolume, MatchesBruteForceIn2DAnd3D) {
  std::mt19937_64 rng(5);
  for (int m : {2, 3}) {
    for (int trial = 0; trial < 20; ++trial) {
      const auto pts = RandomPoints(25, m, rng, trial % 2 ? 6 : 0);
      const Point ref(m, trial % 2 ? 5.0 : 0.9);
      EXPECT_NEAR(Hypervolume(pts, ref), BruteForceHypervolume(pts, ref), 1e-9) << m;
    }
  }
  EXPECT_EQ(Hypervolume({{2, 2}}, {1, 1}), 0.0);
  EXPECT_NEAR(Hypervolume({{0, 0}}, {1, 2}), 2.0, 1e-12);
}

TEST(Hypervolume, MatchesBruteForceIn4DAnd5DAndRefusesHugeInputs) {
  std::mt19937_64 rng(6);
  for (int m : {4, 5}) {
    for (int trial = 0; trial < 10; ++trial) {
      const auto pts = RandomPoints(m == 4 ? 16 : 10, m, rng, trial % 2 ? 6 : 0);
      const Point ref(m, trial % 2 ? 5.0 : 0.9);
      EXPECT_NEAR(Hypervolume(pts, ref), BruteForceHypervolume(pts, ref), 1e-9) << m;
    }
  }
  EXPECT_NEAR(Hypervolume({{0, 0, 0, 0}}, {1, 2, 3, 4}), 24.0, 1e-12);
  EXPECT_TRUE(std::isnan(Hypervolume(RandomPoints(200, 6, rng, 0), Point(6, 2.0))));
}

// A ZDT1-style problem on a discrete space: 6 decisions of 5 options, x_i = choice / 4.
const char* kToySpace = R"(name: toy
stem: {op: conv_bn, kernel: 1, channels: 4}
stages:
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
  - {blocks: mbconv, channels: 4, kernel: [1, 3, 5, 7, 9], expansion: [1]}
head: {op: classifier}
)";

class Zdt1Evaluator : public evaluator::Evaluator {
 public:
  evaluator::EvalResult Evaluate(const evaluator::EvalRequest& r) override {
    evaluator::EvalResult out;
    out.trial_id = r.trial_id;
    std::vector<double> x;
    for (int g : r.genotype) x.push_back(g / 4.0);
    double g = 0;
    for (size_t i = 1; i < x.size(); ++i) g += x[i];
    g = 1 + 9 * g / (x.size() - 1);
    out.ok = true;
    if (r.rung == kPrescreenRung) {
      // The pre-screen: a "proxy" that ranks like the error, blurred per architecture, and a
      // static cost; no error, no latency.
      int h = 0;
      for (int v : r.genotype) h = h * 5 + v;
      out.metrics["synflow"] = -x[0] + 0.3 * ((h % 89) / 89.0 - 0.5);
      out.metrics["params"] = 1000 * x[1];
      ++prescreen_requests;
      if (stop_after > 0 && ++calls >= stop_after && stop) stop->store(true);
      return out;
    }
    ++train_requests;
    // Rung states as a trainer keeps them: a continuation needs the state it continues from.
    if (!r.state_in.empty() && ::access(r.state_in.c_str(), R_OK) != 0) {
      out.ok = false;
      out.failure = "no state " + r.state_in;
      return out;
    }
    if (!r.state_out.empty()) std::ofstream(r.state_out) << r.trial_id << " " << r.rung << "\n";
    out.metrics["val_error"] = x[0];
    if (r.rung >= 0 && r.resource < r.max_resource) {
      // A low rung sees the error blurred by a per-architecture offset that shrinks as the
      // resource grows (a learning curve), so its ranking is only roughly the top rung's.
      int h = 0;
      for (int v : r.genotype) h = h * 7 + v;
      out.metrics["val_error"] += (1 - r.resource / r.max_resource) * ((h % 97) / 97.0 - 0.5);
      rung_requests[r.rung]++;
    }
    out.metrics["latency_ms"] = g * (1 - std::sqrt(x[0] / g));
    out.metrics["params"] = 1000 * x[1];
    if (stop_after > 0 && ++calls >= stop_after && stop) stop->store(true);
    return out;
  }
  std::string Describe() const override { return "zdt1"; }
  int stop_after = 0;
  std::atomic<int> calls{0};
  std::atomic<bool>* stop = nullptr;
  std::atomic<int> rung_requests[4]{};
  std::atomic<int> prescreen_requests{0}, train_requests{0};
};

struct Toy {
  Toy() {
    const std::string dir = testing::TempDir("toyspace");
    testing::WriteText(dir + "/toy.yaml", kToySpace);
    space = std::make_unique<space::SearchSpace>(
        space::SearchSpace::Load(dir + "/toy.yaml", {}, space::InputSpec{{1, 8, 8}, 2}));
    problem.space = space.get();
    problem.objectives = {{"val_error", false}, {"latency_ms", false}};
  }
  std::unique_ptr<space::SearchSpace> space;
  Problem problem;
};

SearchState NewState(std::uint64_t seed) {
  SearchState s;
  s.seed = seed;
  s.SetRng(std::mt19937_64(seed));
  return s;
}

RunSummary RunToy(const Toy& toy, const Strategy& strategy, SearchState& state, const std::string& dir,
               int workers, std::int64_t max_evals, Zdt1Evaluator& ev, std::atomic<bool>* stop = nullptr,
               const FidelityOptions& fidelity = {}, const PrescreenOptions& prescreen = {}) {
  evaluator::WorkerPool pool(ev, workers);
  RunOptions o;
  o.run_dir = dir;
  o.max_evals = max_evals;
  o.stop = stop;
  o.fidelity = fidelity;
  o.prescreen = prescreen;
  return RunSearch(toy.problem, strategy, state, pool, o);
}

TEST(Nsga2, FindsTheWholeZdt1FrontOfTheToySpace) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 20;
  auto nsga = CreateStrategy(opt);
  SearchState state = NewState(3);
  Zdt1Evaluator ev;
  RunToy(toy, *nsga, state, testing::TempDir("zdt"), 2, 600, ev);
  // The Pareto-optimal set: x1..x5 = 0 and any of the 5 values of x0.
  std::set<int> found;
  for (auto id : ParetoFront(state, toy.problem)) {
    const auto& g = state.trials[id].genotype;
    if (std::all_of(g.begin() + 1, g.end(), [](int v) { return v == 0; })) found.insert(g[0]);
  }
  EXPECT_EQ(found.size(), 5u);
  EXPECT_EQ(ParetoFront(state, toy.problem).size(), 5u);
  // Hypervolume never decreases from one generation to the next (elitism).
  for (size_t i = 1; i < state.hv_history.size(); ++i)
    EXPECT_GE(state.hv_history[i], state.hv_history[i - 1] - 1e-12);
}

// The streaming form an MPI worker rank uses: every request handed out is evaluated once by one
// of the pool's workers, with the same result as the batch form, and it returns when the source
// ends; after cancel, what is still handed out is dropped.
TEST(WorkerPool, StreamEvaluatesEachRequestOnceLikeTheBatchForm) {
  Toy toy;
  Zdt1Evaluator ev;
  std::vector<evaluator::EvalRequest> requests;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 40; ++i) {
    evaluator::EvalRequest r;
    r.trial_id = i;
    r.genotype = toy.space->Sample(rng);
    requests.push_back(r);
  }
  std::map<std::int64_t, double> batch, stream;
  evaluator::WorkerPool pool(ev, 2);
  pool.EvaluateBatch(requests, [&](const evaluator::EvalResult& r) { batch[r.trial_id] = r.metrics.at("latency_ms"); }, nullptr);
  std::mutex mu;
  std::size_t next = 0;
  int reported = 0;
  pool.EvaluateStream(
      [&]() -> std::optional<evaluator::EvalRequest> {
        std::lock_guard<std::mutex> lock(mu);
        if (next == requests.size()) return std::nullopt;
        return requests[next++];
      },
      [&](const evaluator::EvalResult& r) {
        ++reported;
        stream[r.trial_id] = r.metrics.at("latency_ms");
      },
      nullptr);
  EXPECT_EQ(reported, 40);
  EXPECT_EQ(stream, batch);

  std::atomic<bool> cancel{true};
  next = 0;
  reported = 0;
  pool.EvaluateStream(
      [&]() -> std::optional<evaluator::EvalRequest> {
        std::lock_guard<std::mutex> lock(mu);
        if (next == requests.size()) return std::nullopt;
        return requests[next++];
      },
      [&](const evaluator::EvalResult&) { ++reported; }, &cancel);
  EXPECT_EQ(next, requests.size());  // drained
  EXPECT_EQ(reported, 0);
}

// Which GPU a worker rank takes comes from the launcher's local rank (Open MPI, MPICH, Slurm).
TEST(Mpi, LocalRankComesFromTheLaunchersEnvironment) {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) ::unsetenv(v);
  EXPECT_EQ(evaluator::mpi::LocalRank(), -1);
  ::setenv("SLURM_LOCALID", "2", 1);
  EXPECT_EQ(evaluator::mpi::LocalRank(), 2);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "x1", 1);  // not a number: the next variable is used
  EXPECT_EQ(evaluator::mpi::LocalRank(), 2);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "5", 1);
  EXPECT_EQ(evaluator::mpi::LocalRank(), 5);
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) ::unsetenv(v);
  EXPECT_FALSE(evaluator::mpi::Active());  // a test process is not under mpirun
}

// What crosses between MPI ranks: requests and results survive a portable-binary round trip.
TEST(EvalMessages, RequestAndResultRoundTripThroughPortableBinary) {
  evaluator::EvalRequest q;
  q.trial_id = 77;
  q.key = "|nor_conv_3x3~0|+|none~0|skip_connect~1|";
  q.hash = "abc123";
  q.genotype = {3, 0, 1, 4, 2, 2};
  q.seed = 0xfedcba9876543210ULL;
  q.rung = 1;
  q.resource = 2.0 / 3;
  q.max_resource = 2;
  q.resource_unit = "epochs";
  q.state_in = "run/states/77.r0.pt";
  q.state_out = "run/states/77.r1.pt";
  evaluator::EvalResult r;
  r.rung = 1;
  r.trial_id = 77;
  r.ok = false;
  r.failure = "exception: boom";
  r.metrics = {{"val_accuracy", 91.25}, {"latency_ms", 1.0 / 3.0}};
  r.seconds = 12.5;
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(q, r);
  }
  evaluator::EvalRequest q2;
  evaluator::EvalResult r2;
  std::istringstream is(os.str(), std::ios::binary);
  {
    cereal::PortableBinaryInputArchive ar(is);
    ar(q2, r2);
  }
  EXPECT_EQ(q2.trial_id, q.trial_id);
  EXPECT_EQ(q2.key, q.key);
  EXPECT_EQ(q2.hash, q.hash);
  EXPECT_EQ(q2.genotype, q.genotype);
  EXPECT_EQ(q2.seed, q.seed);
  EXPECT_EQ(q2.rung, q.rung);
  EXPECT_EQ(q2.resource, q.resource);
  EXPECT_EQ(q2.max_resource, q.max_resource);
  EXPECT_EQ(q2.resource_unit, q.resource_unit);
  EXPECT_EQ(q2.state_in, q.state_in);
  EXPECT_EQ(q2.state_out, q.state_out);
  EXPECT_EQ(r2.rung, r.rung);
  EXPECT_EQ(r2.failure, r.failure);
  EXPECT_EQ(r2.metrics, r.metrics);  // bit-exact doubles
  EXPECT_EQ(r2.ok, r.ok);
  EXPECT_EQ(r2.seconds, r.seconds);
}

TEST(Nsga2, BeatsRandomSearchOnTheToyProblem) {
  Toy toy;
  double hv_nsga = 0, hv_random = 0;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    for (const char* name : {"nsga2", "random"}) {
      StrategyOptions opt;
      opt.name = name;
      auto s = CreateStrategy(opt);
      SearchState state = NewState(seed);
      Zdt1Evaluator ev;
      RunToy(toy, *s, state, testing::TempDir("cmp"), 1, 200, ev);
      // Compare on a common normalisation: the exact objective ranges.
      std::vector<Point> pts;
      for (auto id : ParetoFront(state, toy.problem)) pts.push_back(toy.problem.ObjectiveVector(state.trials[id]));
      (std::string(name) == "nsga2" ? hv_nsga : hv_random) += Hypervolume(pts, {1.1, 11});
    }
  }
  EXPECT_GT(hv_nsga, hv_random);
}

std::vector<std::string> TrialSignature(const SearchState& s) {
  std::vector<std::string> out;
  for (const auto& t : s.trials) {
    std::string line = std::to_string(t.id) + " " + t.key + " " + TrialStateName(t.state);
    for (const auto& [k, v] : t.metrics) line += " " + k + "=" + std::to_string(v);
    for (auto p : t.parents) line += " p" + std::to_string(p);
    out.push_back(line);
  }
  out.push_back("population:");
  for (auto id : s.population) out.back() += " " + std::to_string(id);
  return out;
}

// Runs the toy until the evaluator stops it after `stop_after` evaluations, then resumes it from
// its checkpoint up to `max_evals`.
struct StoppedAndResumed {
  RunSummary first, second;
  SearchState resumed;
};
StoppedAndResumed StopThenResume(const Toy& toy, const Strategy& strategy, std::uint64_t seed,
                                 int stop_after, std::int64_t max_evals, int workers = 2,
                                 const FidelityOptions& fidelity = {}, const PrescreenOptions& prescreen = {}) {
  const std::string dir = testing::TempDir("resume");
  std::atomic<bool> stop{false};
  SearchState state = NewState(seed);
  Zdt1Evaluator ev;
  ev.stop_after = stop_after;
  ev.stop = &stop;
  StoppedAndResumed r;
  r.first = RunToy(toy, strategy, state, dir, workers, max_evals, ev, &stop, fidelity, prescreen);
  r.resumed = LoadCheckpoint(dir + "/checkpoint.bin");
  Zdt1Evaluator ev2;
  r.second = RunToy(toy, strategy, r.resumed, dir, workers, max_evals, ev2, nullptr, fidelity, prescreen);
  return r;
}

TEST(Fidelity, RungArithmeticAndValidation) {
  EXPECT_EQ(GeometricRungs(1, 9, 3), (std::vector<double>{1, 3, 9}));
  EXPECT_EQ(GeometricRungs(0.25, 2, 2), (std::vector<double>{0.25, 0.5, 1, 2}));
  EXPECT_EQ(GeometricRungs(0.5, 2, 3), (std::vector<double>{0.666667, 2}));  // six digits
  EXPECT_EQ(GeometricRungs(2, 2, 3), (std::vector<double>{2}));
  EXPECT_TRUE(GeometricRungs(3, 2, 3).empty());
  EXPECT_EQ(PromoteCount(27, 3), 9);
  EXPECT_EQ(PromoteCount(20, 3), 6);
  EXPECT_EQ(PromoteCount(2, 3), 1);  // at least one continues
  EXPECT_EQ(PromoteCount(0, 3), 0);
  EXPECT_EQ(PromoteCount(9, 3), 3);  // exact quotients are not lost to rounding
  FidelityOptions f;
  EXPECT_EQ(f.Validate(), "");  // off
  f.rungs = {1, 3, 9};
  EXPECT_EQ(f.Validate(), "");
  EXPECT_EQ(f.top(), 2);
  EXPECT_EQ(f.Describe(), "epochs 1, 3, 9 (eta 3, sync)");
  auto bad = [](FidelityOptions o) { return o.Validate(); };
  FidelityOptions o = f;
  o.rungs = {1, 1, 9};
  EXPECT_NE(bad(o).find("must increase"), std::string::npos) << bad(o);
  o = f;
  o.rungs = {0, 9};
  EXPECT_NE(bad(o).find("> 0"), std::string::npos) << bad(o);
  o = f;
  o.eta = 1;
  EXPECT_NE(bad(o).find("fidelity.eta"), std::string::npos) << bad(o);
  o = f;
  o.resource = "steps";
  o.rungs = {10.5, 100};
  EXPECT_NE(bad(o).find("whole numbers"), std::string::npos) << bad(o);
  o = f;
  o.resource = "hours";
  EXPECT_NE(bad(o).find("epochs, steps, images"), std::string::npos) << bad(o);
  o = f;
  o.mode = "hyperband";
  EXPECT_NE(bad(o).find("fidelity.mode"), std::string::npos) << bad(o);
  o.mode = "async";
  EXPECT_EQ(bad(o), "");
}

// Promotion on hand-made fronts (minimise both): the first front moves up before any dominated
// trial; inside a front the extremes (infinite crowding) come first; an infeasible trial comes
// after every feasible one however good its objectives.
TEST(Fidelity, PromotionRanksByFrontsThenCrowdingThenId) {
  Toy toy;
  Problem p = toy.problem;
  p.constraints = {{"params", true, 500}};
  SearchState s;
  auto add = [&](double err, double lat, double params) {
    Trial t;
    t.id = static_cast<std::int64_t>(s.trials.size());
    t.metrics = {{"val_error", err}, {"latency_ms", lat}, {"params", params}};
    t.state = TrialState::kRunning;
    s.trials.push_back(t);
    return t.id;
  };
  const auto a = add(0.0, 1.0, 0), b = add(0.5, 0.5, 0), c = add(1.0, 0.0, 0);  // front 0
  const auto d = add(0.6, 0.6, 0), e = add(1.0, 1.0, 0);                        // dominated
  const auto f = add(-1, -1, 900);                                              // infeasible
  const std::vector<std::int64_t> all{a, b, c, d, e, f};
  EXPECT_EQ(SelectPromotions(s, p, all, 2), (std::vector<std::int64_t>{a, c}));
  EXPECT_EQ(SelectPromotions(s, p, all, 3), (std::vector<std::int64_t>{a, b, c}));
  EXPECT_EQ(SelectPromotions(s, p, all, 4), (std::vector<std::int64_t>{a, b, c, d}));
  EXPECT_EQ(SelectPromotions(s, p, all, 5), (std::vector<std::int64_t>{a, b, c, d, e}));
  EXPECT_EQ(SelectPromotions(s, p, all, 6).size(), 6u);
  // Ties (two identical points) go to the smaller id.
  s.trials.resize(0);
  const auto x = add(0.2, 0.2, 0), y = add(0.2, 0.2, 0), z = add(0.9, 0.9, 0);
  EXPECT_EQ(SelectPromotions(s, p, {z, y, x}, 1), (std::vector<std::int64_t>{x}));
}

// Promotion by hypervolume contribution (fidelity.promotion: hypervolume): among three rung-1
// candidates that do not dominate one another, crowding promotes an extreme (the smallest id of
// the two boundary points), crowding_primary the more accurate extreme; hypervolume promotes the one that adds most to what earlier trials
// reached at rung 1 (read from their learning curves, not from their later rungs). An
// infeasible candidate is never preferred to a feasible one.
TEST(Fidelity, PromotionByHypervolumeWeighsTheEarlierResultsAtTheSameRung) {
  Toy toy;
  Problem p = toy.problem;
  p.constraints = {{"params", true, 500}};
  SearchState s;
  auto add = [&](double err, double lat, int rung, TrialState state) {
    Trial t;
    t.id = static_cast<std::int64_t>(s.trials.size());
    t.metrics = {{"val_error", err}, {"latency_ms", lat}, {"params", 0}};
    t.rung = rung;
    t.state = state;
    s.trials.push_back(t);
    return t.id;
  };
  // Earlier trials: at rung 1 one was accurate and slow, one fast and inaccurate; their top-rung
  // metrics (better errors) must not be what the candidates are compared with.
  for (const auto& [e1, lat] : std::vector<std::pair<double, double>>{{0.05, 1.0}, {1.0, 0.0}}) {
    const auto id = add(e1 / 2, lat, 2, TrialState::kComplete);
    s.trials[id].curve = {{0, 1, {{"val_error", 1.0}, {"params", 0}}, 0},
                          {1, 3, {{"val_error", e1}, {"params", 0}}, 0},
                          {2, 9, {{"val_error", e1 / 2}, {"params", 0}}, 0}};
  }
  const auto a = add(0.9, 0.05, 1, TrialState::kRunning);   // fast, nearly covered already
  const auto b = add(0.3, 0.3, 1, TrialState::kRunning);    // where nothing was yet
  const auto c = add(0.06, 0.95, 1, TrialState::kRunning);  // next to the accurate one
  const std::vector<std::int64_t> rung1{a, b, c};
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1), (std::vector<std::int64_t>{a}));
  // crowding_primary: the boundary points a and c tie; c has the better first objective (error).
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1, "crowding_primary"), (std::vector<std::int64_t>{c}));
  EXPECT_EQ(SelectPromotions(s, p, rung1, 2, "crowding_primary"), (std::vector<std::int64_t>{a, c}));
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1, "hypervolume"), (std::vector<std::int64_t>{b}));
  EXPECT_EQ(SelectPromotions(s, p, rung1, 2, "hypervolume").size(), 2u);
  const auto bad = add(0.0, 0.0, 1, TrialState::kRunning);
  s.trials[bad].metrics["params"] = 900;  // infeasible, however good
  EXPECT_EQ(SelectPromotions(s, p, {a, b, c, bad}, 1, "hypervolume"), (std::vector<std::int64_t>{b}));
  // Without earlier results at the rung the candidates are measured against each other.
  SearchState alone;
  alone.trials = {s.trials[a], s.trials[b], s.trials[c]};
  for (std::int64_t i = 0; i < 3; ++i) alone.trials[i].id = i;
  EXPECT_EQ(SelectPromotions(alone, p, {0, 1, 2}, 1, "hypervolume"), (std::vector<std::int64_t>{1}));
}

// Synchronous successive halving over the toy: each generation of 27 trains all at rung 0,
// 9 at rung 1 and 3 at the top; only top-rung trials enter the population and the front;
// the same trials for any worker count, and after stops at any point (mid-rung included).
TEST(Fidelity, SyncSuccessiveHalvingIsDeterministicAndResumesExactly) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 27;
  auto nsga = CreateStrategy(opt);
  FidelityOptions f;
  f.rungs = {1, 3, 9};
  std::vector<std::string> expect;
  for (int workers : {1, 3}) {
    SearchState state = NewState(21);
    Zdt1Evaluator ev;
    const RunSummary sum = RunToy(toy, *nsga, state, testing::TempDir("mf"), workers, 108, ev, nullptr, f);
    EXPECT_EQ(sum.evaluations, 108);
    EXPECT_EQ(sum.generations, 4);
    EXPECT_EQ(ev.rung_requests[0].load(), 108);
    EXPECT_EQ(ev.rung_requests[1].load(), 36);
    EXPECT_EQ(sum.stopped, 108 - 12);
    int complete = 0;
    for (const Trial& t : state.trials) {
      complete += t.state == TrialState::kComplete;
      EXPECT_EQ(static_cast<int>(t.curve.size()), t.rung + 1);
      if (t.state == TrialState::kComplete) EXPECT_EQ(t.rung, 2);
      if (t.state == TrialState::kStopped) EXPECT_LT(t.rung, 2);
    }
    EXPECT_EQ(complete, 12);
    for (auto id : state.population) EXPECT_EQ(state.trials[id].state, TrialState::kComplete);
    for (auto id : ParetoFront(state, toy.problem)) EXPECT_EQ(state.trials[id].rung, 2);
    if (expect.empty()) expect = TrialSignature(state);
    else EXPECT_EQ(TrialSignature(state), expect) << workers << " workers";
  }
  for (int stop_after : {1, 20, 27, 30, 36, 40, 70, 107}) {
    const StoppedAndResumed r = StopThenResume(toy, *nsga, 21, stop_after, 108, 2, f);
    EXPECT_EQ(r.first.termination, RunSummary::Termination::kInterrupted) << stop_after;
    EXPECT_EQ(TrialSignature(r.resumed), expect) << "stopped after " << stop_after;
  }
}

// Promotion by predicted top-rung objectives (fidelity.promotion: predicted): with 8 complete
// trials whose error fell by 0.1 from rung 1 to the top, a rung-1 candidate is predicted 0.1
// better; of three that do not dominate one another at rung 1, crowding promotes an extreme (the
// smallest id), predicted the one whose predicted point adds most to the complete trials' front
// (it fills the gap in its middle). With fewer than 6 complete trials it is the crowding order.
TEST(Fidelity, PromotionByPredictionWeighsTheCompleteFront) {
  Toy toy;
  Problem p = toy.problem;
  SearchState s;
  // A trial at rung 1 (a candidate) or, with its top-rung error, complete at rung 2.
  auto add = [&](double err1, double lat, std::optional<double> err_top = std::nullopt) {
    Trial t;
    t.id = static_cast<std::int64_t>(s.trials.size());
    t.state = err_top ? TrialState::kComplete : TrialState::kRunning;
    t.rung = err_top ? 2 : 1;
    t.curve = {{0, 1, {{"val_error", 0.9}, {"latency_ms", lat}, {"params", 0}}, 0, 0},
               {1, 3, {{"val_error", err1}, {"params", 0}}, 0, 0}};
    if (err_top) t.curve.push_back({2, 9, {{"val_error", *err_top}, {"params", 0}}, 0, 0});
    t.metrics = {{"val_error", err_top ? *err_top : err1}, {"latency_ms", lat}, {"params", 0}};
    s.trials.push_back(t);
    return t.id;
  };
  auto add_complete = [&](double err_top, double lat) { add(err_top + 0.1, lat, err_top); };
  auto add_candidate = [&](double err1, double lat) { return add(err1, lat); };
  for (const auto& [e, lat] : std::vector<std::pair<double, double>>{
           {0.1, 1.0}, {0.3, 0.5}, {0.5, 0.2}, {0.6, 0.9}, {0.7, 0.7}})
    add_complete(e, lat);
  const auto a = add_candidate(0.95, 0.05);  // predicted 0.85: fast, adds a little at the fast end
  const auto b = add_candidate(0.35, 0.35);  // predicted 0.25: inside the front's gap
  const auto c = add_candidate(0.15, 1.2);   // predicted 0.05: slow, adds least
  const std::vector<std::int64_t> rung1{a, b, c};
  // 5 complete trials: too few to fit, so the crowding order.
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1, "predicted"), SelectPromotions(s, p, rung1, 1));
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1), (std::vector<std::int64_t>{a}));
  for (const auto& [e, lat] : std::vector<std::pair<double, double>>{{0.4, 1.1}, {0.9, 0.3}, {0.8, 0.8}})
    add_complete(e, lat);
  EXPECT_EQ(SelectPromotions(s, p, rung1, 1, "predicted"), (std::vector<std::int64_t>{b}));
  EXPECT_EQ(SelectPromotions(s, p, rung1, 2, "predicted"), (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(SelectPromotionsFromPool(s, p, 1, rung1, 1, "predicted"), (std::vector<std::int64_t>{b}));
}

// Promotion from a pool (fidelity.promotion_pool): the eligible candidates are ranked among every
// result at the rung, promoted ones included, with the metrics each had at that rung. A candidate
// dominated there by one that already moved up ranks behind one that nothing dominates; within a
// front the extremes come first, so the fastest of the pool is no extreme when a faster result
// was promoted before.
TEST(Fidelity, PoolPromotionRanksAgainstEveryResultAtTheRung) {
  Toy toy;
  Problem p = toy.problem;
  SearchState s;
  auto add = [&](double err1, double lat, TrialState state, int rung) {
    Trial t;
    t.id = static_cast<std::int64_t>(s.trials.size());
    t.state = state;
    t.rung = rung;
    t.curve = {{0, 1, {{"val_error", 1.0}, {"latency_ms", lat}, {"params", 0}}, 0, 0},
               {1, 3, {{"val_error", err1}, {"params", 0}}, 0, 0}};
    if (rung == 2) t.curve.push_back({2, 9, {{"val_error", err1 / 4}, {"params", 0}}, 0, 1});
    t.metrics = {{"val_error", rung == 2 ? err1 / 4 : err1}, {"latency_ms", lat}, {"params", 0}};
    s.trials.push_back(t);
    return t.id;
  };
  // Promoted earlier: fast (0.1 ms) at 0.8 error, accurate (0.1 error) at 2 ms, both at rung 1.
  add(0.8, 0.1, TrialState::kComplete, 2);
  add(0.1, 2.0, TrialState::kComplete, 2);
  const auto dominated = add(0.9, 0.2, TrialState::kStopped, 1);  // the fastest eligible
  const auto middle = add(0.4, 0.8, TrialState::kStopped, 1);
  const auto slowish = add(0.3, 1.5, TrialState::kStopped, 1);
  const auto mid2 = add(0.5, 0.6, TrialState::kStopped, 1);
  const std::vector<std::int64_t> pool{dominated, middle, slowish, mid2};
  // Ranked by their own metrics alone, the fastest and the most accurate are the extremes.
  EXPECT_EQ(SelectPromotions(s, p, pool, 1), (std::vector<std::int64_t>{dominated}));
  // Among every result at rung 1 (the complete trials by their rung-1 metrics, not their top-rung
  // ones), `dominated` is dominated by the fast promoted one and goes last.
  const auto one = SelectPromotionsFromPool(s, p, 1, pool, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NE(one[0], dominated);
  EXPECT_EQ(SelectPromotionsFromPool(s, p, 1, pool, 3), (std::vector<std::int64_t>{middle, slowish, mid2}));
  EXPECT_EQ(SelectPromotionsFromPool(s, p, 1, pool, 9).size(), 4u);
  EXPECT_EQ(SelectPromotionsFromPool(s, p, 1, pool, 0).size(), 0u);
  EXPECT_EQ(SelectPromotionsFromPool(s, p, 1, pool, 1, "hypervolume").size(), 1u);
  EXPECT_NE(SelectPromotionsFromPool(s, p, 1, pool, 1, "hypervolume")[0], dominated);
}

// Successive halving with a promotion pool on the toy: every generation still trains 27 at rung
// 0, 9 at rung 1 and 3 at the top, but some promotions go to trials an earlier generation
// stopped, which continue from their rung and are told with the generation that continued them.
// The same trials for 1 and 3 workers and after stops at any point (mid-rung, and between a
// promotion of an earlier trial and its result); a pool of 2 generations keeps only the states it
// can still use.
TEST(Fidelity, PromotionPoolContinuesEarlierTrialsAndResumesExactly) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 27;
  auto nsga = CreateStrategy(opt);
  for (int pool : {0, 2}) {
    FidelityOptions f;
    f.rungs = {1, 3, 9};
    f.promotion_pool = pool;
    ASSERT_EQ(f.Validate(), "");
    std::vector<std::string> expect;
    for (int workers : {1, 3}) {
      SearchState state = NewState(21);
      Zdt1Evaluator ev;
      const std::string dir = testing::TempDir("mfpool");
      const RunSummary sum = RunToy(toy, *nsga, state, dir, workers, 108, ev, nullptr, f);
      EXPECT_EQ(sum.evaluations, 108);
      EXPECT_EQ(ev.rung_requests[0].load(), 108);
      EXPECT_EQ(ev.rung_requests[1].load(), 36);
      int complete = 0, continued = 0;
      for (const Trial& t : state.trials) {
        complete += t.state == TrialState::kComplete;
        EXPECT_EQ(static_cast<int>(t.curve.size()), t.rung + 1);
        if (t.state == TrialState::kComplete) EXPECT_EQ(t.rung, 2);
        for (const RungResult& c : t.curve) EXPECT_GE(c.generation, t.generation);
        continued += !t.curve.empty() && t.curve.back().generation > t.generation;
      }
      EXPECT_EQ(complete, 12);
      EXPECT_GT(continued, 0) << "pool " << pool << ": no earlier trial was promoted";
      for (auto id : state.population) EXPECT_EQ(state.trials[id].state, TrialState::kComplete);
      // Pool 2: after generation 3, the states of trials stopped in generation 3 only (those the
      // next generation's pool would reach); pool 0 keeps every stopped trial's.
      const StateDiskUse disk = RungStateDiskUse(dir);
      int keep = 0;
      for (const Trial& t : state.trials)
        keep += t.state == TrialState::kStopped && (pool == 0 || t.curve.back().generation == 3);
      EXPECT_EQ(disk.files, keep) << "pool " << pool;
      if (expect.empty()) expect = TrialSignature(state);
      else EXPECT_EQ(TrialSignature(state), expect) << workers << " workers, pool " << pool;
    }
    // A pool changes which trials are promoted.
    SearchState plain = NewState(21);
    Zdt1Evaluator ev_plain;
    FidelityOptions one = f;
    one.promotion_pool = 1;
    RunToy(toy, *nsga, plain, testing::TempDir("mfpool1"), 1, 108, ev_plain, nullptr, one);
    EXPECT_NE(TrialSignature(plain), expect);
    for (int stop_after : {1, 27, 30, 36, 37, 40, 64, 67, 70, 101, 107}) {
      const StoppedAndResumed r = StopThenResume(toy, *nsga, 21, stop_after, 108, 2, f);
      EXPECT_EQ(TrialSignature(r.resumed), expect) << "pool " << pool << ", stopped after " << stop_after;
    }
  }
  FidelityOptions bad;
  bad.rungs = {1, 3};
  bad.promotion_pool = 2;
  bad.mode = "async";
  EXPECT_NE(bad.Validate().find("fidelity.promotion_pool"), std::string::npos) << bad.Validate();
  bad.mode = "sync";
  bad.promotion_pool = -1;
  EXPECT_NE(bad.Validate().find("fidelity.promotion_pool"), std::string::npos) << bad.Validate();
}

// Asynchronous successive halving on the toy: every proposal trains at rung 0, promotions never
// exceed floor(n / eta) of a rung's finished trials (max(1, ...) at the end), only top-rung
// trials enter the population; with one worker the same trials every run and after stops at any
// point; with three workers the run completes with the same rung sizes.
TEST(Fidelity, AsyncSuccessiveHalvingPromotesByQuotaAndResumesExactlyWithOneWorker) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 27;
  auto nsga = CreateStrategy(opt);
  FidelityOptions f;
  f.rungs = {1, 3, 9};
  f.mode = "async";
  SearchState one = NewState(21);
  Zdt1Evaluator ev;
  const RunSummary sum = RunToy(toy, *nsga, one, testing::TempDir("async1"), 1, 108, ev, nullptr, f);
  EXPECT_EQ(sum.evaluations, 108);
  EXPECT_EQ(ev.rung_requests[0].load(), 108);
  EXPECT_EQ(ev.rung_requests[1].load(), 36);  // 9 of each generation's 27
  int complete = 0;
  for (const Trial& t : one.trials) complete += t.state == TrialState::kComplete;
  EXPECT_EQ(complete, 12);
  for (auto id : one.population) EXPECT_EQ(one.trials[id].state, TrialState::kComplete);
  const auto expect = TrialSignature(one);
  SearchState again = NewState(21);
  Zdt1Evaluator ev_again;
  RunToy(toy, *nsga, again, testing::TempDir("async1b"), 1, 108, ev_again, nullptr, f);
  EXPECT_EQ(TrialSignature(again), expect);
  for (int stop_after : {1, 13, 27, 30, 40, 77, 110}) {
    const StoppedAndResumed r = StopThenResume(toy, *nsga, 21, stop_after, 108, 1, f);
    EXPECT_EQ(TrialSignature(r.resumed), expect) << "stopped after " << stop_after;
  }
  SearchState three = NewState(21);
  Zdt1Evaluator ev3;
  const RunSummary s3 = RunToy(toy, *nsga, three, testing::TempDir("async3"), 3, 108, ev3, nullptr, f);
  EXPECT_EQ(s3.evaluations, 108);
  EXPECT_EQ(ev3.rung_requests[1].load(), 36);
  EXPECT_EQ(s3.stopped, 108 - 12);
}

// The pre-screen on the toy: each generation of 24 proposals is scored without training, and
// the 6 with the highest proxy (the only ranking objective here) train; the rest are kScreened
// and count neither as evaluations nor against the budget. The same trials for 1 and 3 workers,
// and after stops mid-pre-screen and mid-training; with multi-fidelity, the kept 6 enter rung 0.
TEST(Prescreen, TrainsTheBestByProxyAndResumesExactly) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 24;
  auto nsga = CreateStrategy(opt);
  PrescreenOptions p;
  p.keep = 6;
  p.by = {{"synflow", true}};
  // Runs the search with 1 and with 3 workers, `check` looking at each run; returns the trials,
  // which must be the same for both.
  auto same_for_any_workers = [&](const PrescreenOptions& opts, const std::string& dir,
                                  const std::function<void(const SearchState&, const Zdt1Evaluator&,
                                                           const RunSummary&)>& check) {
    std::vector<std::string> trials;
    for (int workers : {1, 3}) {
      SearchState state = NewState(13);
      Zdt1Evaluator ev;
      const RunSummary sum = RunToy(toy, *nsga, state, testing::TempDir(dir), workers, 24, ev, nullptr, {}, opts);
      check(state, ev, sum);
      if (trials.empty()) trials = TrialSignature(state);
      else EXPECT_EQ(TrialSignature(state), trials) << workers << " workers";
    }
    return trials;
  };
  const std::vector<std::string> expect =
      same_for_any_workers(p, "pre", [](const SearchState& state, const Zdt1Evaluator& ev, const RunSummary& sum) {
        EXPECT_EQ(sum.evaluations, 24);
        EXPECT_EQ(sum.generations, 4);
        EXPECT_EQ(sum.screened, 72);
        EXPECT_EQ(state.NumScreened(), 72);
        EXPECT_EQ(ev.prescreen_requests.load(), 96);
        EXPECT_EQ(ev.train_requests.load(), 24);
        for (int g = 0; g < 4; ++g) {
          double worst_kept = 1e9, best_screened = -1e9;
          int kept = 0;
          for (const Trial& t : state.trials) {
            if (t.generation != g) continue;
            if (t.state == TrialState::kScreened) {
              best_screened = std::max(best_screened, t.metrics.at("synflow"));
              EXPECT_FALSE(t.metrics.count("val_error"));
            } else {
              ASSERT_EQ(t.state, TrialState::kComplete);
              ++kept;
              EXPECT_TRUE(t.metrics.count("val_error"));
            }
          }
          for (const Trial& t : state.trials)  // the kept trials' proxies, from the journal
            if (t.generation == g && t.state == TrialState::kComplete) {
              Zdt1Evaluator probe;
              EvalRequest q{t.id, t.key, t.hash, t.genotype, t.seed};
              q.rung = kPrescreenRung;
              worst_kept = std::min(worst_kept, probe.Evaluate(q).metrics.at("synflow"));
            }
          EXPECT_EQ(kept, 6) << "generation " << g;
          EXPECT_GE(worst_kept, best_screened) << "generation " << g;
        }
        for (auto id : state.population) EXPECT_EQ(state.trials[id].state, TrialState::kComplete);
      });
  for (int stop_after : {1, 10, 24, 27, 30, 31, 60, 100, 119}) {
    const StoppedAndResumed r = StopThenResume(toy, *nsga, 13, stop_after, 24, 2, {}, p);
    EXPECT_EQ(r.first.termination, RunSummary::Termination::kInterrupted) << stop_after;
    EXPECT_EQ(TrialSignature(r.resumed), expect) << "stopped after " << stop_after;
  }
  // By the surrogates with the proxy among their features: the same counts, the same trials for
  // any worker count and after a stop.
  PrescreenOptions ps;
  ps.keep = 6;
  ps.surrogate = true;
  ps.features = {"synflow"};
  const std::vector<std::string> expect_surrogate =
      same_for_any_workers(ps, "pres", [](const SearchState&, const Zdt1Evaluator&, const RunSummary& sum) {
        EXPECT_EQ(sum.evaluations, 24);
        EXPECT_EQ(sum.screened, 72);
      });
  EXPECT_NE(expect_surrogate, expect) << "the surrogates chose as the ranking did";
  for (int stop_after : {30, 61}) {
    const StoppedAndResumed r = StopThenResume(toy, *nsga, 13, stop_after, 24, 2, {}, ps);
    EXPECT_EQ(TrialSignature(r.resumed), expect_surrogate) << "stopped after " << stop_after;
  }
  FidelityOptions f;
  f.rungs = {1, 3};
  SearchState mf = NewState(13);
  Zdt1Evaluator ev;
  const RunSummary sum = RunToy(toy, *nsga, mf, testing::TempDir("pre_mf"), 2, 24, ev, nullptr, f, p);
  EXPECT_EQ(sum.evaluations, 24);
  EXPECT_EQ(sum.screened, 72);
  EXPECT_EQ(ev.rung_requests[0].load(), 24);
  EXPECT_EQ(sum.stopped, 24 - 8);  // 6 -> 2 per generation
}

TEST(Determinism, SameSeedGivesTheSameTrialsForAnyWorkerCount) {
  Toy toy;
  auto nsga = CreateStrategy(StrategyOptions{});
  std::vector<std::vector<std::string>> runs;
  for (int workers : {1, 2, 4}) {
    SearchState state = NewState(42);
    Zdt1Evaluator ev;
    RunToy(toy, *nsga, state, testing::TempDir("det"), workers, 150, ev);
    runs.push_back(TrialSignature(state));
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
  SearchState other = NewState(43);
  Zdt1Evaluator ev;
  RunToy(toy, *nsga, other, testing::TempDir("det"), 2, 150, ev);
  EXPECT_NE(TrialSignature(other), runs[0]);
}

TEST(Resume, StoppingAtAnyPointThenResumingEqualsAnUninterruptedRun) {
  Toy toy;
  for (const std::string variant : {"nsga2", "regularized_evolution", "nsga2+surrogate"}) {
    const std::string name = variant == "nsga2+surrogate" ? "nsga2" : variant;
    StrategyOptions opt;
    opt.name = name;
    opt.population = 10;
    opt.sample_size = 3;
    opt.surrogate = variant == "nsga2+surrogate";
    auto strategy = CreateStrategy(opt);
    SearchState full = NewState(9);
    Zdt1Evaluator ev_full;
    RunToy(toy, *strategy, full, testing::TempDir("full"), 2, 57, ev_full);
    const auto expect = TrialSignature(full);
    for (int stop_after : {1, 7, 10, 23, 31, 56}) {  // mid-generation and at boundaries
      const StoppedAndResumed r = StopThenResume(toy, *strategy, 9, stop_after, 57);
      EXPECT_EQ(r.first.termination, RunSummary::Termination::kInterrupted) << stop_after;
      EXPECT_EQ(TrialSignature(r.resumed), expect) << variant << " stopped after " << stop_after;
      EXPECT_EQ(r.second.evaluations, 57);
    }
  }
}

TEST(Resume, RemeasuringTwinsNearTheFrontResumesExactly) {
  // The toy problem on NB201 cells, so that trials have node-swapped twins to remeasure.
  Toy toy;
  toy.space = std::make_unique<space::SearchSpace>(TinyNb201());
  toy.problem.space = toy.space.get();
  StrategyOptions opt;
  opt.population = 10;
  opt.sample_size = 3;
  opt.dedup = "canonical_raw";
  opt.remeasure_front = true;
  opt.remeasure_margin = 0.05;
  opt.remeasure_after = 1;
  auto strategy = CreateStrategy(opt);
  SearchState full = NewState(5);
  Zdt1Evaluator ev_full;
  const std::string full_dir = testing::TempDir("full");
  RunToy(toy, *strategy, full, full_dir, 2, 57, ev_full);
  int twins = 0, twins_done = 0;  // trials that are a renumbering of their one parent
  for (const Trial& t : full.trials) {
    if (t.parents.size() != 1) continue;
    for (const auto& r : toy.space->Relabelings(full.trials[t.parents[0]].genotype)) {
      twins += toy.space->Key(r) == t.key;
      twins_done += toy.space->Key(r) == t.key && t.generation < full.generation;
    }
  }
  EXPECT_GT(twins, 0) << "the run should remeasure something";
  // Each generation's summary line says how many of its trials were second measurements.
  std::ifstream log(full_dir + "/log.txt");
  int logged = 0, lines = 0;
  const std::string tag = "second measurements in this generation: ";
  for (std::string line; std::getline(log, line);)
    if (const size_t at = line.find(tag); at != std::string::npos)
      logged += std::stoi(line.substr(at + tag.size())), ++lines;
  EXPECT_EQ(lines, static_cast<int>(full.generation));
  EXPECT_GT(twins_done, 0);
  EXPECT_EQ(logged, twins_done);
  for (int stop_after : {7, 23, 31}) {
    const StoppedAndResumed r = StopThenResume(toy, *strategy, 5, stop_after, 57);
    EXPECT_EQ(TrialSignature(r.resumed), TrialSignature(full)) << "stopped after " << stop_after;
  }
}

// A budget that ends inside a generation leaves the rest of that generation pending, so that
// extending the budget (`resume --max-evals`) continues exactly the search a larger budget runs.
TEST(Resume, ExtendingABudgetThatEndedMidGenerationEqualsTheLargerBudget) {
  Toy toy;
  for (const std::string variant : {"nsga2", "regularized_evolution", "random"}) {
    StrategyOptions opt;
    opt.name = variant;
    opt.population = 10;
    opt.sample_size = 3;
    auto strategy = CreateStrategy(opt);
    SearchState full = NewState(4);
    Zdt1Evaluator ev_full;
    RunToy(toy, *strategy, full, testing::TempDir("full"), 2, 57, ev_full);
    for (int budget : {5, 23, 30}) {
      const std::string dir = testing::TempDir("budget");
      SearchState state = NewState(4);
      Zdt1Evaluator ev;
      const auto first = RunToy(toy, *strategy, state, dir, 2, budget, ev);
      EXPECT_EQ(first.termination, RunSummary::Termination::kMaxEvals) << variant << " " << budget;
      EXPECT_EQ(first.evaluations, budget);
      SearchState resumed = LoadCheckpoint(dir + "/checkpoint.bin");
      Zdt1Evaluator ev2;
      const auto second = RunToy(toy, *strategy, resumed, dir, 2, 57, ev2);
      EXPECT_EQ(second.evaluations, 57);
      EXPECT_EQ(TrialSignature(resumed), TrialSignature(full)) << variant << " budget " << budget << " then 57";
    }
  }
}

TEST(RunFiles, CheckpointRoundTripsAndDamageIsReportedWithOffset) {
  Toy toy;
  SearchState state = NewState(1);
  Zdt1Evaluator ev;
  const std::string dir = testing::TempDir("ckpt");
  RunToy(toy, *CreateStrategy(StrategyOptions{}), state, dir, 1, 40, ev);
  const std::string path = dir + "/checkpoint.bin";
  const SearchState loaded = LoadCheckpoint(path);
  EXPECT_EQ(TrialSignature(loaded), TrialSignature(state));
  EXPECT_EQ(loaded.rng, state.rng);
  EXPECT_EQ(loaded.hv_history, state.hv_history);

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto expect_error = [&](const std::string& data, const std::string& needle) {
    const std::string p = dir + "/damaged.bin";
    testing::WriteText(p, data);
    try {
      LoadCheckpoint(p);
      ADD_FAILURE() << "loaded a damaged checkpoint (" << needle << ")";
    } catch (const RunFileError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("damaged.bin"), std::string::npos) << e.what();
    }
  };
  expect_error(bytes.substr(0, bytes.size() / 2), "offset");
  std::string flipped = bytes;
  flipped[flipped.size() - 10] ^= 0x40;
  expect_error(flipped, "CRC-32 mismatch");
  std::string newer = bytes;
  newer[8] = 99;
  expect_error(newer, "newer");
  expect_error("hello", "truncated");
}

TEST(RunFiles, JournalKeepsTheValidPrefixOfADamagedFile) {
  const std::string dir = testing::TempDir("journal");
  const std::string path = dir + "/journal.bin";
  {
    Journal j(path);
    for (int i = 0; i < 5; ++i) {
      evaluator::EvalResult r;
      r.trial_id = i;
      r.ok = true;
      r.metrics["val_error"] = i;
      j.Append({"k" + std::to_string(i), r});
    }
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  testing::WriteText(path, bytes.substr(0, bytes.size() - 7));  // cut into the last record
  {
    Journal j(path);
    EXPECT_EQ(j.entries().size(), 4u);
    EXPECT_NE(j.warning().find("offset"), std::string::npos) << j.warning();
    evaluator::EvalResult r;
    r.trial_id = 4;
    r.ok = true;
    j.Append({"k4", r});
  }
  const auto read = Journal::Read(path);
  EXPECT_EQ(read.entries.size(), 5u);
  EXPECT_TRUE(read.error.empty()) << read.error;
}

// `make fuzz` found a journal whose first record announces a 4e11-byte key: the reader asked the
// allocator for it before reading. Lengths are now bounded by the bytes left (kept as a fuzz seed).
TEST(RunFiles, AJournalTailReadsOnlyWhatWasAppendedAndSkipsDamage) {
  const std::string path = testing::TempDir("tail") + "/journal.bin";
  auto entry = [](std::int64_t id) {
    JournalEntry e;
    e.key = "k" + std::to_string(id);
    e.result.trial_id = id;
    e.result.ok = true;
    e.result.metrics["val_accuracy"] = static_cast<double>(id);
    return e;
  };
  auto append = [&](const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << bytes;
  };
  JournalTail tail(path);
  EXPECT_TRUE(tail.Poll().entries.empty());  // no journal yet
  append(JournalHeaderBytes() + JournalRecordBytes(entry(0)) + JournalRecordBytes(entry(1)));
  auto u = tail.Poll();
  ASSERT_EQ(u.entries.size(), 2u);
  EXPECT_EQ(u.entries[1].key, "k1");
  EXPECT_TRUE(tail.Poll().entries.empty()) << "nothing new: nothing read again";
  // Half a record waits for the rest; then it is read, and only it.
  const std::string two = JournalRecordBytes(entry(2));
  append(two.substr(0, 9));
  EXPECT_TRUE(tail.Poll().entries.empty());
  EXPECT_EQ(tail.incomplete_bytes(), 9u);
  append(two.substr(9));
  u = tail.Poll();
  ASSERT_EQ(u.entries.size(), 1u);
  EXPECT_EQ(u.entries[0].result.trial_id, 2);
  EXPECT_FALSE(u.restarted);
  // A damaged record is skipped with its offset; the one after it is read.
  std::string bad = JournalRecordBytes(entry(3));
  bad[6] = static_cast<char>(bad[6] ^ 1);
  const std::uint64_t bad_at = tail.offset();
  append(bad + JournalRecordBytes(entry(4)));
  u = tail.Poll();
  ASSERT_EQ(u.entries.size(), 1u);
  EXPECT_EQ(u.entries[0].result.trial_id, 4);
  ASSERT_EQ(u.skipped.size(), 1u);
  EXPECT_NE(u.skipped[0].find("offset " + std::to_string(bad_at)), std::string::npos) << u.skipped[0];
  // Resume cuts a damaged tail and appends after it: the journal is read again from its start.
  { Journal j(path); j.Append(entry(5)); }
  u = tail.Poll();
  EXPECT_TRUE(u.restarted);
  ASSERT_EQ(u.entries.size(), 4u);  // 0, 1, 2, 5
  EXPECT_EQ(u.entries.back().result.trial_id, 5);
  EXPECT_TRUE(u.skipped.empty());
}

TEST(RunFiles, AHugeLengthInAJournalRecordIsRefusedWithoutAllocatingIt) {
  const std::string seed =
      testing::SourceDir() + "/fuzz/seeds/fuzz_run_files/regression-huge-length.bin";
  const auto read = Journal::Read(seed);
  EXPECT_TRUE(read.entries.empty());
  EXPECT_EQ(read.valid_bytes, 12u);
  EXPECT_NE(read.error.find("at offset 12"), std::string::npos) << read.error;
  EXPECT_NE(read.error.find("a length of 427131142145 at offset 25"), std::string::npos)
      << read.error;
  EXPECT_NE(read.error.find("exceeds the 4 bytes left"), std::string::npos) << read.error;
}

TEST(RunFiles, AHugeLengthInsideAValidCheckpointIsRefusedWithItsOffset) {
  const std::string dir = testing::TempDir("ckpt-length");
  SearchState state = NewState(1);
  Trial t;
  t.id = 0;
  t.key = "a-key-whose-length-we-damage";
  state.trials.push_back(t);
  const std::string path = dir + "/checkpoint.bin";
  SaveCheckpoint(path, state);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The key is stored as a u64 length then its bytes: make the length 2^40 and fix the CRC, so
  // that only the length is wrong.
  const size_t key_at = bytes.find(t.key);
  ASSERT_NE(key_at, std::string::npos);
  bytes[key_at - 3] = 1;  // bit 40 of the little-endian u64 before the key
  constexpr size_t kHeader = 24;
  const std::string payload = bytes.substr(kHeader);
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  for (int i = 0; i < 4; ++i) bytes[20 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  testing::WriteText(path, bytes);
  try {
    LoadCheckpoint(path);
    ADD_FAILURE() << "loaded a checkpoint with a 2^40-byte key";
  } catch (const RunFileError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("checkpoint.bin"), std::string::npos) << what;
    EXPECT_NE(what.find("a length of " + std::to_string((1ULL << 40) + t.key.size())),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("at offset " + std::to_string(key_at - 8)), std::string::npos)
        << what;
  }
}

TEST(StrategyOptions, DefaultsAreValidAndEachBadValueIsNamed) {
  EXPECT_EQ(StrategyOptions{}.Validate(), "");
  auto with = [](auto mutate) {
    StrategyOptions o;
    mutate(o);
    return o.Validate();
  };
  EXPECT_NE(with([](auto& o) { o.name = "nsga3"; }).find("search.strategy"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.population = 1; }).find("search.population: 1"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.crossover_prob = 1.5; }).find("search.crossover_prob"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.mutation_rate = 2; }).find("search.mutation_rate"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.sample_size = 50; }).find("search.sample_size"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.dedup = "exact"; }).find("search.dedup: 'exact'"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.remeasure_margin = -0.1; }).find("search.remeasure_margin: -0.1"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.remeasure_after = -1; }).find("search.remeasure_after: -1"), std::string::npos);
}

TEST(Strategy, DedupDecidesWhichCellsCountAsTheSameArchitecture) {
  // Random search over a space small enough to exhaust: it proposes each class once, so the
  // number of trials is the number of classes of the duplicate identity, which shrinks the more
  // dead edges it ignores (15,625 strings in all).
  const space::SearchSpace sp = TinyNb201();
  Problem problem;
  problem.space = &sp;
  problem.objectives = {{"params", false}, {"macs", false}};
  std::map<std::string, size_t> classes;
  for (const std::string dedup : {"canonical", "canonical_used", "canonical_raw", "key"}) {
    StrategyOptions o;
    o.name = "random";
    o.population = 500;
    o.dedup = dedup;
    o.max_tries = 20000;
    const auto strategy = CreateStrategy(o);
    SearchState state;
    state.SetRng(std::mt19937_64(1));
    std::set<std::string> ids;
    while (strategy->Ask(state, problem, 500) > 0) {
      for (std::int64_t id : state.pending) state.trials[id].state = TrialState::kFailed;
      strategy->Tell(state, problem);
    }
    for (const Trial& t : state.trials) {
      const std::string id = dedup == "key"              ? t.key
                             : dedup == "canonical_used" ? sp.CanonicalHash(t.genotype, space::EdgeSet::kUsed)
                             : dedup == "canonical_raw"  ? sp.CanonicalHash(t.genotype, space::EdgeSet::kAll)
                                                         : t.hash;
      EXPECT_TRUE(ids.insert(id).second) << dedup << ": " << t.key << " proposed twice";
    }
    classes[dedup] = state.trials.size();
  }
  EXPECT_EQ(classes["key"], 15625u);
  EXPECT_LT(classes["canonical"], classes["canonical_used"]);
  EXPECT_LT(classes["canonical_used"], classes["canonical_raw"]);
  // With every edge kept, only renumbering nodes 1 and 2 is left: cells without a 1->2 edge
  // (5^5 = 3125) pair up unless the swap maps them onto themselves (5^3 = 125): 1,500 pairs.
  EXPECT_EQ(classes["canonical_raw"], 15625u - 1500u);
}

TEST(Strategy, RemeasuresTheRenumberingsOfTrialsNearTheFront) {
  // Four evaluated NB201 cells (accuracy max, latency min): A and B on the front, C just behind
  // A (0.05 points of a 40-point accuracy range: epsilon 0.00125), D far behind. A, C and D have
  // node-swapped twins, which the canonical_raw identity counts as the same architecture.
  const space::SearchSpace sp = TinyNb201();
  Problem problem;
  problem.space = &sp;
  problem.objectives = {{"val_accuracy", true}, {"latency_ms", false}};
  const std::vector<std::string> keys{
      "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|none~2|",
      "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
      "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"};
  const std::vector<std::pair<double, double>> metrics{{90, 2}, {80, 1}, {89.95, 2.01}, {50, 5}};
  auto state_at = [&](int generation) {
    SearchState state = NewState(3);
    for (size_t i = 0; i < keys.size(); ++i) {
      Trial t;
      t.id = static_cast<std::int64_t>(i);
      t.genotype = sp.ParseKey(keys[i]);
      t.key = keys[i];
      t.hash = sp.CanonicalHash(t.genotype);
      t.state = TrialState::kComplete;
      t.metrics = {{"val_accuracy", metrics[i].first}, {"latency_ms", metrics[i].second}};
      state.trials.push_back(t);
      state.population.push_back(t.id);
    }
    state.generation = generation;
    return state;
  };
  auto twin = [&](size_t i) { return sp.Key(sp.Relabelings(sp.ParseKey(keys[i])).at(0)); };
  auto ask = [&](bool remeasure, int generation) {
    StrategyOptions o;
    o.population = 4;
    o.sample_size = 2;
    o.dedup = "canonical_raw";
    o.remeasure_front = remeasure;
    const auto strategy = CreateStrategy(o);
    SearchState state = state_at(generation);
    EXPECT_EQ(strategy->Ask(state, problem, 4), 4);
    std::vector<Trial> made(state.trials.begin() + 4, state.trials.end());
    return made;
  };
  // Three generations on: half the generation goes to A's twin, then C's (closest first).
  const std::vector<Trial> made = ask(true, 3);
  EXPECT_EQ(made[0].key, twin(0));
  EXPECT_EQ(made[0].parents, std::vector<std::int64_t>{0});
  EXPECT_EQ(made[1].key, twin(2));
  EXPECT_EQ(made[1].parents, std::vector<std::int64_t>{2});
  for (const Trial& t : made) EXPECT_NE(t.key, twin(3)) << "D is far from the front";
  // Not before remeasure_after (3) generations, and never without the option: the identity
  // already holds the twins.
  for (const auto& [remeasure, generation] : {std::pair{true, 2}, std::pair{false, 3}}) {
    for (const Trial& t : ask(remeasure, generation)) {
      for (size_t i = 0; i < keys.size(); ++i)
        EXPECT_NE(t.key, twin(i == 1 ? 0 : i)) << remeasure << " " << generation;
    }
  }
}

// A spread of 60 evaluated toy architectures, so that the surrogates have data.
SearchState EvaluatedToyTrials(const Toy& toy) {
  SearchState state = NewState(4);
  Zdt1Evaluator ev;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 60; ++i) {
    Trial t;
    t.id = i;
    t.genotype = toy.space->Sample(rng);
    t.key = toy.space->Key(t.genotype);
    ApplyResult(t, ev.Evaluate({t.id, t.key, "", t.genotype, 0}), toy.problem);
    state.trials.push_back(t);
  }
  return state;
}

TEST(Surrogate, PicksTheCandidatesItPredictsToImproveTheFront) {
  Toy toy;
  const SearchState state = EvaluatedToyTrials(toy);
  // Candidates: one Pareto-optimal (x1..x5 = 0) and many poor ones (x1..x5 = 4, g = 10).
  std::vector<space::Genotype> candidates;
  for (int i = 0; i < 10; ++i) candidates.push_back({i % 5, 4, 4, 4, 4, 4});
  candidates.push_back({2, 0, 0, 0, 0, 0});
  const auto picks = SelectBySurrogate(state, toy.problem, candidates, 3, 1.0, 7);
  ASSERT_EQ(picks.size(), 3u);
  EXPECT_EQ(picks[0], 10u);
  EXPECT_EQ(std::set<size_t>(picks.begin(), picks.end()).size(), 3u);
  EXPECT_EQ(SelectBySurrogate(state, toy.problem, candidates, 3, 1.0, 7), picks);
}

// Candidates the architecture features cannot tell apart (one genotype) are ranked by an extra
// feature that tracks the objectives (as a zero-cost proxy would); without it the picks are the
// first candidates. ChosenFeatures keeps the extras when it drops the used and raw encodings.
TEST(Surrogate, ExtraFeaturesRankWhatTheArchitectureCannot) {
  Toy toy;
  SearchState state = EvaluatedToyTrials(toy);
  for (Trial& t : state.trials) t.metrics["synflow"] = -(t.metrics.at("val_error") + t.metrics.at("latency_ms"));
  const space::Genotype g{2, 2, 2, 2, 2, 2};
  std::vector<space::Genotype> candidates(8, g);
  ExtraFeatures extra{{"synflow"}, {}};
  for (int i = 0; i < 8; ++i) extra.candidates.push_back({i == 5 ? 0.0 : -8.0 - i});  // #5 looks best
  const auto with = SelectBySurrogate(state, toy.problem, candidates, 2, 0.0, 7, &extra);
  ASSERT_EQ(with.size(), 2u);
  EXPECT_EQ(with[0], 5u);
  const auto without = SelectBySurrogate(state, toy.problem, candidates, 2, 0.0, 7);
  EXPECT_EQ(without, (std::vector<std::size_t>{0, 1}));
  const std::vector<double> f{1, 2, 3, 4, 5, 6, 7, 8, 9};  // thirds of 2, connected, 2 extras
  EXPECT_EQ(ChosenFeatures(f, true, 2), (std::vector<double>{1, 2, 7, 8, 9}));
  EXPECT_EQ(ChosenFeatures(f, false, 2), f);
}

TEST(Surrogate, ChoosesTheModelThatRanksHeldOutTrialsBest) {
  // Features: one-hot choices of 10 decisions with 4 options (few repeats); a linear score s.
  std::mt19937_64 rng(11);
  std::vector<std::vector<double>> x;
  std::vector<double> s, product;
  std::normal_distribution<double> weight(0, 1);
  std::vector<double> w(40);
  for (double& v : w) v = weight(rng);
  for (int i = 0; i < 120; ++i) {
    std::vector<double> f(40, 0.0);
    double score = 0;
    int c0 = 0, c1 = 0;
    for (int d = 0; d < 10; ++d) {
      const int c = static_cast<int>(rng() % 4);
      f[d * 4 + c] = 1;
      score += w[d * 4 + c];
      if (d == 0) c0 = c;
      if (d == 1) c1 = c;
    }
    x.push_back(f);
    s.push_back(score);
    product.push_back((c0 % 2 == c1 % 2) ? 0.0 : 1.0);  // an interaction no linear fit sees
  }
  const double lo = *std::min_element(s.begin(), s.end()), hi = *std::max_element(s.begin(), s.end());
  std::vector<double> linear, exponential;
  for (double v : s) {
    const double u = (v - lo) / (hi - lo);  // in [0, 1]
    linear.push_back(u);
    // log(v + 0.01) linear in the features, v in [0, 1]: crowded near 0 like accuracy is.
    exponential.push_back(std::exp(std::log(0.01) + u * (std::log(1.01) - std::log(0.01))) - 0.01);
  }
  const SurrogateChoice for_linear = ChooseSurrogate(x, linear, 3);
  EXPECT_FALSE(for_linear.kernel);
  EXPECT_FALSE(for_linear.log);
  const SurrogateChoice for_exponential = ChooseSurrogate(x, exponential, 3);
  EXPECT_FALSE(for_exponential.kernel);
  EXPECT_TRUE(for_exponential.log);
  EXPECT_TRUE(ChooseSurrogate(x, product, 3).kernel);
  // Too few trials to cross-validate: the plain ridge.
  const SurrogateChoice few =
      ChooseSurrogate({x.begin(), x.begin() + 9}, {exponential.begin(), exponential.begin() + 9}, 3);
  EXPECT_FALSE(few.kernel || few.log);
}

TEST(Surrogate, UsesOnlyThePrunedEncodingWhenTheRawOneIsNoise) {
  // Rows laid out like SurrogateFeatures: pruned, used and raw encodings (12 one-hot decisions
  // of 4 options each), then the connected flag.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> weight(0, 1);
  std::vector<double> w(48);
  for (double& v : w) v = weight(rng);
  std::vector<std::vector<double>> x;
  std::vector<double> from_pruned, from_raw;
  auto one_hot = [&](std::vector<double>* f, double* score) {
    for (int d = 0; d < 12; ++d) {
      const int c = static_cast<int>(rng() % 4);
      f->push_back(0), f->push_back(0), f->push_back(0), f->push_back(0);
      (*f)[f->size() - 4 + c] = 1;
      *score += w[d * 4 + c];
    }
  };
  for (int i = 0; i < 100; ++i) {
    std::vector<double> f;
    double pruned = 0, used = 0, raw = 0;
    one_hot(&f, &pruned);
    one_hot(&f, &used);
    one_hot(&f, &raw);
    f.push_back(1);
    x.push_back(f);
    from_pruned.push_back(pruned);
    from_raw.push_back(raw);
  }
  auto unit = [](std::vector<double> v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double a = *lo, b = *hi;
    for (double& e : v) e = (e - a) / (b - a);
    return v;
  };
  EXPECT_TRUE(ChooseSurrogate(x, unit(from_pruned), 3).pruned_only);
  EXPECT_FALSE(ChooseSurrogate(x, unit(from_raw), 3).pruned_only);
  EXPECT_EQ(ChosenFeatures(x[0], true).size(), 49u);
  EXPECT_EQ(ChosenFeatures(x[0], false), x[0]);
}

TEST(KernelRegression, InterpolatesWhatItSawAndIsUnsureFarAway) {
  std::vector<std::vector<double>> x{{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  std::vector<double> y{0, 1, 1, 0};  // XOR: no linear model fits it
  predictors::KernelRegression m;
  m.Fit(x, y, predictors::KernelOptions{0.25, 1e-6});
  for (size_t i = 0; i < x.size(); ++i) {
    const auto [mu, sd] = m.Predict(x[i]);
    EXPECT_NEAR(mu, y[i], 1e-3);
    EXPECT_LT(sd, 0.01);
  }
  const auto [far_mu, far_sd] = m.Predict({10, 10});
  EXPECT_NEAR(far_mu, 0.5, 1e-6);           // the mean of the targets
  EXPECT_NEAR(far_sd, 0.5, 1e-6);           // the targets' standard deviation
  EXPECT_THROW(m.Fit({{0, 0}}, {1}), std::invalid_argument);
  // A longer length scale (median_scale) carries the fit further: less spread at a new point.
  predictors::KernelRegression wide;
  predictors::KernelOptions longer;
  longer.median_scale = 4;
  wide.Fit(x, y, longer);
  m.Fit(x, y, predictors::KernelOptions{});
  EXPECT_LT(wide.Predict({2, 2}).second, m.Predict({2, 2}).second);
  longer.median_scale = 0;
  EXPECT_THROW(wide.Fit(x, y, longer), std::invalid_argument);
}

TEST(Surrogate, AssistedNsga2FindsMoreOfTheToyFrontEarly) {
  Toy toy;
  int plain = 0, assisted = 0;
  for (std::uint64_t seed = 0; seed < 6; ++seed) {
    for (bool surrogate : {false, true}) {
      StrategyOptions opt;
      opt.population = 10;
      opt.surrogate = surrogate;
      auto s = CreateStrategy(opt);
      SearchState state = NewState(seed);
      Zdt1Evaluator ev;
      RunToy(toy, *s, state, testing::TempDir("sur"), 1, 80, ev);
      int optimal = 0;
      for (auto id : ParetoFront(state, toy.problem)) {
        const auto& g = state.trials[id].genotype;
        optimal += std::all_of(g.begin() + 1, g.end(), [](int v) { return v == 0; });
      }
      (surrogate ? assisted : plain) += optimal;
    }
  }
  EXPECT_GT(assisted, plain);
}

// The hypervolume's box is never a point: one complete trial, or several equal in an objective,
// does not fix it; once fixed, a better front scores more.
TEST(Hypervolume, TheBoxWaitsForCompleteTrialsThatDifferInEveryObjective) {
  Toy toy;
  SearchState s = NewState(1);
  auto add = [&](double err, double lat) {
    Trial t;
    t.id = static_cast<std::int64_t>(s.trials.size());
    t.state = TrialState::kComplete;
    t.metrics = {{"val_error", err}, {"latency_ms", lat}};
    s.trials.push_back(t);
  };
  add(0.5, 2.0);
  FixNormalisation(s, toy.problem);
  EXPECT_FALSE(HvFixed(s));
  add(0.4, 2.0);  // differs in the error only
  FixNormalisation(s, toy.problem);
  EXPECT_FALSE(HvFixed(s));
  add(0.45, 1.0);  // a front of two, spanning both objectives
  FixNormalisation(s, toy.problem);
  ASSERT_TRUE(HvFixed(s));
  const double first = NormalizedHypervolume(s, toy.problem);
  EXPECT_GT(first, 0);
  EXPECT_LT(first, 1);
  add(0.42, 1.5);  // a new front member between them
  const double second = NormalizedHypervolume(s, toy.problem);
  EXPECT_GT(second, first);
  EXPECT_LT(second, 1);
}

// Several runs shown together (status A B, serve A B): one box over all their trials, so that
// their hypervolumes compare; a run without a complete trial says so.
TEST(Hypervolume, RunsComparedTogetherShareOneBox) {
  Toy toy;
  auto run = [&](std::vector<std::pair<double, double>> points) {
    SearchState s = NewState(1);
    for (const auto& [err, lat] : points) {
      Trial t;
      t.id = static_cast<std::int64_t>(s.trials.size());
      t.state = TrialState::kComplete;
      t.metrics = {{"val_error", err}, {"latency_ms", lat}};
      s.trials.push_back(t);
    }
    return s;
  };
  const SearchState a = run({{0, 1}, {1, 0}}), b = run({{0.5, 0.5}, {2, 2}}), empty = run({});
  const CommonBox box = CommonBoxHypervolumes({&a, &b, &empty}, {&toy.problem, &toy.problem, &toy.problem});
  ASSERT_TRUE(box.error.empty()) << box.error;
  // The box: ideal (0, 0), reference the worst (2, 2) plus 10% of the range: (2.2, 2.2).
  EXPECT_EQ(box.ideal, (std::vector<double>{0, 0}));
  EXPECT_NEAR(box.reference[0], 2.2, 1e-12);
  const double u = 1 / 2.2;  // a unit of the objectives in the box
  EXPECT_NEAR(box.hv[0], (1 - u) + (1 - u) * u, 1e-12);  // two corners
  EXPECT_NEAR(box.hv[1], (1 - 0.5 * u) * (1 - 0.5 * u), 1e-12);  // (0.5, 0.5) dominates (2, 2)
  EXPECT_TRUE(std::isnan(box.hv[2]));
  EXPECT_NE(box.why[2].find("no complete"), std::string::npos);
  // Other objectives: no common box, said.
  Toy other;
  other.problem.objectives = {{"val_error", false}, {"params", false}};
  const CommonBox none = CommonBoxHypervolumes({&a, &b}, {&toy.problem, &other.problem});
  EXPECT_NE(none.error.find("objectives differ"), std::string::npos) << none.error;
}

// A multi-fidelity search completes one trial per generation (9 -> 3 -> 1): its hypervolume
// is recorded from the first generation whose complete trials differ in every objective, and it
// moves when the front does (it read 1.000 every generation when one trial fixed the box).
TEST(Hypervolume, AMultiFidelitySearchsHypervolumeMovesWithItsFront) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 9;
  auto nsga = CreateStrategy(opt);
  FidelityOptions f;
  f.rungs = {1, 3, 9};
  SearchState state = NewState(4);
  Zdt1Evaluator ev;
  RunToy(toy, *nsga, state, testing::TempDir("mfhv"), 1, 108, ev, nullptr, f);
  ASSERT_GE(state.hv_history.size(), 2u);
  EXPECT_LT(state.hv_history.size(), static_cast<std::size_t>(state.generation));  // not from the first
  EXPECT_EQ(state.hv_history.size(), state.hv_evals.size());
  std::set<double> distinct(state.hv_history.begin(), state.hv_history.end());
  EXPECT_GE(distinct.size(), 2u);
  for (size_t i = 1; i < state.hv_history.size(); ++i)
    EXPECT_GE(state.hv_history[i], state.hv_history[i - 1] - 1e-12);
}

// ---- The latency stage (search/latency_stage.h) ------------------------------------------------

/// Zdt1 with a latency stage: MeasureLatencies reports the toy's latency, blurred per
/// (trial, measurement) as a noisy machine would: the k-th measurement of a trial is off by a
/// fraction that depends on (id, k), with an interval of `wide` (relative) on first measurements
/// of trials whose id is a multiple of 3 and 1% otherwise. Training requests that need not
/// measure (measure_latency false) report no latency.
class NoisyLatencyEvaluator : public Zdt1Evaluator {
 public:
  evaluator::EvalResult Evaluate(const evaluator::EvalRequest& r) override {
    evaluator::EvalResult out = Zdt1Evaluator::Evaluate(r);
    if (!r.measure_latency) out.metrics.erase("latency_ms");
    else ++measured_in_training;
    return out;
  }
  bool CanMeasureLatencies() const override { return true; }
  std::vector<evaluator::EvalResult> MeasureLatencies(const std::vector<evaluator::EvalRequest>& requests) override {
    std::lock_guard<std::mutex> lock(mu);
    ++calls_together;
    std::vector<evaluator::EvalResult> out;
    for (const auto& q : requests) {
      std::vector<double> x;
      for (int v : q.genotype) x.push_back(v / 4.0);
      double g = 0;
      for (size_t i = 1; i < x.size(); ++i) g += x[i];
      g = 1 + 9 * g / (x.size() - 1);
      const int k = times[q.trial_id]++;
      const double truth = g * (1 - std::sqrt(x[0] / g));
      const double off = (((q.trial_id * 7919 + k * 104729) % 101) / 100.0 - 0.5) * (k == 0 ? wide : 0.01);
      evaluator::EvalResult r;
      r.trial_id = q.trial_id;
      r.ok = true;
      r.metrics["latency_ms"] = truth * (1 + off);
      r.metrics["latency_ci_ms"] = truth * (k == 0 && q.trial_id % 3 == 0 ? wide : 0.01);
      r.metrics["latency_noisy"] = k == 0 && q.trial_id % 3 == 0 && wide > 0.03;
      out.push_back(r);
      (q.rung == kLatencyRung ? requested : requested_again).push_back(q.trial_id);
    }
    return out;
  }
  double wide = 0.3;
  std::mutex mu;
  std::map<std::int64_t, int> times;
  std::vector<std::int64_t> requested, requested_again;  // first measurements; measurements again
  int calls_together = 0;
  std::atomic<int> measured_in_training{0};
};

RunSummary RunStage(const Problem& problem, const Strategy& strategy, SearchState& state, const std::string& dir,
                    int workers, std::int64_t max_evals, NoisyLatencyEvaluator& ev, std::atomic<bool>* stop = nullptr,
                    const FidelityOptions& fidelity = {}) {
  evaluator::WorkerPool pool(ev, workers);
  RunOptions o;
  o.run_dir = dir;
  o.max_evals = max_evals;
  o.stop = stop;
  o.fidelity = fidelity;
  o.latency_stage = true;
  return RunSearch(problem, strategy, state, pool, o);
}

// Each generation's latencies are measured together before it trains and journaled at once;
// training does not measure them again, and after a stop at any point the resumed search
// measures only what the journal does not hold: its trials, latency included, are those of an
// uninterrupted run (whose evaluator blurs every measurement differently, so a second
// measurement of any trial would show).
TEST(LatencyStage, JournalsLatenciesBeforeTrainingAndResumeNeverMeasuresOneAgain) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 8;
  auto nsga = CreateStrategy(opt);
  for (const bool rungs : {false, true}) {
    FidelityOptions f;
    if (rungs) f.rungs = {1, 3};
    std::vector<std::string> expect;
    {
      SearchState state = NewState(5);
      NoisyLatencyEvaluator ev;
      ev.wide = 0;  // no re-measurement here: this test is about the journal
      RunStage(toy.problem, *nsga, state, testing::TempDir("stage"), 2, 40, ev, nullptr, f);
      EXPECT_EQ(ev.measured_in_training.load(), 0);
      EXPECT_EQ(std::set<std::int64_t>(ev.requested.begin(), ev.requested.end()).size(), ev.requested.size());
      EXPECT_EQ(ev.requested.size(), state.trials.size());  // each once
      EXPECT_GE(ev.calls_together, 2);                      // a generation at a time
      for (const Trial& t : state.trials) EXPECT_TRUE(t.metrics.count("latency_ms")) << t.id;
      expect = TrialSignature(state);
    }
    for (int stop_after : {1, 5, 8, 13, 21, 30}) {
      const std::string dir = testing::TempDir("stage_resume");
      std::atomic<bool> stop{false};
      SearchState state = NewState(5);
      NoisyLatencyEvaluator ev;
      ev.wide = 0;
      ev.stop_after = stop_after;
      ev.stop = &stop;
      RunStage(toy.problem, *nsga, state, dir, 2, 40, ev, &stop, f);
      std::set<std::int64_t> journaled;
      for (const JournalEntry& e : Journal::Read(dir + "/journal.bin").entries)
        if (e.result.rung == kLatencyRung) journaled.insert(e.result.trial_id);
      SearchState resumed = LoadCheckpoint(dir + "/checkpoint.bin");
      NoisyLatencyEvaluator ev2;
      ev2.wide = 0;
      RunStage(toy.problem, *nsga, resumed, dir, 2, 40, ev2, nullptr, f);
      for (std::int64_t id : ev2.requested)
        EXPECT_FALSE(journaled.count(id)) << "#" << id << " measured again after a stop after " << stop_after;
      EXPECT_EQ(TrialSignature(resumed), expect) << (rungs ? "rungs, " : "") << "stopped after " << stop_after;
    }
  }
}

// A constraint on latency decided within the noise: proposals whose first interval straddles
// the bound are measured again, together, before the generation trains; the second (narrow)
// measurement decides and is journaled, and the others are not measured again. The same trials
// with 1 and 3 workers, and after a resume.
TEST(LatencyStage, MeasuresAgainWhatStraddlesALatencyConstraint) {
  Toy toy;
  Problem problem = toy.problem;
  problem.constraints = {{"latency_ms", true, 2.0}};
  StrategyOptions opt;
  opt.population = 9;
  auto nsga = CreateStrategy(opt);
  std::vector<std::string> expect;
  for (int workers : {1, 3}) {
    SearchState state = NewState(8);
    NoisyLatencyEvaluator ev;
    const std::string dir = testing::TempDir("straddle");
    RunStage(problem, *nsga, state, dir, workers, 27, ev, nullptr);
    int again = 0, straddled = 0;
    for (const Trial& t : state.trials) {
      const double lat = t.metrics.at("latency_ms");
      const bool remeasured = t.metrics.count("latency_remeasured") > 0;
      again += remeasured;
      // Those measured again straddled the bound with their first (wide) interval.
      if (remeasured) {
        EXPECT_EQ(t.metrics.at("latency_remeasured"), 1) << t.id;
        EXPECT_EQ(t.id % 3, 0) << "only wide intervals straddle";
        EXPECT_LT(t.metrics.at("latency_ci_ms"), 0.02 * lat + 1e-12);  // the narrow second measurement
        ++straddled;
      }
    }
    EXPECT_GT(again, 0);
    EXPECT_EQ(again, straddled);
    Journal journal(dir + "/journal.bin");
    int journaled_again = 0;
    for (const auto& [key, e] : journal.entries()) journaled_again += key.second == kRemeasureRung;
    EXPECT_EQ(journaled_again, again);
    if (expect.empty()) expect = TrialSignature(state);
    else EXPECT_EQ(TrialSignature(state), expect) << workers << " workers";
  }
  for (int stop_after : {2, 9, 12, 20}) {
    const std::string dir = testing::TempDir("straddle_resume");
    std::atomic<bool> stop{false};
    SearchState state = NewState(8);
    NoisyLatencyEvaluator ev;
    ev.stop_after = stop_after;
    ev.stop = &stop;
    RunStage(problem, *nsga, state, dir, 2, 27, ev, &stop);
    SearchState resumed = LoadCheckpoint(dir + "/checkpoint.bin");
    NoisyLatencyEvaluator ev2;
    RunStage(problem, *nsga, resumed, dir, 2, 27, ev2, nullptr);
    EXPECT_EQ(TrialSignature(resumed), expect) << "stopped after " << stop_after;
  }
}

// A promotion cut within the latencies' noise (synchronous rungs, latency an objective): the
// candidates whose own promotion flips between the ends of their interval are measured again
// together before the rung promotes; then the cut is made on the second measurements.
TEST(LatencyStage, MeasuresAgainTheCandidatesAPromotionCutDependsOn) {
  Toy toy;
  StrategyOptions opt;
  opt.population = 6;
  opt.batch = 18;
  auto nsga = CreateStrategy(opt);
  FidelityOptions f;
  f.rungs = {1, 3, 9};
  std::vector<std::string> expect;
  for (int workers : {1, 3}) {
    SearchState state = NewState(13);
    NoisyLatencyEvaluator ev;
    const std::string dir = testing::TempDir("cut");
    RunStage(toy.problem, *nsga, state, dir, workers, 36, ev, nullptr, f);
    std::ifstream log(dir + "/log.txt");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("promotion within the noise: measured again together"), std::string::npos) << text;
    int again = 0;
    for (const Trial& t : state.trials) again += t.metrics.count("latency_remeasured") > 0;
    EXPECT_GT(again, 0);
    if (expect.empty()) expect = TrialSignature(state);
    else EXPECT_EQ(TrialSignature(state), expect) << workers << " workers";
  }
}

}  // namespace
}  // namespace paretonas::search
