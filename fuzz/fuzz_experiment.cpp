// Experiment files (and --set overrides): refused with InputError naming file, line, field and
// value, or parsed into a config whose resolved YAML parses again to the same config.
#include "experiments/experiment_config.h"
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = experiments::ParseExperiment(text, "fuzz.yaml", {});
    const auto again = experiments::ParseExperiment(c.ToYaml(), "resolved.yaml", {});
    if (again.ToYaml() != c.ToYaml()) fuzz::Fail("the resolved config does not parse back to itself");
  } catch (const InputError&) {
  }
  return 0;
}
