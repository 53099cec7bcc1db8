// `paretonas latency calibrate|fit|eval|predict`: the latency predictor (not built yet).
#include "experiments/cli_common.h"

namespace paretonas::experiments {

void SetupLatency(CLI::App& app) {
  auto* sub = app.add_subcommand("latency", "Latency predictor: calibrate, fit, eval, predict (not implemented yet)");
  sub->allow_extras();
  sub->callback([] { NotImplemented("latency"); });
}

}  // namespace paretonas::experiments
