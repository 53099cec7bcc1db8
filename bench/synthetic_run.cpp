#include "bench/synthetic_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/front.h"
#include "search/pareto.h"
#include "search/run_files.h"

namespace paretonas::bench {
namespace {

const char* kConfig = R"(name: synthetic_serve
seed: 1
space:
  name: nb201
  set: {channels: 4, cells_per_stage: 1}
dataset:
  name: synthetic
  synthetic_train: 400
  synthetic_test: 200
  synthetic_size: 8
  synthetic_classes: 4
  validation: 100
training:
  epochs: 1
  batch_size: 32
  lr: 0.1
objectives:
  - {metric: val_accuracy, goal: max}
  - {metric: latency_ms, goal: min}
search:
  strategy: nsga2
  population: 50
evaluator:
  kind: train
  workers: 2
budget:
  max_evals: 1000000
)";

/// A plausible result: accuracy rises with a hidden capacity, latency too, with noise.
search::EvalResult Result(std::int64_t id, std::uint64_t seed) {
  std::mt19937_64 rng(search::TrialSeed(seed, id));
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> n(0, 1);
  search::EvalResult r;
  r.trial_id = id;
  r.seconds = 20 + 10 * u(rng);
  const double capacity = u(rng);
  if (u(rng) < 0.02) {
    r.ok = false;
    r.failure = u(rng) < 0.5 ? "diverged: NaN loss at epoch 1" : "out of memory";
    return r;
  }
  r.ok = true;
  r.metrics["val_accuracy"] = std::min(99.0, 45 + 40 * std::sqrt(capacity) + 3 * n(rng));
  r.metrics["latency_ms"] = 0.3 + 2.5 * capacity + 0.15 * std::abs(n(rng));
  r.metrics["latency_ci_ms"] = 0.01 + 0.02 * u(rng);
  r.metrics["latency_passes"] = 30;
  r.metrics["params"] = std::round(2000 + 40000 * capacity);
  r.metrics["macs"] = std::round(1e5 + 4e6 * capacity);
  r.metrics["train_seconds"] = r.seconds;
  return r;
}

}  // namespace

void WriteSyntheticRun(const std::string& dir, const SyntheticRun& spec) {
  experiments::MakeDirectories(dir);
  const experiments::RunPaths paths(dir);
  std::string text = kConfig;
  if (spec.command_evaluator) text.replace(text.find("  kind: train"), 13, "  kind: command\n  command: 'true'");
  search::WriteFileAtomic(paths.config(), text);
  const experiments::ExperimentConfig config = experiments::ParseExperiment(text, paths.config(), {});
  const auto session = experiments::MakeSession(config, false);
  const search::Problem& problem = session->problem;
  search::SearchState s;
  s.config_text = text;
  s.strategy = "nsga2";
  s.seed = spec.seed;
  s.SetRng(std::mt19937_64(spec.seed));
  std::mt19937_64 rng(spec.seed);
  const std::int64_t gens = (spec.trials + spec.per_generation - 1) / spec.per_generation;
  std::string journal = search::JournalHeaderBytes();
  std::vector<search::Point> front;  // the running first front, for the hypervolume by generation
  for (std::int64_t id = 0; id < spec.trials; ++id) {
    search::Trial t;
    t.id = id;
    t.generation = static_cast<int>(id / spec.per_generation);
    t.genotype = session->space->Sample(rng);
    t.key = session->space->Key(t.genotype);
    t.hash = session->space->CanonicalHash(t.genotype);
    t.seed = search::TrialSeed(spec.seed, id);
    if (t.generation > 0) t.parents = {id - spec.per_generation, id - spec.per_generation + 1};
    const bool last_gen = t.generation == gens - 1;
    const bool journaled = !last_gen || id - t.generation * spec.per_generation < spec.in_progress_done;
    const search::EvalResult r = Result(id, spec.seed);
    if (journaled) journal += search::JournalRecordBytes({t.key, r});
    if (last_gen) {
      t.state = search::TrialState::kPending;  // the generation in progress: results in the journal only
      s.pending.push_back(id);
    } else {
      t.state = r.ok ? search::TrialState::kComplete : search::TrialState::kFailed;
      t.failure = r.failure;
      t.metrics = r.metrics;
      t.seconds = r.seconds;
    }
    s.trials.push_back(std::move(t));
    const bool gen_end = (id + 1) % spec.per_generation == 0 && !last_gen;
    if (gen_end) {
      s.generation = static_cast<int>((id + 1) / spec.per_generation);
      search::FixNormalisation(s, problem);
      for (std::int64_t k = id + 1 - spec.per_generation; k <= id; ++k)
        if (s.trials[k].state == search::TrialState::kComplete) front.push_back(problem.ObjectiveVector(s.trials[k]));
      const auto fronts = search::NonDominatedSort(front);
      std::vector<search::Point> kept;
      for (int i : fronts[0]) kept.push_back(front[i]);
      front = kept;
      if (!s.hv_ideal.empty()) {
        std::vector<search::Point> norm;
        for (auto p : front) {
          for (size_t i = 0; i < p.size(); ++i) p[i] = (p[i] - s.hv_ideal[i]) / (s.hv_reference[i] - s.hv_ideal[i]);
          norm.push_back(p);
        }
        s.hv_history.push_back(search::Hypervolume(norm, search::Point(2, 1.0)));
        s.hv_evals.push_back(s.NumFinished());
      }
    }
  }
  s.population = search::ParetoFront(s, problem);
  search::SaveCheckpoint(paths.checkpoint(), s);
  search::WriteFileAtomic(paths.journal(), journal);
}

search::JournalEntry SyntheticEntry(std::int64_t id, std::uint64_t seed) { return {"synthetic", Result(id, seed)}; }

bool SyntheticResultOk(std::int64_t id, std::uint64_t seed) { return Result(id, seed).ok; }

void AppendSyntheticResult(const std::string& dir, std::int64_t id, std::uint64_t seed, Append how) {
  const experiments::RunPaths paths(dir);
  const search::EvalResult r = Result(id, seed);
  if (how == Append::kJournal) {
    search::Journal j(paths.journal());
    j.Append({"synthetic", r});
    return;
  }
  std::string bytes = search::JournalRecordBytes({"synthetic", r});
  if (how == Append::kDamaged) bytes[5] = static_cast<char>(bytes[5] ^ 0x5a);  // the CRC no longer matches
  const int fd = ::open(paths.journal().c_str(), O_WRONLY | O_APPEND);
  if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    throw std::runtime_error(paths.journal() + ": cannot append");
  ::close(fd);
}

}  // namespace paretonas::bench
