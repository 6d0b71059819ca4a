#pragma once

// From skyctl's arguments to the task(s) sent to skyd: which positional
// arguments are a task YAML and which a command (`launch task.yaml` vs
// `launch -- CMD...`), parsing, the shared task flags, local paths made
// absolute, and required variables checked. Everything here runs before
// skyd is contacted; errors are `invalid_argument` (exit 2) and name the
// file, field or flag.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "messages/task/overrides.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::cli {

/// What the positional arguments of `launch` or `exec` name.
struct entrypoint {
  std::optional<std::filesystem::path> yaml;
  /// The words of a command (run on the cluster as one line).
  std::vector<std::string> command;

  bool empty() const { return !yaml && command.empty(); }
  /// The command words joined with spaces, as `sky launch -- CMD` does:
  /// quoting is the user's shell's business.
  std::string command_line() const;
};

/// Sorts `args` (the positionals in order) into a YAML or a command.
/// `after_dash_dash` is how many of the last ones followed a literal `--`:
/// those are always a command. Before `--`, a single argument ending in
/// `.yaml` or `.yml` is a task YAML, and other words are a command (as
/// `sky launch 'echo hi'` accepts). A YAML and a command together are
/// refused.
result<entrypoint> classify_entrypoint(const std::vector<std::string>& args,
                                       size_t after_dash_dash);

/// Where relative paths and `~` resolve, and how `--env NAME` finds values.
struct local_context {
  std::filesystem::path cwd;
  std::filesystem::path home;
  task::env_lookup lookup = task::process_env;

  /// This process's current directory, $HOME and environment.
  static local_context current();
};

/// The pipeline `launch` sends: the YAML's tasks, a one-task pipeline whose
/// `run` is the command, or (with neither) one task without `run` that
/// only provisions. The flags are applied, local paths resolved and
/// checked, and required envs and secrets verified.
result<task::pipeline_spec> build_pipeline(const entrypoint& entry,
                                           const task::task_overrides& flags,
                                           const local_context& local);

/// The single task `exec` sends; a YAML of several documents is refused
/// (naming the file), and so is an empty entrypoint.
result<task::task_spec> build_exec_task(const entrypoint& entry,
                                        const task::task_overrides& flags,
                                        const local_context& local);

/// Makes a local `workdir` and local `file_mounts` sources absolute: `~`
/// and `~/...` expand to `local.home`, relative paths resolve against
/// `local.cwd` (SkyPilot: "evaluated relative to the location from which
/// sky is called"). Bucket URLs (`scheme://`), paths starting with a
/// `${VAR}` (skyd substitutes them) and git workdirs stay as they are.
void resolve_local_paths(task::task_spec& task, const local_context& local);

/// Refuses a local workdir that is not a directory and a local mount
/// source that does not exist, naming the field (or `--workdir`). Paths
/// still holding `${VAR}` are left to skyd.
result<void> check_local_paths(const task::task_spec& task,
                               bool workdir_from_flag);

} // namespace sky::cli
