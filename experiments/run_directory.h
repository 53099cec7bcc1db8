// RunDirectory: the files of one search on disk, and the lock that keeps one process on it.
#pragma once

#include <atomic>
#include <string>

namespace paretonas::experiments {

/// Paths of a run directory's files.
struct RunPaths {
  explicit RunPaths(std::string dir) : dir(std::move(dir)) {}
  std::string dir;
  std::string config() const { return dir + "/config.yaml"; }
  std::string checkpoint() const { return dir + "/checkpoint.bin"; }
  std::string journal() const { return dir + "/journal.bin"; }
  std::string trials() const { return dir + "/trials.jsonl"; }
  std::string front() const { return dir + "/front.csv"; }
  std::string lock() const { return dir + "/lock"; }
  /// How the last process that drove the search ended (RecordEnd); absent while one runs, and
  /// after a kill -9 or a crash.
  std::string ended() const { return dir + "/ended"; }
  /// An int8 search's integer arithmetic (engine, weight and activation ranges) and the CPU that
  /// started it; `resume` refuses another arithmetic (Int8Record).
  std::string int8() const { return dir + "/int8.json"; }
};

/// The pid of the live process that holds the run directory's lock, or 0 when none does (a lock
/// file left by a dead process does not count: the kernel dropped its flock).
long LockHolder(const std::string& dir);

/// Writes <dir>/ended atomically: `kind` (finished | stopped | error), a one-line `message`, and
/// the time. Best effort: a failure to write it is not an error of the search.
void RecordEnd(const std::string& dir, const std::string& kind, const std::string& message);

/// Exclusive lock on a run directory (flock on `lock`, released by the kernel when the process
/// dies, so a stale lock file from a dead process never blocks). Throws InputError when another
/// live process holds it, naming its pid.
class RunLock {
 public:
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

/// Throws InputError when `dir` exists and is not a directory: a file given where a run directory
/// belongs (its message says so, and names the run directory when the file is one of a run's).
void RefuseFileAsRunDirectory(const std::string& dir);

/// Creates `dir` and its parents; throws InputError when it cannot.
void MakeDirectories(const std::string& dir);

/// Installs SIGINT/SIGTERM handlers that ask the search to stop after saving; a second signal
/// ends the process at once. Returns the flag they set. `message`: what the first signal prints
/// instead of the search's (a string literal: the handler writes it as it is).
std::atomic<bool>* InstallStopHandlers(const char* message = nullptr);

}  // namespace paretonas::experiments
