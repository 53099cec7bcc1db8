// Latency model files: refused with a runtime_error naming the file, or loaded and usable.
#include <stdexcept>

#include "fuzz/fuzz_common.h"
#include "predictors/latency_model.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string path = fuzz::WriteInput(data, size, ".model");
  try {
    const auto m = predictors::LatencyModel::Load(path);
    try {
      const auto sp = m.space().Load();
      std::mt19937_64 rng(1);
      (void)m.Predict(sp, sp.Sample(rng));
    } catch (const InputError&) {  // a model for a space file that is not here
    }
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) fuzz::Fail("error without the file name");
  }
  return 0;
}
