#pragma once

// Internal to the task parser: a pass over the YAML events before any node
// is built. yaml-cpp 0.7 loops forever on some inputs (a ',' where a
// document should start, e.g. ",", "- a\n,", "---\n,": the parser emits an
// empty document without consuming the token, and LoadAll asks again), and
// builds arbitrarily deep trees that our walkers would then recurse into.
// This pass stops both and reports where.

#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/mark.h>

namespace sky::task::detail {

/// Deepest nesting of maps and lists accepted in a task YAML.
inline constexpr int max_yaml_depth = 64;
/// Most documents accepted in one file (a pipeline of that many tasks).
inline constexpr int max_yaml_documents = 1000;

struct precheck_failure {
  YAML::Mark mark;
  std::string what;
  std::string hint;
};

/// Runs yaml-cpp's parser over `text` without building nodes. nullopt when
/// the text can be loaded safely; otherwise why not. yaml-cpp's own syntax
/// errors propagate as YAML::ParserException, as from YAML::LoadAll.
std::optional<precheck_failure> precheck_yaml(const std::string& text);

} // namespace sky::task::detail
