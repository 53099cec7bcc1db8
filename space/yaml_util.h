// Helpers for strict YAML reading with messages that name file, line, field and value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "space/input_error.h"

namespace paretonas::yamlutil {

/// Levenshtein-closest of `candidates` to `word` ("" when none is reasonably close).
std::string ClosestWord(const std::string& word, const std::vector<std::string>& candidates);

/// "file:line: " prefix for a node (line 1-based; omitted when unknown).
std::string Where(const std::string& file, const YAML::Node& node);
/// A map key as text; throws InputError for a complex key (a map or list used as a key).
std::string KeyName(const std::string& file, const YAML::Node& key);

/// Throws InputError for any key of map `node` not in `allowed`, naming the closest valid key.
void CheckKeys(const std::string& file, const std::string& section, const YAML::Node& node,
               const std::vector<std::string>& allowed);

/// Typed readers: throw InputError naming file, line, field, value and expected type.
int AsInt(const std::string& file, const std::string& field, const YAML::Node& node);
double AsDouble(const std::string& file, const std::string& field, const YAML::Node& node);
bool AsBool(const std::string& file, const std::string& field, const YAML::Node& node);
std::string AsString(const std::string& file, const std::string& field, const YAML::Node& node);
std::vector<int> AsIntList(const std::string& file, const std::string& field,
                           const YAML::Node& node);

/// Loads a YAML file, converting parse errors to InputError with the line.
YAML::Node LoadFile(const std::string& path);

/// "FILE:LINE: malformed YAML: MESSAGE", then the line itself and a caret under the column where
/// the parser stopped (yaml-cpp's own message, "end of map not found", says little alone).
std::string MalformedYaml(const std::string& file, const std::string& text, const YAML::Mark& mark,
                          const std::string& message);

}  // namespace paretonas::yamlutil
