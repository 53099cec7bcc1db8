// `paretonas report RUN --out report.html`.
#include <fstream>
#include <iostream>
#include <sstream>

#include "experiments/cli_common.h"
#include "experiments/report.h"
#include "experiments/run_directory.h"
#include "search/run_files.h"
#include "space/input_error.h"

namespace paretonas::experiments {
namespace {

struct ReportOptions {
  std::string run_dir;
  std::string out;
};

int RunReport(const ReportOptions& o) {
  const RunPaths paths(o.run_dir);
  std::ifstream in(paths.config());
  if (!in) throw InputError(paths.dir + ": not a run directory (no config.yaml)");
  std::stringstream ss;
  ss << in.rdbuf();
  const ExperimentConfig config = ParseExperiment(ss.str(), paths.config(), {});
  const search::SearchState state = search::LoadCheckpoint(paths.checkpoint());
  auto session = MakeSession(config, false);
  const std::string out = o.out.empty() ? paths.dir + "/report.html" : o.out;
  search::WriteFileAtomic(out, RenderReport(config.name, state, session->problem));
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
