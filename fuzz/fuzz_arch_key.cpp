// Architecture keys (CLI --arch, CSV key columns): refused with InputError or parsed to a valid
// genotype whose key parses back to the same genotype.
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"
#include "space/search_space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  static const space::SearchSpace nb201 = space::SearchSpace::Load("nb201", {}, space::InputSpec{});
  static const space::SearchSpace mobilenet =
      space::SearchSpace::Load("mobilenet", {}, space::InputSpec{{1, 28, 28}, 10});
  const std::string key(reinterpret_cast<const char*>(data), size);
  for (const space::SearchSpace* sp : {&nb201, &mobilenet}) {
    try {
      const space::Genotype g = sp->ParseKey(key);
      if (!sp->CheckGenotype(g).empty()) fuzz::Fail("ParseKey accepted an invalid genotype");
      if (sp->ParseKey(sp->Key(g)) != g) fuzz::Fail("Key(ParseKey(k)) does not parse back");
    } catch (const InputError&) {
    }
  }
  return 0;
}
