// `paretonas serve`: a live page of one or more run directories, over HTTP (cpp-httplib).
// Read-only: it never writes in a run directory, so it is safe beside a running, resumed or MPI
// search. Only the run directories it was given are readable through it: no part of a request
// path reaches the file system (runs and trials are addressed by their index and id).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace paretonas::experiments {

struct ServeLimits {
  int threads = 16;             ///< requests handled at once (a watching page holds one in its long poll)
  int max_queued = 64;          ///< connections waiting beyond these; more wait in the kernel's backlog
  double refresh_seconds = 0.5; ///< how often the run directories are checked for changes
  double max_wait_seconds = 25; ///< the longest /api/wait holds a request open
  std::size_t max_request_bytes = 4096;  ///< request bodies (none are expected: GET only)
};

class LiveServer {
 public:
  /// Throws InputError when a directory does not exist or holds no run (and no search is starting there).
  LiveServer(std::vector<std::string> run_dirs, ServeLimits limits = {});
  ~LiveServer();
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  /// Binds `host:port` (port 0: any free port) and returns the port; throws RunFileError when it cannot.
  int Bind(const std::string& host, int port);
  /// Serves until Stop() (from another thread or a signal handler's watcher).
  void Run();
  void Stop();
  /// How many /api/wait requests began to wait (the browser test appends once a page waits).
  std::uint64_t waits() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whether this binary was built with cpp-httplib (libcpp-httplib-dev).
bool ServeAvailable();

}  // namespace paretonas::experiments
