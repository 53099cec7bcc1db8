// Durable files of a run directory: atomic snapshots, the CRC-framed journal, the checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cereal/cereal.hpp>

#include "search/eval_contract.h"
#include "search/problem.h"
#include "search/search_state.h"

namespace paretonas::search {

/// A file could not be written or read. The message names the file and, for damage, the offset.
class RunFileError : public std::runtime_error {
 public:
  explicit RunFileError(const std::string& m) : std::runtime_error(m) {}
};

/// Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename, fsync of
/// the folder. On failure the previous file is untouched and the temp file removed.
void WriteFileAtomic(const std::string& path, const std::string& bytes);

/// Current checkpoint format. Bump with every change of SearchState's serialised fields.
constexpr std::uint32_t kCheckpointFormat = 2;  // 2: trials carry their rung and learning curve

/// Saves `state` to `path` (magic, format, length, CRC-32, cereal portable binary). The previous
/// checkpoint is kept as `path`.prev.
void SaveCheckpoint(const std::string& path, const SearchState& state);

/// Loads a checkpoint; throws RunFileError naming the file and offset on damage, or refusing a
/// newer format.
SearchState LoadCheckpoint(const std::string& path);

/// One finished evaluation as persisted: the key guards against reusing a result for another
/// architecture.
struct JournalEntry {
  std::string key;
  EvalResult result;
  template <class Archive>
  void serialize(Archive& ar, std::uint32_t /*version*/) {
    ar(key, result);
  }
};

/// Append-only journal of finished evaluations. Each record: u32 length, u32 CRC-32, payload.
class Journal {
 public:
  /// Opens (creating if needed) `path`. Reads every valid record; a damaged tail is reported in
  /// `warning` (file and offset) and cut off so appends continue after the last good record.
  explicit Journal(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Appends and fsyncs. Throws RunFileError (the file then still ends at a record boundary).
  void Append(const JournalEntry& entry);
  /// Keyed by (trial id, rung): a multi-fidelity trial has one entry per rung it finished;
  /// other trials have rung -1.
  using Key = std::pair<std::int64_t, int>;
  const std::map<Key, JournalEntry>& entries() const { return entries_; }
  /// Every entry's key in the order the entries were appended (the order results arrived).
  const std::vector<Key>& order() const { return order_; }
  /// The entry of `id` at `rung`, or null.
  const JournalEntry* Find(std::int64_t id, int rung) const {
    auto it = entries_.find({id, rung});
    return it == entries_.end() ? nullptr : &it->second;
  }
  const std::string& warning() const { return warning_; }

  struct ReadResult {
    std::vector<JournalEntry> entries;
    std::uint64_t valid_bytes = 0;
    std::string error;  ///< empty, or "<file>: damaged record at offset N: reason"
  };
  /// Reads the valid prefix of a journal without changing it.
  static ReadResult Read(const std::string& path);

 private:
  std::string path_;
  int fd_ = -1;
  std::map<Key, JournalEntry> entries_;
  std::vector<Key> order_;
  std::string warning_;
};

/// The bytes Journal writes: the file's header, and one record (length, CRC-32, payload). For
/// tools that write a journal in one go (the serve benchmark's synthetic runs).
std::string JournalHeaderBytes();
std::string JournalRecordBytes(const JournalEntry& entry);

/// Follows a journal that another process appends to, reading only what was appended since the
/// last Poll (for `serve`; never writes). A complete record that is damaged (CRC mismatch, cannot
/// decode) is skipped and reported; an incomplete one at the end (being written, or cut by a
/// crash) waits for the next Poll. A journal replaced, shrunk (resume cut a damaged tail) or
/// removed is read again from its start.
class JournalTail {
 public:
  explicit JournalTail(std::string path) : path_(std::move(path)) {}
  struct Update {
    std::vector<JournalEntry> entries;  ///< decoded from the bytes appended since the last Poll
    bool restarted = false;             ///< read again from the start: drop what earlier Polls gave
    std::vector<std::string> skipped;   ///< "<file>: damaged record at offset N skipped: reason"
  };
  Update Poll();
  /// Bytes read and decoded (or skipped) so far.
  std::uint64_t offset() const { return offset_; }
  /// Bytes after offset() that are not a whole record yet.
  std::uint64_t incomplete_bytes() const { return incomplete_; }

 private:
  std::string path_;
  std::uint64_t offset_ = 0, incomplete_ = 0, inode_ = 0;
  bool unreadable_ = false;  ///< a bad header or an impossible length: nothing after it can be framed
  /// The last damaged record skipped: its offset and first bytes. A resumed search cuts the
  /// journal there and appends after it; when those bytes change, the journal is read again.
  std::uint64_t damaged_at_ = 0;
  std::string damaged_head_;
};

/// One trial as a line of trials.jsonl (without the newline): id, generation, arch, hash,
/// status, seed, parents, seconds, "started" and "finished" (UTC, ISO 8601, where recorded),
/// failure, with `problem` its "choices" ({decision: option label}) and for a complete trial whether it is
/// feasible ("feasible": true | false, and "violated": the constraints it breaks, as written),
/// its metrics, and in multi-fidelity its rung and curve. `serve`'s JSON answers trials in this
/// form too.
std::string TrialJson(const Trial& t, const Problem* problem = nullptr);

/// Writes trials.jsonl (every finished trial) and front.csv (the front) into `run_dir` atomically.
void WriteTrialFiles(const std::string& run_dir, const SearchState& state, const Problem& problem);

/// JSON string literal for `s`.
std::string JsonString(const std::string& s);
/// Number in JSON, its shortest form that reads back as the same double (non-finite values
/// become null).
std::string JsonNumber(double v);
/// UTC time in ISO 8601 with milliseconds ("2026-12-07T21:40:12.345Z").
std::string IsoTime(double unix_seconds);

}  // namespace paretonas::search

CEREAL_CLASS_VERSION(paretonas::search::JournalEntry, 1);
