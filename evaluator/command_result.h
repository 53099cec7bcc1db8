// The result file of the command evaluator's training command, parsed (torch-free: fuzzed).
#pragma once

#include <map>
#include <string>

namespace paretonas::evaluator {

/// The result file a command writes: {"metrics": {"val_accuracy": 91.2, ...}, "curve": [...]}.
/// `metrics` is required and holds finite numbers; `curve` (optional, one object per epoch) stays
/// in the trial folder. Returns "" and fills `metrics`, or says what is wrong.
std::string ParseCommandResult(const std::string& text, std::map<std::string, double>* metrics);

}  // namespace paretonas::evaluator
