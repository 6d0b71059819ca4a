#pragma once

// Opening and following a launch, exec or logs stream to its end, shared by
// those three commands.

#include <cstdint>
#include <string>
#include <string_view>

#include "skyctl/commands/commands.hpp"
#include "skyctl/stream_printer.hpp"

namespace sky::cli {

/// Sends `verb` with `body` as a stream (with `window` credit), prints its
/// frames as `view` says (the task's output on stdout, the rest on
/// stderr), and returns skyctl's exit code. Ctrl-C detaches.
int follow_stream(cli_context& ctx, client::connection& conn,
                  std::string_view verb, const std::string& body,
                  uint32_t window, stream_view view);

} // namespace sky::cli
