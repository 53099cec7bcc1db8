#include "tests/test_paths.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace paretonas::testing {

std::string TempDir(const std::string& tag) {
  std::string templ = "/tmp/paretonas-test-" + tag + "-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  return templ;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace paretonas::testing
