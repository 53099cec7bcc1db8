#include "space/csv_table.h"

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "space/input_error.h"

namespace paretonas {

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

bool ParseNumber(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *value = v;
  return true;
}

int CsvTable::Column(const std::string& file, const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  std::string cols;
  for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + h;
  throw InputError(file + ": no column '" + name + "'; columns: " + cols);
}

namespace {

bool SplitCsvLine(const std::string& line, std::vector<std::string>* out) {
  out->clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out->push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out->push_back(cur);
  return !quoted;
}

}  // namespace

CsvTable ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file");
  CsvTable t;
  std::string line;
  int line_no = 0;
  std::vector<std::string> fields;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    if (!SplitCsvLine(line, &fields))
      throw InputError(path + ":" + std::to_string(line_no) + ": unterminated quoted field");
    if (t.header.empty()) {
      t.header = fields;
      continue;
    }
    if (fields.size() != t.header.size()) {
      throw InputError(path + ":" + std::to_string(line_no) + ": row has " +
                       std::to_string(fields.size()) + " fields, the header has " +
                       std::to_string(t.header.size()));
    }
    t.rows.push_back(fields);
    t.row_lines.push_back(line_no);
  }
  if (t.header.empty()) throw InputError(path + ": empty file; expected a header row");
  if (t.rows.empty()) throw InputError(path + ": no data rows after the header");
  return t;
}

}  // namespace paretonas
