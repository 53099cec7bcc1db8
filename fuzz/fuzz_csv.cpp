// Measurement and benchmark tables (CSV): refused with InputError or read into rows.
#include "evaluator/table_evaluator.h"
#include "fuzz/fuzz_common.h"
#include "space/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace paretonas;
  const std::string path = fuzz::WriteInput(data, size, ".csv");
  try {
    const evaluator::CsvTable t = evaluator::ReadCsv(path);
    if (t.rows.size() != t.row_lines.size()) fuzz::Fail("one line number per row");
    for (const auto& row : t.rows)
      for (const auto& field : row) {
        double v = 0;
        (void)evaluator::ParseNumber(field, &v);
      }
    if (!t.header.empty()) (void)t.Column(path, t.header[0]);
  } catch (const InputError&) {
  }
  return 0;
}
