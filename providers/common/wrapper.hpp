#pragma once

// The bash wrapper every node process runs under. It runs the task script
// and then records "<exit code> <unix ms>" in the exit file, atomically, so
// that a skyd that is not (or no longer) the parent learns how it ended.

#include <string_view>

namespace sky::providers {

/// Text of the wrapper; usage: `bash wrapper.sh SCRIPT EXIT_FILE`.
/// Plain bash (4.0+; EPOCHREALTIME used when bash is 5), so other node
/// channels (ssh) can install the same file on their nodes.
std::string_view node_wrapper_script();

} // namespace sky::providers
