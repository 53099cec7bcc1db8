// Space files: any input either loads or is refused with InputError (exit 2 in the CLI); a loaded
// space samples, keys, re-parses and costs its architectures without crashing.
#include <random>

#include "fuzz/fuzz_common.h"
#include "space/input_error.h"
#include "space/search_space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string path = fuzz::WriteInput(data, size, ".yaml");
  try {
    const auto sp = space::SearchSpace::Load(path, {}, space::InputSpec{});
    std::mt19937_64 rng(size);
    for (int i = 0; i < 3; ++i) {
      const space::Genotype g = sp.Sample(rng);
      if (!sp.CheckGenotype(g).empty()) fuzz::Fail("Sample gave an invalid genotype");
      // Keys name architectures (a skipped block's unused choices are not part of it).
      const space::Genotype back = sp.ParseKey(sp.Key(g));
      if (sp.Key(back) != sp.Key(g) || sp.CanonicalHash(back) != sp.CanonicalHash(g))
        fuzz::Fail("Key/ParseKey do not round-trip");
      (void)sp.Costs(g);
      (void)sp.CanonicalHash(g);
    }
  } catch (const InputError&) {
  }
  return 0;
}
