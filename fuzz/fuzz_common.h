// Shared helpers of the libFuzzer targets (see fuzz/CMakeLists.txt, `make fuzz`).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace paretonas::fuzz {

/// The parsers under test read files: each input is written to one per-process temp file.
inline std::string WriteInput(const uint8_t* data, size_t size, const char* suffix) {
  const std::string path = "/tmp/paretonas-fuzz-" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return path;
}

/// A contract violation: abort so that libFuzzer keeps the input.
[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "paretonas fuzz: %s\n", what);
  std::abort();
}

}  // namespace paretonas::fuzz
