// The per-trial files of a run directory: trained weights (weight inheritance) and the training
// states kept between rungs (multi-fidelity), their paths, their clean-up and their disk use.
#pragma once

#include <cstdint>
#include <string>

#include "search/trial.h"

namespace paretonas::search {

/// Path of the trained weights of trial `id` in `run_dir` (weight inheritance).
std::string WeightsPath(const std::string& run_dir, std::int64_t id);

/// Path of the saved training state of trial `id` after `rung` in `run_dir`.
std::string RungStatePath(const std::string& run_dir, std::int64_t id, int rung);

/// Files and bytes of the training states in `run_dir`/states.
struct StateDiskUse {
  std::int64_t files = 0;
  std::int64_t bytes = 0;
};
StateDiskUse RungStateDiskUse(const std::string& run_dir);

/// `run_dir` as an absolute path, for the evaluators that open state files (MPI worker ranks
/// may run in another working directory); creates its states and weights folders.
std::string StatesRunDir(const std::string& run_dir);

/// Removes `path` if it exists.
void RemoveFile(const std::string& path);

/// After `t`'s result at rung `r`: rung r - 1's state is replaced by rung r's, and a failed
/// trial needs neither. `dir` as StatesRunDir gives it.
void CleanRungStates(const std::string& dir, const Trial& t, int r);

}  // namespace paretonas::search
