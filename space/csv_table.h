// CSV tables with a header row: what the table evaluator, measurement files and latency verbs
// read. Torch-free, in the lowest layer, so that predictors/ and evaluator/ both use it without
// one including the other.
#pragma once

#include <string>
#include <vector>

namespace paretonas {

/// A parsed CSV with a header row. Quoted fields ("...", "" for a quote) are supported.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> row_lines;  ///< 1-based line of each row in the file
  /// Column index by name; throws InputError naming the file and the available columns.
  int Column(const std::string& file, const std::string& name) const;
};
/// Reads a CSV; throws InputError naming the file and line of a malformed row.
CsvTable ReadCsv(const std::string& path);
/// A field as ReadCsv reads it back: quoted (quotes doubled) when it holds ',', '"' or a newline.
std::string CsvField(const std::string& text);
/// Parses a finite number; false otherwise.
bool ParseNumber(const std::string& text, double* value);

}  // namespace paretonas
