// How fast `paretonas serve` shows a run, and how much memory it holds (issue #44).
//
//   serve_bench PARETONAS WORKDIR [--sizes 100,10000,100000] [--repeats 3] [--updates 10]
//
// For each size: writes a synthetic run directory of that many trials (generations of 50; the
// last in progress, 10 of its results in the journal), then, per repeat, starts `PARETONAS serve`
// on it and measures over HTTP on this machine:
//   first render: from starting the process until GET / has answered with the whole page
//                 (process start, checkpoint and journal read, page rendered and sent);
//   page again:   a second GET / (render and transfer only);
//   update:       from appending one result to the open journal (fsynced, as a search does) until
//                 the long poll /api/wait has answered and GET /fragment/run/0 has returned the
//                 new content: what the open page does to show it;
//                 (seen: until the long poll answered, i.e. the page knows);
//   every trial:  GET /run/0/trials and the columns it loads (/api/run/0/columns: the page of
//                 every trial, issue #56), and after each update the columns from the first
//                 unfinished trial on (what that page asks for);
//   memory:       the server's VmHWM (peak resident set), LibTorch's share included (the
//                 binary alone: `/usr/bin/time -f %M paretonas --version`).
// Its client asks for no compression: what a browser gets (gzip) and does with the page is
// bench/trials_page_browser.py's.
// Prints one line per size with medians; the figures go to bench/RESULTS.md.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/synthetic_run.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

long StatusKb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

std::uint64_t Version(const std::string& body) {
  const auto p = body.find("\"version\":");
  return p == std::string::npos ? 0 : std::stoull(body.substr(p + 10));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: serve_bench PARETONAS WORKDIR [--sizes 100,10000,100000] [--repeats 3] [--updates 10]\n";
    return 2;
  }
  const std::string bin = argv[1], work = argv[2];
  std::vector<std::int64_t> sizes{100, 10000, 100000};
  int repeats = 3, updates = 10;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--sizes") {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::stoll(x));
    } else if (k == "--repeats") {
      repeats = std::stoi(v);
    } else if (k == "--updates") {
      updates = std::stoi(v);
    } else {
      std::cerr << "serve_bench: unknown option " << k << "\n";
      return 2;
    }
  }
  if (repeats * updates > 40) {
    std::cerr << "serve_bench: repeats x updates must be at most 40 (the results of one generation)\n";
    return 2;
  }
  const int port = 18000 + static_cast<int>(::getpid() % 1000);
  std::printf("%-8s %10s %12s %12s %12s %12s %12s %10s %10s %10s %12s %10s\n", "trials", "write_s", "first_ms",
              "again_ms", "seen_ms", "update_ms", "update_max_ms", "page_MB", "hwm_MB", "all_ms", "all_upd_ms",
              "cols_MB");
  for (std::int64_t n : sizes) {
    const std::string dir = work + "/run-" + std::to_string(n);
    paretonas::bench::SyntheticRun spec;
    spec.trials = n;
    spec.per_generation = 50;
    const auto tw = Clock::now();
    paretonas::bench::WriteSyntheticRun(dir, spec);
    const double write_s = Since(tw);
    const std::int64_t first_pending = (n - 1) / 50 * 50 + spec.in_progress_done;
    std::vector<double> first, again, update, seen, hwm, all, all_update;
    double page_mb = 0, cols_mb = 0;
    for (int r = 0; r < repeats; ++r) {
      std::fflush(stdout);
      const auto t0 = Clock::now();
      const pid_t pid = ::fork();
      if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        const std::string p = std::to_string(port);
        ::execl(bin.c_str(), bin.c_str(), "serve", dir.c_str(), "--port", p.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
      }
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      std::string body;
      for (int k = 0; k < 6000 && body.empty(); ++k) {
        if (auto page = c.Get("/"); page && page->status == 200) body = page->body;
        else std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (body.empty()) {
        std::cerr << "serve_bench: the server did not answer\n";
        ::kill(pid, SIGKILL);
        return 1;
      }
      first.push_back(1000 * Since(t0));
      page_mb = static_cast<double>(body.size()) / 1e6;
      const auto ta = Clock::now();
      auto p2 = c.Get("/");
      again.push_back(1000 * Since(ta));
      const auto tc = Clock::now();
      auto all_page = c.Get("/run/0/trials");
      auto cols = c.Get("/api/run/0/columns");
      all.push_back(1000 * Since(tc));
      if (!all_page || !cols || cols->status != 200) {
        std::cerr << "serve_bench: the page of every trial did not answer\n";
        ::kill(pid, SIGKILL);
        return 1;
      }
      cols_mb = static_cast<double>(cols->body.size()) / 1e6;
      const std::string next = cols->body.substr(cols->body.find("\"next\":") + 7);
      const std::string since = next.substr(0, next.find(','));
      paretonas::search::Journal journal(dir + "/journal.bin");  // open, as the search holds it
      for (int u = 0; u < updates; ++u) {
        std::uint64_t v = Version(c.Get("/api/wait?version=0")->body);
        std::this_thread::sleep_for(std::chrono::milliseconds(600));  // let the server settle
        v = Version(c.Get("/api/wait?version=0")->body);
        const auto tu = Clock::now();
        journal.Append(paretonas::bench::SyntheticEntry(first_pending + r * updates + u, spec.seed));  // fsynced
        auto w = c.Get(("/api/wait?version=" + std::to_string(v) + "&timeout=20").c_str());
        seen.push_back(1000 * Since(tu));
        auto f = c.Get("/fragment/run/0");
        if (!w || !f || Version(w->body) == v) {
          std::cerr << "serve_bench: the update did not arrive\n";
          ::kill(pid, SIGKILL);
          return 1;
        }
        update.push_back(1000 * Since(tu));
        auto fresh = c.Get(("/api/run/0/columns?since=" + since).c_str());
        if (!fresh || fresh->status != 200) {
          std::cerr << "serve_bench: the columns did not answer\n";
          ::kill(pid, SIGKILL);
          return 1;
        }
        all_update.push_back(1000 * Since(tu));
        std::fprintf(stderr, "  %lld trials, repeat %d, update %d: seen %.1f ms, shown %.1f ms\n",
                     static_cast<long long>(n), r, u, seen.back(), update.back());
      }
      hwm.push_back(StatusKb(pid, "VmHWM") / 1024.0);
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    std::printf("%-8lld %10.2f %12.1f %12.1f %12.1f %12.1f %12.1f %10.2f %10.1f %10.1f %12.1f %10.2f\n",
                static_cast<long long>(n), write_s, Median(first), Median(again), Median(seen), Median(update),
                *std::max_element(update.begin(), update.end()), page_mb, Median(hwm), Median(all),
                Median(all_update), cols_mb);
    std::fflush(stdout);
  }
  return 0;
}
