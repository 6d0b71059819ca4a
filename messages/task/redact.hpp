#pragma once

// Secrets stay out of logs, events and status output: everything that
// shows a task to anyone but the runner goes through these.

#include <string_view>

#include "messages/task/task_spec.hpp"

namespace sky::task {

inline constexpr std::string_view redacted_value = "<redacted>";

/// The task with every secret value replaced by "<redacted>". Secrets that
/// have no value yet stay null, so "must be supplied" remains visible.
task_spec redact_secrets(task_spec task);
pipeline_spec redact_secrets(pipeline_spec pipeline);

} // namespace sky::task
