// The result file a user's training command writes (evaluator.kind: command): refused with a
// message, or metrics that are all finite numbers.
#include <cmath>
#include <map>
#include <string>

#include "evaluator/command_result.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  std::map<std::string, double> metrics;
  const std::string why = evaluator::ParseCommandResult(std::string(reinterpret_cast<const char*>(data), size), &metrics);
  if (why.empty()) {
    if (metrics.empty()) fuzz::Fail("an accepted result has metrics");
    for (const auto& [k, v] : metrics)
      if (!std::isfinite(v)) fuzz::Fail("an accepted metric is finite");
  }
  return 0;
}
