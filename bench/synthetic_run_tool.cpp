// The synthetic run of `serve`'s benchmark from the command line, for benchmarks written in other
// languages (bench/trials_page_browser.py):
//
//   synthetic_run_tool write DIR TRIALS       a run of TRIALS trials (generations of 50, the last
//                                             in progress); prints the first pending trial's id
//   synthetic_run_tool append DIR ID [ID...]  the synthetic results of pending trials, appended to
//                                             DIR/journal.bin as a search does (fsynced); prints
//                                             when the first append began (ms since the epoch,
//                                             after the program's start and the journal's opening)
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "bench/synthetic_run.h"
#include "experiments/run_directory.h"
#include "search/run_files.h"

int main(int argc, char** argv) {
  const std::string verb = argc > 1 ? argv[1] : "";
  if (argc < 4 || (verb != "write" && verb != "append")) {
    std::cerr << "usage: synthetic_run_tool write DIR TRIALS | append DIR ID [ID...]\n";
    return 2;
  }
  paretonas::bench::SyntheticRun spec;
  if (verb == "write") {
    spec.trials = std::stoll(argv[3]);
    paretonas::bench::WriteSyntheticRun(argv[2], spec);
    std::printf("%lld\n", static_cast<long long>((spec.trials - 1) / spec.per_generation * spec.per_generation +
                                                 spec.in_progress_done));
    return 0;
  }
  // Opening the journal reads it through (as a resuming search does): timed from after that.
  paretonas::search::Journal journal(paretonas::experiments::RunPaths(argv[2]).journal());
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  std::printf("%.1f\n", std::chrono::duration<double, std::milli>(now).count());
  std::fflush(stdout);
  for (int i = 3; i < argc; ++i) journal.Append(paretonas::bench::SyntheticEntry(std::stoll(argv[i]), spec.seed));
  const auto after = std::chrono::system_clock::now().time_since_epoch();
  std::fprintf(stderr, "appended in %.1f ms (written and fsynced)\n", std::chrono::duration<double, std::milli>(after - now).count());
  return 0;
}
