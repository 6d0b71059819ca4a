#pragma once

// The shared task flags of `launch` and `exec` (SPEC.md "Command line"),
// bound to task::task_overrides. Values are kept as typed: the overrides
// module parses them with the YAML's grammars and names the flag in errors.

#include <CLI/CLI.hpp>

#include "messages/task/overrides.hpp"

namespace sky::cli {

/// Which flags a command takes: `launch` takes them all; `exec` runs on an
/// existing cluster, so placement, spot, disk, image and ports mean nothing
/// there.
enum class task_flag_set { launch, exec };

/// Registers the flags on `cmd`; parsed values land in `flags`, which must
/// outlive the parse.
void add_task_flags(CLI::App* cmd, task::task_overrides& flags,
                    task_flag_set set);

} // namespace sky::cli
