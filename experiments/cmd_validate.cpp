// `paretonas validate X.yaml`: check an experiment file and print the resolved config.
#include <iostream>

#include "experiments/cli_common.h"
#include "experiments/predicted_latency.h"

namespace paretonas::experiments {
namespace {

struct ValidateOptions {
  std::string config;
  std::vector<std::string> sets;
};

int RunValidate(const ValidateOptions& o) {
  const ExperimentConfig config = LoadExperiment(o.config, o.sets);
  auto session = MakeSession(config, false);  // also checks the space
  // What `search` checks of the latency predictor, `validate` checks too.
  if (!config.latency_predictor.empty())
    PredictedLatency::CheckFits(LoadLatencyPredictor(config.latency_predictor), *session->space,
                                config.latency_predictor);
  std::cout << "# " << o.config << ": valid. Resolved config (defaults filled in):\n"
            << config.ToYaml() << "# space '" << session->space->name() << "': "
            << session->space->decisions().size() << " decisions\n";
  return kExitOk;
}

}  // namespace

void SetupValidate(CLI::App& app) {
  auto o = std::make_shared<ValidateOptions>();
  auto* sub = app.add_subcommand("validate", "Check an experiment file and print the resolved config");
  sub->add_option("config", o->config, "Experiment file")->required()->check(CLI::ExistingFile);
  sub->add_option("--set", o->sets, "Override a config value, e.g. --set seed=3 (repeatable)");
  sub->callback([o] { RunCommand([o] { return RunValidate(*o); }); });
}

}  // namespace paretonas::experiments
