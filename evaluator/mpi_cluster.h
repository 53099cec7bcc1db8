// The same search on Open MPI: rank 0 searches, every other rank evaluates.
//
// Rank 0 keeps the search state, checkpoint and journal, exactly as a single process does; its
// evaluator is a RemoteEvaluator that hands requests to worker ranks. Each worker rank builds its
// own evaluator and TBB pool from the experiment text rank 0 sends, then serves requests. Workers
// pull: a request goes only to a rank with a free slot, and a finished result frees that slot.
// Messages are cereal portable-binary EvalRequest / EvalResult values.
//
// Torch-free. Without Open MPI at build time, or without mpirun at run time, Active() is false and
// nothing here does anything.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evaluator/batch_evaluator.h"
#include "evaluator/worker_pool.h"

namespace paretonas::evaluator::mpi {

/// This process's rank among the ranks on its node, from the launcher's environment
/// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID); -1 when not launched by one.
/// Worker ranks on a node with several GPUs use GPU (local rank mod count).
int LocalRank();

/// True when this binary was built with Open MPI.
bool Built();
/// "Open MPI v4.1.4, ..." when built with MPI, else "".
std::string LibraryVersion();

/// Starts MPI when this process was launched by mpirun/srun (the launcher's environment
/// variables are set); otherwise does nothing, so a plain run never touches MPI.
void Init(int* argc, char*** argv);
/// True under a launcher with two or more ranks.
bool Active();
int Rank();
int Size();
/// How many worker ranks share this node's cores (rank 0 only searches, so it does not count);
/// 1 when not under mpirun. `workers: auto` divides the node's cores among them.
int WorkerRanksOnThisNode();
/// Process exit on rank 0 (call once, last): workers that are idle are told to quit and MPI is
/// finalized; when evaluations are still running on workers (a stop or an error mid-search) the
/// whole job is aborted with `exit_code` instead, because their results are not wanted.
/// Returns `exit_code`.
int Finish(int exit_code);

/// What a worker rank evaluates with, built from the experiment text rank 0 sends. `owner`
/// keeps alive whatever `pool` uses.
struct WorkerEngine {
  std::shared_ptr<void> owner;
  WorkerPool* pool = nullptr;
};
/// Thrown by a worker's factory for bad input (rank 0 reports it with exit code 2).
using EngineFactory = std::function<WorkerEngine(const std::string& experiment_text)>;

/// Body of every rank except 0: waits for rank 0's experiment (or its "quit"), builds the
/// engine, serves requests until rank 0 says quit, finalizes MPI. A failure to build the
/// engine is sent to rank 0, which stops the run with it. Returns the process exit code.
int ServeWorker(const EngineFactory& make_engine);

/// Rank 0's evaluator: sends `experiment_text` to every worker rank at construction, waits for
/// each to report ready (or throws InputError / std::runtime_error naming the rank that could
/// not start), then schedules batches on the workers' free slots.
class RemoteEvaluator : public BatchEvaluator {
 public:
  explicit RemoteEvaluator(const std::string& experiment_text);
  ~RemoteEvaluator() override;
  /// Requests go to ranks as their slots free up; results are reported as they arrive. When
  /// `cancel` becomes true it returns at once: requests not yet sent are skipped and the ones
  /// running on workers are abandoned (not in the journal, so a resume re-runs them with the
  /// same seeds). Throws std::runtime_error if a worker reports a fatal error.
  void EvaluateBatch(const std::vector<EvalRequest>& requests,
                     const std::function<void(const EvalResult&)>& on_done,
                     const std::atomic<bool>* cancel) override;
  /// Asks `next()` whenever a worker slot is free (see BatchEvaluator::EvaluateAsReady).
  void EvaluateAsReady(const std::function<std::optional<EvalRequest>()>& next,
                       const std::function<void(const EvalResult&)>& on_done,
                       const std::atomic<bool>* cancel) override;
  std::string Describe() const override;
  /// What the stop message tells the user to run, e.g. "paretonas resume runs/x".
  void set_resume_command(std::string command) { resume_command_ = std::move(command); }
  /// Messages a worker rank reported at start ("rank 1: pid 123 on node7, 2 slots, table ...").
  const std::vector<std::string>& worker_lines() const { return worker_lines_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> worker_lines_;
  std::string resume_command_ = "paretonas resume RUN_DIR";
};

}  // namespace paretonas::evaluator::mpi
