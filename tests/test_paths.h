// Paths the tests use: the source tree and the optional ../shared/ benchmarks folder.
#pragma once

#include <fstream>
#include <string>

namespace paretonas::testing {

inline std::string SourceDir() { return PARETONAS_SOURCE_DIR; }

/// ../shared/benchmarks/nb201/nb201_cifar10.csv beside the checkout, or "" when absent.
inline std::string Nb201Csv() {
  const std::string p = SourceDir() + "/../shared/benchmarks/nb201/nb201_cifar10.csv";
  std::ifstream f(p);
  return f ? p : "";
}

/// A fresh, empty temporary directory.
std::string TempDir(const std::string& tag);

/// Writes `text` to `path`.
void WriteText(const std::string& path, const std::string& text);

}  // namespace paretonas::testing
