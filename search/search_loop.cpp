#include "search/search_loop.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <fstream>
#include <sstream>

#include "search/generation_runner.h"
#include "search/progress_text.h"

namespace paretonas::search {

std::string RunSummary::BriefReport() const {
  std::ostringstream os;
  os << message << " | " << evaluations << " evaluations (" << failed << " failed";
  if (stopped) os << ", " << stopped << " stopped below the top rung";
  if (screened) os << "; " << screened << " more proposals screened out by the pre-screen";
  if (reused_from_journal) os << ", " << reused_from_journal << " from the journal";
  os << "), " << generations << " generations, front " << front_size << ", hypervolume "
     << (std::isnan(hypervolume) ? std::string("-") : Fmt(hypervolume)) << ", " << FormatDuration(seconds);
  return os.str();
}

RunSummary RunSearch(const Problem& problem, const Strategy& strategy, SearchState& state,
                     BatchEvaluator& evaluator, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::ofstream log_file(options.run_dir + "/log.txt", std::ios::app);
  const std::function<void(const std::string&)> log = [&](const std::string& line) {
    if (options.log) options.log(line);
    log_file << line << "\n";
    log_file.flush();
  };
  const std::string checkpoint = options.run_dir + "/checkpoint.bin";
  Journal journal(options.run_dir + "/journal.bin");
  if (!journal.warning().empty()) log("warning: " + journal.warning());

  RunSummary summary;
  // The runners stop on the caller's flag (a signal), which the loop also sets to stop a search
  // whose every evaluation fails; without one, on a flag of its own.
  std::atomic<bool> own_stop{false};
  std::atomic<bool>& halt = options.stop ? *options.stop : own_stop;
  RunOptions inner = options;
  inner.stop = &halt;
  auto stop_requested = [&] { return options.stop && options.stop->load(); };
  int failures_in_a_row = 0;
  bool any_success = false;
  std::string last_failure;
  bool gave_up = false;
  const std::function<void(const Trial&)> applied = [&](const Trial& t) {
    if (t.state != TrialState::kFailed) {
      any_success = true;
      return;
    }
    if (any_success || options.max_failures_in_a_row <= 0) return;
    last_failure = "#" + std::to_string(t.id) + ": " + t.failure;
    if (++failures_in_a_row >= options.max_failures_in_a_row && !gave_up) {
      gave_up = true;
      halt = true;
    }
  };
  const std::unique_ptr<GenerationRunner> runner = CreateGenerationRunner(options.fidelity);
  const GenerationContext generation{problem, state, journal, evaluator, inner, log, summary, start, applied};
  // budget.seconds counts the loop's time in every process: what earlier ones spent, then ours.
  const double seconds_before = state.search_seconds;
  auto spent = [&] {
    return seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto checkpoint_now = [&] {
    state.search_seconds = spent();
    SaveCheckpoint(checkpoint, state);
  };

  while (true) {
    if (state.pending.empty()) {
      if (options.max_generations > 0 && state.generation >= options.max_generations) {
        summary.termination = RunSummary::Termination::kMaxGenerations;
        summary.message = "reached " + std::to_string(options.max_generations) + " generations";
        break;
      }
      if (options.max_evals > 0 && state.NumFinished() >= options.max_evals) {
        summary.termination = RunSummary::Termination::kMaxEvals;
        summary.message = "reached " + std::to_string(options.max_evals) + " evaluations";
        break;
      }
      if (options.max_seconds > 0 && spent() >= options.max_seconds) {
        summary.termination = RunSummary::Termination::kMaxSeconds;
        summary.message = "reached the time budget of " + FormatSeconds(options.max_seconds) + " (" +
                          FormatSeconds(spent()) + " spent, at the end of a generation)";
        break;
      }
      // Always a whole generation, even when the budget ends inside it: its unevaluated rest
      // stays pending, so that `resume --max-evals` with more continues exactly the search a
      // larger budget would have run.
      const int made = strategy.Ask(state, problem, 1 << 30);
      if (made == 0) {
        summary.termination = RunSummary::Termination::kSpaceExhausted;
        summary.message = "the space has no unevaluated architecture left";
        break;
      }
      checkpoint_now();
    }
    if (halt.load()) break;
    if (options.prescreen.enabled() && !PrescreenGeneration(generation)) break;
    if (!runner->Run(generation)) break;

    const int finished_generation = state.generation;  // Tell moves on to the next one
    strategy.Tell(state, problem);
    FixNormalisation(state, problem);
    const double hv = NormalizedHypervolume(state, problem);
    if (HvFixed(state)) {  // none is recorded before the box is fixed (see FixNormalisation)
      state.hv_history.push_back(hv);
      state.hv_evals.push_back(state.NumFinished());
    }
    WriteTrialFiles(options.run_dir, state, problem);
    checkpoint_now();
    std::ostringstream line;
    // Generations are numbered from 0, as in the "[gen N]" lines of their evaluations.
    line << "generation " << finished_generation << " done: " << state.NumFinished()
         << " evaluations, front " << ParetoFront(state, problem).size() << ", hypervolume "
         << (HvFixed(state) ? Fmt(hv) : std::string("- (not yet: its box waits for complete trials that differ in every objective)"));
    if (strategy.options().remeasure_front) {  // trials that measure their parent's network again
      int second = 0;
      for (const Trial& t : state.trials)
        if (t.generation == finished_generation && t.parents.size() == 1 &&
            problem.space->CanonicalHash(t.genotype, space::EdgeSet::kAll) ==
                problem.space->CanonicalHash(state.trials[t.parents[0]].genotype, space::EdgeSet::kAll))
          ++second;
      line << "; second measurements in this generation: " << second;
    }
    log(line.str());
  }
  if (gave_up) {
    summary.termination = RunSummary::Termination::kFailures;
    summary.message = "stopped: the first " + std::to_string(failures_in_a_row) +
                      " evaluations of this process all failed (search.max_failures_in_a_row: " +
                      std::to_string(options.max_failures_in_a_row) + "), the last " + last_failure;
    checkpoint_now();
  } else if (stop_requested() && summary.message.empty()) {  // a signal
    summary.termination = RunSummary::Termination::kInterrupted;
    summary.message = "interrupted; finished evaluations are saved";
    checkpoint_now();
  }
  WriteTrialFiles(options.run_dir, state, problem);
  summary.evaluations = state.NumFinished();
  for (const Trial& t : state.trials) {
    summary.failed += t.state == TrialState::kFailed;
    summary.stopped += t.state == TrialState::kStopped;
    summary.screened += t.state == TrialState::kScreened;
  }
  summary.generations = state.generation;
  summary.front_size = ParetoFront(state, problem).size();
  summary.hypervolume = state.hv_history.empty() ? NAN : state.hv_history.back();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace paretonas::search
