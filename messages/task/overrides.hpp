#pragma once

// The task flags shared by `launch`, `exec`, `jobs launch` and `serve up`
// (SPEC.md "Command line"): they override what the YAML says. Values are
// kept as typed on the command line and parsed here with the same grammars
// as the YAML (value_grammar.hpp), so `--gpus A100:8` means what
// `accelerators: A100:8` means. Errors name the flag.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::task {

/// Looks up a variable of the caller's environment (`--env NAME` without a
/// value takes it from there). Tests pass a map-backed function.
using env_lookup
  = std::function<std::optional<std::string>(std::string_view name)>;

/// The real process environment (getenv).
std::optional<std::string> process_env(std::string_view name);

struct task_overrides {
  std::optional<std::string> infra;         // --infra aws/us-east-1
  std::optional<std::string> cloud;         // --cloud aws
  std::optional<std::string> region;        // --region us-east-1
  std::optional<std::string> zone;          // --zone us-east-1a
  std::optional<std::string> gpus;          // --gpus A100:8, {A100:1,V100:1}
  std::optional<std::string> cpus;          // --cpus 4+
  std::optional<std::string> memory;        // --memory 32+
  std::optional<std::string> instance_type; // --instance-type p3.2xlarge
  std::optional<std::string> num_nodes;     // --num-nodes 2
  std::optional<bool> use_spot;             // --use-spot / --no-use-spot
  std::optional<std::string> disk_size;     // --disk-size 256, 1TB
  std::optional<std::string> image_id;      // --image-id docker:ubuntu
  std::vector<std::string> ports;           // --ports 8080 --ports 9000-9010
  std::vector<std::string> envs;            // --env K=V, --env K
  std::optional<std::string> env_file;      // --env-file .env
  std::vector<std::string> secrets;         // --secret K=V, --secret K
  std::optional<std::string> workdir;       // --workdir path
  std::optional<std::string> name;          // -n/--name

  /// Whether any flag other than --env/--env-file/--secret/--name is set
  /// (those change one task's resources or commands).
  bool changes_task() const;
};

/// Applies the flags to one task. `--cloud/--region/--zone` may not be
/// combined with `--infra`; a resource flag also replaces the field in every
/// `any_of`/`ordered` alternative that sets it, so the flag wins everywhere.
/// `--env-file` is read first, then `--env` (later wins); new names are
/// appended after the YAML's.
result<void> apply_overrides(task_spec& task, const task_overrides& flags,
                             const env_lookup& lookup = process_env);

/// Applies the flags to a pipeline: `--name` names the pipeline (and its
/// task when there is one), envs and secrets go to every task, and the
/// other flags are refused for pipelines of several tasks (set them in each
/// document instead).
result<void> apply_overrides(pipeline_spec& pipeline,
                             const task_overrides& flags,
                             const env_lookup& lookup = process_env);

/// Refuses envs and secrets that are still null (declared without a value
/// in the YAML and not given on the command line), listing all of them.
result<void> check_required_variables(const task_spec& task);
result<void> check_required_variables(const pipeline_spec& pipeline);

/// Parses dotenv text: `NAME=value` lines, `#` comments, blank lines, an
/// optional `export ` prefix, and '...' (literal) or "..." (with \n, \t,
/// \", \\ escapes) quoted values that may span lines. A later line for the
/// same name replaces the value in place. `source` names the file in
/// messages ("source:line: ...").
result<std::vector<variable_spec>> parse_dotenv(std::string_view text,
                                                std::string_view source);

} // namespace sky::task
