// Small text and file helpers every layer uses (torch-free, header-only).
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <sstream>
#include <string>

namespace paretonas {

/// `s` as a JSON string literal, quotes included (control characters escaped).
inline std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

/// Creates `dir` and its parents, best effort: a failure shows when a file is written there.
inline void MakeDirsBestEffort(const std::string& dir) {
  std::string cur;
  std::stringstream ss(dir);
  for (std::string part; std::getline(ss, part, '/');) {
    cur += part + "/";
    if (!part.empty()) ::mkdir(cur.c_str(), 0755);
  }
}

}  // namespace paretonas
