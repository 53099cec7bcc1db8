// What a latency kit brings back from a device: its measurements CSV (architecture keys and
// milliseconds, read as `latency fit` reads them) and its kit.json beside manifest.csv. The
// first input byte splits the rest into the two files. Refused with InputError, or rows whose
// keys parse in the space and whose latencies are positive.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "fuzz/fuzz_common.h"
#include "predictors/measurement_files.h"
#include "space/input_error.h"
#include "space/search_space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  static const space::SearchSpace sp = space::SearchSpace::Load(
      "nb201", {{"channels", "4"}, {"cells_per_stage", "1"}}, space::InputSpec{{1, 16, 16}, 10});
  if (size < 1) return 0;
  const std::size_t cut = std::min<std::size_t>(size - 1, static_cast<std::size_t>(data[0]) * 2);
  const std::string dir = "/tmp/paretonas-fuzz-kit-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/manifest.csv", std::ios::trunc)
      << "index,key,onnx,torchscript,input,params,macs\n0,|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|,,m.pt,1x16x16,1,1\n";
  std::ofstream(dir + "/kit.json", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(cut));
  const std::string csv = dir + "/latency.csv";
  std::ofstream(csv, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data + 1 + cut), static_cast<std::streamsize>(size - 1 - cut));
  try {
    const predictors::MeasuredRows rows = predictors::ReadMeasurements(csv, sp, "key", "latency_ms");
    if (rows.archs.size() != rows.ms.size() || rows.keys.size() != rows.ms.size()) fuzz::Fail("one value per row");
    for (double v : rows.ms)
      if (!(v > 0) || !std::isfinite(v)) fuzz::Fail("latencies are positive and finite");
  } catch (const InputError&) {
  }
  try {
    const predictors::KitRecord kit = predictors::ReadKitBeside(csv);
    if (!kit.found || kit.keys.size() != 1) fuzz::Fail("the manifest's one model");
  } catch (const InputError&) {
  }
  return 0;
}
