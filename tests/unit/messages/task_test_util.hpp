#pragma once

// Helpers shared by the task parser tests.

#include <catch2/catch.hpp>

#include <string>

#include "messages/result.hpp"
#include "messages/task/parse_task.hpp"

namespace sky::task::testing {

/// Parses `yaml` and fails the test (printing the parser's message) unless
/// it succeeds.
inline pipeline_spec parse_ok(const std::string& yaml) {
  auto r = parse_task_yaml(yaml, "t.yaml");
  if (!r) {
    auto info = describe(r.error());
    FAIL_CHECK("expected success, got: " << info.message << " / hint: "
                                         << info.hint << "\n--- yaml:\n"
                                         << yaml);
    return {};
  }
  return *r;
}

/// Parses a single-task YAML and returns the task.
inline task_spec parse_one(const std::string& yaml) {
  auto p = parse_ok(yaml);
  if (p.tasks.size() != 1) {
    FAIL_CHECK("expected one task, got " << p.tasks.size());
    return {};
  }
  return p.tasks.front();
}

/// Parses and expects an error; returns its message and hint.
inline error_info parse_error(const std::string& yaml) {
  auto r = parse_task_yaml(yaml, "t.yaml");
  if (r) {
    FAIL_CHECK("expected an error for:\n" << yaml);
    return {};
  }
  return describe(r.error());
}

} // namespace sky::task::testing
