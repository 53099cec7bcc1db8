// The one exception type for bad user input (config, space file, CSV, CLI values).
#pragma once

#include <stdexcept>
#include <string>

namespace paretonas {

/// Bad input from the user. The message names the file, the field (and line when known), the bad
/// value and what is allowed. The CLI maps it to exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace paretonas
