#pragma once

// Parsing SkyPilot task YAMLs into the typed model (task_spec.hpp).
//
// Errors are values (`errc::invalid_argument`, or `errc::not_found` for a
// missing file). Every message starts with `file:line:col:` (1-based) and
// names the field (`resources.accelerators: ...`); the hint says how to fix
// it. No exception escapes, whatever the input.

#include <filesystem>
#include <string_view>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::task {

/// Largest task YAML accepted: real ones are a few kilobytes (scripts
/// belong in the workdir), and the bound keeps the parse fast whatever the
/// input.
inline constexpr size_t max_task_yaml_bytes = 1024 * 1024;

/// Parses the text of a task YAML. `file_name` is only used in messages.
/// One document is a pipeline of one task (named after the task); several
/// documents separated by `---` are a chain, and a first document holding
/// only `name:` names the pipeline.
result<pipeline_spec> parse_task_yaml(std::string_view text,
                                      std::string_view file_name);

/// Reads and parses a task YAML file; read errors name the path.
result<pipeline_spec> parse_task_file(const std::filesystem::path& path);

} // namespace sky::task
