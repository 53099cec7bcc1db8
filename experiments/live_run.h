// A run directory read while a search may still be writing it: what `status`, `report` and
// `serve` show. Reads only; never writes in the run directory.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/run_files.h"
#include "search/search_state.h"

namespace paretonas::experiments {

/// Whether a search is running on a run directory, as `status` decides it: the lock's live
/// holder, else what <dir>/ended recorded.
struct RunCondition {
  /// running | finished | stopped | failed | error | unknown (no end recorded: killed or crashed)
  std::string kind;
  std::string text;  ///< one line for a user, with the command that continues it where one does
  long pid = 0;      ///< the running process
  bool operator==(const RunCondition& o) const { return kind == o.kind && text == o.text && pid == o.pid; }
};
RunCondition ReadRunCondition(const RunPaths& paths);

/// One journal record of the generation in progress applied to `t`, a trial the checkpoint has
/// pending, as the search will apply it: a latency measurement merges its metrics, a full
/// evaluation or a rung result sets the trial's outcome. Other records are ignored.
void ApplyInProgress(search::Trial& t, const search::EvalResult& r, const ExperimentConfig& config,
                     const search::Problem& problem, int generation);

/// A trial of the generation in progress that has not finished: the highest rung it finished
/// (-1: none yet, queued or training).
struct InFlight {
  std::int64_t id = 0;
  int rung_done = -1;
};

/// What the renderer draws of a run (report.h): everything by reference into the LiveRun.
struct RunView {
  std::string title;
  std::string dir;
  const ExperimentConfig* config = nullptr;  ///< null until config.yaml could be read
  const search::SearchState* state = nullptr;  ///< null until the first checkpoint
  const search::Problem* problem = nullptr;
  RunCondition condition;
  std::vector<std::int64_t> front;  ///< ids of the Pareto front now (search::ParetoFront), when state is set
  std::vector<InFlight> in_flight;  ///< while running, multi-fidelity or not
  int in_progress_complete = 0;     ///< trials of the generation in progress complete so far
  std::vector<std::string> notes;   ///< damaged journal records skipped, read errors
  std::string error;                ///< the run cannot be read now (e.g. its directory was deleted)
};

/// A run directory followed as a search writes it. Refresh() reads what changed since the last
/// call: the checkpoint again only when it was replaced (the search writes it between
/// generations), the journal from where the last read stopped. Not thread-safe: callers lock.
class LiveRun {
 public:
  explicit LiveRun(std::string dir);
  ~LiveRun();
  /// Returns whether anything a page shows changed. Never throws: a failure to read becomes
  /// the view's `error` and the last good state stays.
  bool Refresh();
  /// Grows by one with every change Refresh() found.
  std::uint64_t version() const { return version_; }
  RunView View() const;
  const std::string& dir() const { return paths_.dir; }

 private:
  void Rebuild();
  void Apply(const search::JournalEntry& e);
  bool Relevant(std::int64_t id) const;

  RunPaths paths_;
  std::optional<ExperimentConfig> config_;
  std::unique_ptr<Session> session_;
  bool have_checkpoint_ = false;
  search::SearchState now_;  ///< the last checkpoint with the journal's records of the generation in progress
  /// The checkpoint's own copies of its pending trials (the rest of now_ is the checkpoint's):
  /// what a journal read again from its start is applied to. One copy of the run, not two.
  std::vector<search::Trial> pending_saved_;
  /// The front among the checkpoint's finished trials (they do not change until the next
  /// checkpoint): the front now is the front among these and the pending trials.
  std::vector<std::int64_t> finished_front_;
  int checkpoint_generation_ = 0;
  std::vector<bool> pending_;       ///< by trial id: pending in the checkpoint
  struct FileId {
    std::uint64_t inode = 0, size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileId& o) const { return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns; }
  } checkpoint_id_;
  search::JournalTail tail_;
  std::vector<search::JournalEntry> kept_;  ///< records of trials the checkpoint has not finished
  std::map<std::int64_t, int> rung_done_;
  std::vector<std::string> notes_;
  std::string error_;
  RunCondition condition_;
  std::uint64_t version_ = 0;
};

}  // namespace paretonas::experiments
