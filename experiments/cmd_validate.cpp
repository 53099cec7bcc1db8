// `paretonas validate X.yaml`: check an experiment file and print the resolved config.
#include <iostream>

#include "evaluator/user_data.h"
#include "experiments/cli_common.h"
#include "space/input_error.h"
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
  // Everything search and export will read of the user's data: the test split too (its labels,
  // its shape), which only export reads.
  if (evaluator::IsUserDataset(config.dataset.name)) {
    try {
      const evaluator::UserData d = evaluator::LoadUserData(config.dataset, true);
      if (d.skipped > 0) {
        std::cerr << "paretonas: note: dataset.skip_unreadable: " << d.skipped
                  << " unreadable image(s) will be skipped:";
        for (const auto& f : d.skipped_files) std::cerr << "\n  " << f;
        if (d.skipped > static_cast<int>(d.skipped_files.size())) std::cerr << "\n  ...";
        std::cerr << "\n";
      }
    } catch (const InputError& e) {
      throw InputError(o.config + ": dataset: " + e.what());
    }
  }
  // What `search` checks of the latency predictor, `validate` checks too.
  if (!config.latency_predictor.empty())
    PredictedLatency::CheckFits(LoadLatencyPredictor(config.PredictorPath()), *session->space,
                                config.latency_predictor, config.training.deploy_precision);
  for (const std::string& w : config.warnings) std::cerr << "paretonas: warning: " << w << "\n";
  std::cout << "# " << o.config << ": valid" << (config.warnings.empty() ? "" : " (with the warnings above)")
            << ". Resolved config (defaults filled in):\n"
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
