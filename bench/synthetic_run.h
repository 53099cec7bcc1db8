// Synthetic run directories for `serve`'s tests and benchmark: a checkpoint and a journal as a
// search writes them, with any number of trials, written in seconds instead of hours.
#pragma once

#include <cstdint>
#include <string>

#include "search/run_files.h"

namespace paretonas::bench {

struct SyntheticRun {
  std::int64_t trials = 100;    ///< trials in all, the generation in progress included
  int per_generation = 50;      ///< trials a generation
  int in_progress_done = 10;    ///< of the last generation (pending in the checkpoint), results in the journal
  std::uint64_t seed = 1;
  bool command_evaluator = false;  ///< evaluator.kind: command (its trials' curves in RUN/trials/ID/)
};

/// Writes DIR/config.yaml (a tiny synthetic NB201 experiment: accuracy against latency),
/// DIR/checkpoint.bin (every generation but the last finished, with its hypervolume) and
/// DIR/journal.bin (a record for every finished trial and for the first `in_progress_done` of the
/// last generation, which the checkpoint has pending). About 2% of the trials failed.
void WriteSyntheticRun(const std::string& dir, const SyntheticRun& spec);

/// How a record reaches the journal.
enum class Append {
  kJournal,  ///< as a search does: search::Journal (which first cuts a damaged tail, as resume does)
  kRaw,      ///< the record's bytes added at the end, nothing else touched
  kDamaged,  ///< the record's bytes with a CRC that does not match, added at the end
};

/// Appends the result of trial `id` (pending in the checkpoint) to DIR/journal.bin.
void AppendSyntheticResult(const std::string& dir, std::int64_t id, std::uint64_t seed, Append how = Append::kJournal);

/// The journal record of trial `id`'s synthetic result.
search::JournalEntry SyntheticEntry(std::int64_t id, std::uint64_t seed);

/// Whether the synthetic result of trial `id` is a complete trial (about 2% fail).
bool SyntheticResultOk(std::int64_t id, std::uint64_t seed);

}  // namespace paretonas::bench
