#include "space/yaml_util.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace paretonas::yamlutil {
namespace {

size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Scalar(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

/// Empty when `s` is valid UTF-8 without control characters (tab excepted); else what is wrong.
/// NOTE: yaml-cpp writes such bytes back as U+FFFD or escapes, so a resolved config holding them
/// would not read back as the same config.
std::string TextProblem(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != '\t') return "a control character (byte " + std::to_string(c) + ")";
    if (c == 0x7f) return "a control character (byte 127)";
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || i + extra >= s.size()) return "bytes that are not UTF-8";
    for (int k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return "bytes that are not UTF-8";
    i += 1 + extra;
  }
  return "";
}

}  // namespace

std::string ClosestWord(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const size_t d = Distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best_d <= std::max<size_t>(2, word.size() / 2) ? best : "";
}

std::string Where(const std::string& file, const YAML::Node& node) {
  std::string w = file;
  if (node.IsDefined() && node.Mark().line >= 0) w += ":" + std::to_string(node.Mark().line + 1);
  return w + ": ";
}

std::string KeyName(const std::string& file, const YAML::Node& key) {
  if (!key.IsScalar())
    throw InputError(Where(file, key) + "a key must be a plain name, got a " +
                     (key.IsMap() ? "map" : key.IsSequence() ? "list" : "null"));
  const std::string bad = TextProblem(key.Scalar());
  if (!bad.empty()) throw InputError(Where(file, key) + "a key holds " + bad + "; keys are plain names");
  return key.Scalar();
}

void CheckKeys(const std::string& file, const std::string& section, const YAML::Node& node,
               const std::vector<std::string>& allowed) {
  if (!node.IsMap()) {
    throw InputError(Where(file, node) + "field '" + section + "': expected a map, got " +
                     Scalar(node));
  }
  for (const auto& kv : node) {
    const std::string key = KeyName(file, kv.first);
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = Where(file, kv.first) + "unknown key '" +
                      (section.empty() ? key : section + "." + key) + "'";
    const std::string close = ClosestWord(key, allowed);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    std::ostringstream list;
    for (size_t i = 0; i < allowed.size(); ++i) list << (i ? ", " : "") << allowed[i];
    msg += " (allowed: " + list.str() + ")";
    throw InputError(msg);
  }
}

int AsInt(const std::string& file, const std::string& field, const YAML::Node& node) {
  try {
    if (node.IsScalar()) return node.as<int>();
  } catch (const YAML::Exception&) {
  }
  throw InputError(Where(file, node) + "field '" + field + "': expected an integer, got " +
                   Scalar(node));
}

double AsDouble(const std::string& file, const std::string& field, const YAML::Node& node) {
  try {
    if (node.IsScalar()) return node.as<double>();
  } catch (const YAML::Exception&) {
  }
  throw InputError(Where(file, node) + "field '" + field + "': expected a number, got " +
                   Scalar(node));
}

bool AsBool(const std::string& file, const std::string& field, const YAML::Node& node) {
  try {
    if (node.IsScalar()) return node.as<bool>();
  } catch (const YAML::Exception&) {
  }
  throw InputError(Where(file, node) + "field '" + field + "': expected true or false, got " +
                   Scalar(node));
}

std::string AsString(const std::string& file, const std::string& field, const YAML::Node& node) {
  if (node.IsScalar()) {
    const std::string bad = TextProblem(node.Scalar());
    if (!bad.empty())
      throw InputError(Where(file, node) + "field '" + field + "': the text holds " + bad);
    return node.Scalar();
  }
  throw InputError(Where(file, node) + "field '" + field + "': expected a string, got " +
                   Scalar(node));
}

std::vector<int> AsIntList(const std::string& file, const std::string& field,
                           const YAML::Node& node) {
  if (!node.IsSequence() || node.size() == 0) {
    throw InputError(Where(file, node) + "field '" + field +
                     "': expected a non-empty list of integers, got " + Scalar(node));
  }
  std::vector<int> out;
  for (size_t i = 0; i < node.size(); ++i)
    out.push_back(AsInt(file, field + "[" + std::to_string(i) + "]", node[i]));
  return out;
}

std::string MalformedYaml(const std::string& file, const std::string& text, const YAML::Mark& mark,
                          const std::string& message) {
  std::string out = file + ":" + std::to_string(mark.line + 1) + ": malformed YAML: " + message;
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (mark.line < 0 || lines.empty()) return out;
  std::size_t at = static_cast<std::size_t>(mark.line);
  std::size_t column = static_cast<std::size_t>(std::max(0, mark.column));
  if (at >= lines.size()) {  // the parser ran to the end of the file: show where it ended
    while (at > 0 && (at >= lines.size() || lines[at].find_first_not_of(" \t") == std::string::npos)) --at;
    column = lines[at].size();
    out += " (at the end of the file, after line " + std::to_string(at + 1) + ")";
  }
  std::string line = lines[at];
  for (char& ch : line)
    if (ch == '\t') ch = ' ';
  return out + "\n  " + line + "\n  " + std::string(std::min(column, line.size()), ' ') + "^";
}

YAML::Node LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return YAML::Load(text.str());
  } catch (const YAML::ParserException& e) {
    throw InputError(MalformedYaml(path, text.str(), e.mark, e.msg));
  }
}

}  // namespace paretonas::yamlutil
