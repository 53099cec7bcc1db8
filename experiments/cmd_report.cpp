// `paretonas report RUN --out report.html`.
#include "experiments/cli_common.h"

namespace paretonas::experiments {

void SetupReport(CLI::App& app) {
  auto* sub = app.add_subcommand("report", "Write a self-contained HTML report of a run (not implemented yet)");
  sub->allow_extras();
  sub->callback([] { NotImplemented("report"); });
}

}  // namespace paretonas::experiments
