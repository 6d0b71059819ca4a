#include "messages/task/redact.hpp"

namespace sky::task {

task_spec redact_secrets(task_spec task) {
  for (auto& secret : task.secrets)
    if (secret.value)
      secret.value = std::string{redacted_value};
  return task;
}

pipeline_spec redact_secrets(pipeline_spec pipeline) {
  for (auto& task : pipeline.tasks)
    task = redact_secrets(std::move(task));
  return pipeline;
}

} // namespace sky::task
