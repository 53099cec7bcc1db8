// `paretonas status RUN`: progress and the current front, readable while a search runs.
#include <unistd.h>

#include <iostream>

#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "search/run_files.h"
#include "search/search_loop.h"

namespace paretonas::experiments {
namespace {

struct StatusOptions {
  std::string run_dir;
};

int RunStatus(const StatusOptions& o) {
  const RunPaths paths(o.run_dir);
  if (::access(paths.checkpoint().c_str(), F_OK) != 0) {
    std::cout << LoadRunConfig(o.run_dir).name << ": started, no checkpoint yet\n";
    return kExitOk;
  }
  const LoadedRun run = LoadRun(o.run_dir);
  const ExperimentConfig& config = run.config;
  const search::SearchState& state = run.state;
  const Session* session = run.session.get();
  const auto journal = search::Journal::Read(paths.journal());
  // Pending trials already told to the state (a graceful stop saves them) or only in the
  // journal (finished since the last checkpoint) count once.
  std::int64_t pending_done = 0, pending_told = 0;
  for (auto id : state.pending) {
    const bool told = id >= 0 && id < static_cast<std::int64_t>(state.trials.size()) &&
                      state.trials[id].finished();
    bool journaled = false;
    for (const auto& e : journal.entries) journaled |= e.result.trial_id == id;
    pending_told += told;
    pending_done += !told && journaled;
  }
  std::cout << config.name << " (" << paths.dir << ")\n"
            << "  strategy:    " << state.strategy << ", generation " << state.generation << "\n"
            << "  evaluations: " << state.NumFinished() + pending_done;
  if (config.max_evals > 0) std::cout << " / " << config.max_evals;
  std::cout << " (" << state.pending.size() - pending_done - pending_told << " of the current generation's "
            << state.pending.size() << " still running or queued)\n";
  int failed = 0;
  for (const auto& t : state.trials) failed += t.state == search::TrialState::kFailed;
  std::cout << "  failed:      " << failed << "\n"
            << "  hypervolume: "
            << (state.hv_history.empty() ? std::string("-") : std::to_string(state.hv_history.back()))
            << "\n";
  if (!journal.error.empty()) std::cout << "  warning: " << journal.error << "\n";
  std::cout << "\nPareto front (as of generation " << state.generation << "):\n"
            << FrontTable(state, session->problem);
  return kExitOk;
}

}  // namespace

void SetupStatus(CLI::App& app) {
  auto o = std::make_shared<StatusOptions>();
  auto* sub = app.add_subcommand("status", "Show a search's progress and current Pareto front");
  sub->add_option("run_dir", o->run_dir, "Run directory")->required();
  sub->callback([o] { RunCommand([o] { return RunStatus(*o); }); });
}

}  // namespace paretonas::experiments
