// `paretonas report RUN --out report.html`.
#include <iostream>

#include "experiments/cli_common.h"
#include "experiments/live_run.h"
#include "space/input_error.h"
#include "experiments/report.h"
#include "search/run_files.h"

namespace paretonas::experiments {
namespace {

struct ReportOptions {
  std::string run_dir;
  std::string out;
};

int RunReport(const ReportOptions& o) {
  LoadRunConfig(o.run_dir);  // not a run directory: an InputError (exit 2)
  // What `serve` would show now, including the generation in progress of a running search.
  LiveRun run(o.run_dir);
  run.Refresh();
  const RunView view = run.View();
  if (!view.error.empty()) throw search::RunFileError(view.error);
  if (!view.state)
    throw InputError(o.run_dir + ": no checkpoint yet (the search has not finished its first generation); "
                     "nothing to report");
  const std::string out = o.out.empty() ? o.run_dir + "/report.html" : o.out;
  search::WriteFileAtomic(out, RenderReport(view));
  std::cout << out << "\n";
  return kExitOk;
}

}  // namespace

void SetupReport(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* sub = app.add_subcommand("report", "Write a self-contained HTML report of a run (front plot, hypervolume, table, graphs)");
  sub->add_option("run_dir", o->run_dir, "Run directory")->required();
  sub->add_option("-o,--out", o->out, "Output HTML file (default RUN/report.html)");
  sub->callback([o] { RunCommand([o] { return RunReport(*o); }); });
}

}  // namespace paretonas::experiments
