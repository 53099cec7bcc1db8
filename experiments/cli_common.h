// Shared pieces of the CLI verbs: exit codes, error mapping, run setup, front tables.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "evaluator/mpi_cluster.h"
#include "evaluator/worker_pool.h"
#include "experiments/experiment_config.h"
#include "experiments/export_input.h"
#include "experiments/predicted_latency.h"
#include "predictors/latency_model.h"
#include "search/run_files.h"
#include "search/problem.h"
#include "search/search_state.h"
#include "search/strategy.h"
#include "space/search_space.h"

namespace paretonas::experiments {

/// Exit codes of the paretonas binary.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,         ///< I/O failure, internal error
  kExitUsage = 2,           ///< bad arguments or bad input (config, space, data)
  kExitNotImplemented = 3,  ///< a verb or option that is not built yet
  kExitInterrupted = 130,   ///< stopped by SIGINT/SIGTERM after saving the state
};

/// A number 0 or more, refused with the value and what is allowed (CLI11's NonNegativeNumber
/// prints its range up to the largest double, 300 digits).
const CLI::Validator& NonNegative();

/// Where verbs store their exit code (CLI11 callbacks return void).
int& CommandExitCode();

/// Runs `body`, printing errors as "paretonas: error: ..." and mapping them to exit codes:
/// InputError -> 2, RunFileError and other exceptions -> 1.
void RunCommand(const std::function<int()>& body);

/// Prints "<verb>: not implemented yet" and sets exit code 3.
void NotImplemented(const std::string& what);

/// A progress line on stderr ending in an ETA from the rate so far: on a terminal redrawn in
/// place at most once a second (and when the work is done), in a log a new line at each further
/// tenth of the work. Not thread-safe: callers from several threads hold a lock.
class ProgressLine {
 public:
  /// `newline_at_end`: on a terminal, end the line when the work is done (false where the
  /// caller ends it itself).
  explicit ProgressLine(bool newline_at_end = true);
  /// `fraction` of the work done, in [0, 1]; `text()` is what to show before the ETA (called
  /// only when the line is printed).
  void Update(double fraction, const std::function<std::string()>& text);

 private:
  std::chrono::steady_clock::time_point start_, last_print_;
  double last_tenth_ = 0;
  bool tty_;
  bool newline_at_end_;
};

/// Everything a search needs, built from a config.
struct Session {
  ExperimentConfig config;
  std::unique_ptr<space::SearchSpace> space;
  search::Problem problem;
  std::unique_ptr<search::Strategy> strategy;
  std::unique_ptr<evaluator::Evaluator> evaluator;
  std::unique_ptr<evaluator::CachingEvaluator> cache;
  std::unique_ptr<evaluator::WorkerPool> pool;                ///< evaluates here
  std::unique_ptr<evaluator::mpi::RemoteEvaluator> remote;    ///< or on MPI worker ranks
  std::unique_ptr<PredictedLatency> predicted;  ///< with evaluator.latency.predictor
  /// What evaluates without the predictor: the local pool or the worker ranks.
  evaluator::BatchEvaluator& evaluation() {
    return remote ? static_cast<evaluator::BatchEvaluator&>(*remote) : *pool;
  }
  /// What the search evaluates with: evaluation(), or the predictor wrapped around it.
  evaluator::BatchEvaluator& batch() {
    return predicted ? static_cast<evaluator::BatchEvaluator&>(*predicted) : evaluation();
  }
};

/// Builds the space, problem and strategy; with `with_evaluator`, also the evaluation: under
/// mpirun on rank 0 the worker ranks (started with this config), else the data and a local pool.
std::unique_ptr<Session> MakeSession(const ExperimentConfig& config, bool with_evaluator);

/// How the models of `config` are fed (shape, pixel_max, mean, std, class names), for exports.
ExportInput MakeExportInput(const ExperimentConfig& config, const space::InputSpec& input, bool baked);

/// The graph of an architecture as JSON (vertices with shapes, edges with ops and liveness), as
/// `export --format json` and the command evaluator's graph.json write it.
std::string GraphJson(const space::SearchSpace& space, const space::Genotype& genotype);

/// Body of an MPI worker rank's evaluator: a local pool built from the experiment text rank 0
/// sent (without the latency predictor, which rank 0 applies).
evaluator::mpi::WorkerEngine MakeWorkerEngine(const std::string& experiment_text);

/// Reads RUN/config.yaml with `overrides` applied; throws InputError when `run_dir` is not a run
/// directory.
ExperimentConfig LoadRunConfig(const std::string& run_dir,
                               const std::vector<std::string>& overrides = {});

/// The current generation's trials not finished in the checkpoint: those the journal already
/// holds (finished since the last checkpoint) and those still to evaluate.
struct PendingCounts {
  std::int64_t journaled = 0;
  std::int64_t to_run = 0;
};
PendingCounts CountPending(const search::SearchState& state, const search::Journal::ReadResult& journal);

/// Loads evaluator.latency.predictor; a missing or damaged file is an InputError naming the key.
predictors::LatencyModel LoadLatencyPredictor(const std::string& path);

/// A search read back from its run directory: config, last checkpoint, and a session without
/// evaluator. Throws InputError (not a run directory) or RunFileError (damaged checkpoint).
struct LoadedRun {
  ExperimentConfig config;
  search::SearchState state;
  std::unique_ptr<Session> session;
};
LoadedRun LoadRun(const std::string& run_dir);

/// The input of the `--space/--input/--classes` options: `input` as CxHxW, or "" for the
/// space's usual one (1x28x28 for mobilenet, 3x32x32 otherwise). Throws InputError.
space::InputSpec ParseInputOption(const std::string& input, int classes, const std::string& space_name);

/// Parses "key=value" space overrides from --set options.
std::map<std::string, std::string> ParseSpaceSets(const std::vector<std::string>& sets);

/// The current front as an aligned text table (objectives, params, MACs, latency, arch).
std::string FrontTable(const search::SearchState& state, const search::Problem& problem,
                       std::size_t max_arch_chars = 60);

/// Registered verbs (one file each).
void SetupSearch(CLI::App& app);
void SetupResume(CLI::App& app);
void SetupStatus(CLI::App& app);
void SetupExport(CLI::App& app);
void SetupPick(CLI::App& app);

/// `export RUN --id ID... --format FORMAT --out OUT` with the run's defaults otherwise (pick
/// --export). Returns the exit code; throws InputError as the verb does.
int ExportTrials(const std::string& run_dir, const std::vector<std::int64_t>& ids, const std::string& format,
                 const std::string& out);
void SetupReport(CLI::App& app);
void SetupServe(CLI::App& app);
void SetupLatency(CLI::App& app);
void SetupSpace(CLI::App& app);
void SetupValidate(CLI::App& app);
void SetupSupernet(CLI::App& app);

}  // namespace paretonas::experiments
