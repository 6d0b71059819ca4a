#pragma once

// The shell side of the SSH node channel, kept pure: the bash scripts run
// on a host (each a `bash -c '<script>' skyd ARGS...` command, so the host's
// login shell only has to split one quoted word), and the parsing of what
// they print. Nothing here talks to a network; ssh_node_channel runs them.
//
// On a host, a node lives in one directory (see docs/SSH.md):
//   <node>/.sky/wrapper-<hash>.sh   the node wrapper (providers/common/wrapper)
//   <node>/.sky/scripts/            one script file per start (removed at end)
//   <log>, <log>.start, <log>.exit  output, "<pid> <ticks>", "<code> <ms>"
//   <log>.launch                    written before the wrapper is spawned

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "providers/node_channel.hpp"

namespace sky::providers::ssh {

/// `s` in single quotes, safe for any POSIX shell.
std::string shell_quote(std::string_view s);

/// `bash -c '<script>' skyd 'arg1' 'arg2' ...`: $1.. are the args.
std::string bash_command(std::string_view script,
                         const std::vector<std::string>& args);

/// Remote path of the wrapper in a node directory; the name carries a hash
/// of the wrapper's text, so a new skyd never runs an old wrapper and an
/// existing file never needs comparing.
std::string wrapper_path(const std::string& node_home);

/// Installs the wrapper (stdin: its text). Args: wrapper path.
std::string_view install_wrapper_script();

/// Exit status of start_script when the wrapper is missing.
inline constexpr int start_needs_wrapper = 20;
/// Exit status of start_script when the process did not come up.
inline constexpr int start_failed = 15;

/// Starts a process detached (setsid, own session and process group,
/// stdin /dev/null, output appended to the log) and prints "<pid> <ticks>"
/// once the script's own process exists. stdin: the script text.
/// Args: node home, log, cwd, script file, wrapper (all absolute).
std::string_view start_script();

/// The script file a start writes: bash `export` lines for `env` (values
/// quoted) and the node marker, then the user's script.
result<std::string>
script_with_env(const std::map<std::string, std::string>& env,
                const std::string& node_home, const std::string& script);

/// Prints "proc <state> <ticks>" or "proc none", then "exit <code> <ms>"
/// or "exit none". Args: pid, exit file.
std::string_view poll_script();

struct poll_output {
  /// /proc state letter and start ticks of the pid, when it exists.
  std::optional<char> state;
  uint64_t start_ticks = 0;
  /// The exit file's text, when it exists.
  std::optional<std::string> exit_text;
};

result<poll_output> parse_poll_output(std::string_view text);

/// "<code> <unix ms>" -> exited status; nullopt when malformed.
std::optional<process_status> parse_exit_text(std::string_view text);

/// What poll concludes, with local_channel's rules: exited when the exit
/// file exists; running while the pid lives with the handle's start time;
/// lost otherwise.
result<process_status> decide_status(const poll_output& out,
                                     const process_handle& handle);

/// Prints "ended", "started <pid> <ticks>", "launched" (marker, but no
/// start file within ~2 s) or "none". Args: log file.
std::string_view find_script();

struct found_process {
  enum class kind : uint8_t { none, ended, started, launched } what
    = kind::none;
  int64_t pid = 0;
  uint64_t start_ticks = 0;
};

result<found_process> parse_find_output(std::string_view text);

/// Exit 0 when signalled, 3 when the pid is gone or has another start
/// time, 4 when kill failed. Args: pid, ticks, signal number.
std::string_view signal_script();
inline constexpr int signal_gone = 3;

/// Kills every process whose environment carries the node marker of the
/// node (SIGTERM, grace seconds, SIGKILL), then removes the node directory
/// and its cluster directory when empty. Args: node home, grace seconds.
std::string_view cleanup_node_script();

/// Creates a node directory. Args: node home.
std::string_view prepare_node_script();

/// Prints the login user's home directory.
std::string_view home_script();

} // namespace sky::providers::ssh
