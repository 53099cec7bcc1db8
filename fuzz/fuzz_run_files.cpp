// Checkpoints and journals read back from a run directory: damaged files are refused with
// RunFileError (checkpoint) or cut at the last good record (journal), never a crash.
#include "fuzz/fuzz_common.h"
#include "search/run_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string path = fuzz::WriteInput(data, size, ".bin");
  try {
    (void)search::LoadCheckpoint(path);
  } catch (const search::RunFileError&) {
  }
  try {
    (void)search::Journal::Read(path);
  } catch (const search::RunFileError&) {
  }
  return 0;
}
