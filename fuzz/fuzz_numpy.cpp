// The user's NumPy data (dataset.name: numpy): a .npz (zip, stored or deflated members, .npy
// headers) read by LoadUserData: refused with InputError, or images and labels that agree.
#include "evaluator/user_data.h"
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  evaluator::DatasetOptions o;
  o.name = "numpy";
  o.path = fuzz::WriteInput(data, size, ".npz");
  o.max_memory_mb = 64;  // a header may claim any size: refused before allocating
  try {
    const evaluator::UserData d = evaluator::LoadUserData(o, true);
    for (const evaluator::ImageArray* a : {&d.train, &d.val, &d.test}) {
      if (static_cast<std::int64_t>(a->labels.size()) != a->n) fuzz::Fail("one label per image");
      const std::size_t elems = static_cast<std::size_t>(a->n * a->c * a->h * a->w);
      if ((a->is_uint8 ? a->u8.size() : a->f32.size()) != elems) fuzz::Fail("N x C x H x W elements");
    }
    if (d.classes < 2) fuzz::Fail("a dataset that loads has two classes at least");
  } catch (const InputError&) {
  }
  return 0;
}
