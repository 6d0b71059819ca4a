#pragma once

// Confirmation prompts before skyctl changes something costly (launching a
// cluster, tearing clusters down, cancelling jobs), as `sky` asks them. Only
// a person at a terminal is asked: scripts (stdin not a TTY) and `-y`
// proceed without a prompt.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "skyctl/terminal.hpp"

namespace sky::cli {

/// Whether to ask before acting: stdin is a terminal and -y was not given.
bool should_confirm(const terminal_info& term, bool yes);

/// Writes "`question` [Y/n] " to `out` and reads answers from `in`: an empty
/// line, "y" or "yes" proceed; "n" or "no" decline; anything else asks again
/// (three times at most). End of input declines.
bool ask_yes_no(std::string_view question, std::istream& in, std::ostream& out);

/// "a, b, c" for prompts and messages.
std::string join_names(const std::vector<std::string>& names);

} // namespace sky::cli
