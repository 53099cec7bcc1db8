// IDX files by path (dataset.name: idx), gzip-compressed or not: the first input byte splits
// the rest into an image file and a label file. Refused with InputError, or they agree.
#include "evaluator/user_data.h"
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  if (size < 1) return 0;
  const std::size_t cut = std::min<std::size_t>(size - 1, static_cast<std::size_t>(data[0]) * 4);
  evaluator::DatasetOptions o;
  o.name = "idx";
  o.train_labels = fuzz::WriteInput(data + 1, cut, ".labels.idx");
  o.train_images = fuzz::WriteInput(data + 1 + cut, size - 1 - cut, ".images.idx");
  o.max_memory_mb = 64;
  try {
    const evaluator::UserData d = evaluator::LoadUserData(o, false);
    if (static_cast<std::int64_t>(d.train.labels.size()) != d.train.n) fuzz::Fail("one label per image");
    if (d.train.u8.size() != static_cast<std::size_t>(d.train.n * d.train.c * d.train.h * d.train.w))
      fuzz::Fail("N x C x H x W bytes");
  } catch (const InputError&) {
  }
  return 0;
}
