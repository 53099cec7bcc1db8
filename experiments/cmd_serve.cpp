// `paretonas serve RUN [RUN ...]`: a live page of searches, running or done.
#include <malloc.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "experiments/cli_common.h"
#include "experiments/run_directory.h"
#include "experiments/serve.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct ServeOptions {
  std::vector<std::string> runs;
  std::string host = "127.0.0.1";
  int port = 8080;
  double refresh = 0.5;
  double max_wait = 25;
};

int RunServe(const ServeOptions& o) {
  if (!ServeAvailable())
    throw search::RunFileError("this paretonas was built without cpp-httplib (Debian: libcpp-httplib-dev), "
                               "which `serve` needs; run scripts/install-deps.sh and build again");
  ServeLimits limits;
  limits.refresh_seconds = o.refresh;
  limits.max_wait_seconds = o.max_wait;
  LiveServer server(o.runs, limits);
  const int port = server.Bind(o.host, o.port);
  const bool local = o.host == "127.0.0.1" || o.host == "localhost" || o.host == "::1";
  if (!local)
    std::cerr << "paretonas: warning: serving on " << o.host << ": the page has no login; anyone who can reach "
              << o.host << ":" << port << " can read these runs (their configs, trials and fronts)\n";
  std::cout << "paretonas serve: " << o.runs.size() << " run(s) at http://"
            << (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) << ":" << port
            << "/ (read-only; the page updates itself; Ctrl-C stops)" << std::endl;
  // Pages of 10,000 trials are megabytes: keep freed memory for the next render instead of
  // returning it to the kernel and faulting it in again (a third of a render's time otherwise).
  ::mallopt(M_MMAP_THRESHOLD, 256 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  std::atomic<bool>* stop = InstallStopHandlers("\nparetonas serve: stopping (signal again to end at once)\n");
  std::thread watcher([&] {
    while (!stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.Stop();
  });
  server.Run();
  stop->store(true);
  watcher.join();
  std::cout << "paretonas serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void SetupServe(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* sub = app.add_subcommand(
      "serve",
      "Serve a live page of one or more runs: the front on axes you choose, every trial, the hypervolume by "
      "generation, progress, and a page per trial; it updates itself while the search runs (read-only)");
  sub->add_option("runs", o->runs, "Run directories (several: their fronts overlaid on one plot)")->required();
  sub->add_option("--port", o->port, "TCP port (0: any free port)")->check(CLI::Range(0, 65535))->capture_default_str();
  sub->add_option("--host", o->host,
                  "Address to listen on; anything but 127.0.0.1 exposes the page, which has no login, to the network")
      ->capture_default_str();
  sub->add_option("--refresh", o->refresh, "Seconds between checks of the run directories for new results")
      ->check(CLI::Range(0.05, 60.0))->capture_default_str();
  sub->add_option("--max-wait", o->max_wait,
                  "Seconds a page's long poll (/api/wait) is held open at most before it asks again (a proxy "
                  "that cuts idle requests, or a headless browser that waits for the page to settle, wants less)")
      ->check(CLI::Range(0.1, 600.0))->capture_default_str();
  sub->callback([o] { RunCommand([o] { return RunServe(*o); }); });
}

}  // namespace paretonas::experiments
