#pragma once

// Starting a process that outlives skyd: its own session and process group,
// stdin from /dev/null, stdout and stderr appended to a log file, reparented
// away from skyd.
//
// Reaping: the process is started with a double fork. skyd forks an
// intermediate child, which forks the real process and exits at once; skyd
// reaps the intermediate right away, and the real process is reparented to
// init (or the nearest child subreaper), which reaps it when it ends. So
// skyd never accumulates zombies whether or not it polls, and a process
// started by a skyd that has since exited is in the same situation as any
// other. How a process ended is learnt from the wrapper's exit file, never
// from waitpid.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::providers::local_detail {

struct spawn_request {
  /// Absolute path of the program.
  std::string program;
  /// argv, argv[0] included.
  std::vector<std::string> argv;
  /// Complete environment as "KEY=value".
  std::vector<std::string> env;
  std::filesystem::path cwd;
  /// Opened for appending (created 0644 when missing).
  std::filesystem::path log_file;
  /// When set, the program gets this descriptor (>= 3) and writes one byte
  /// to it (or closes it) once it is ready, and spawn_detached returns only
  /// then (or after a timeout: the process runs either way). The node
  /// wrapper is ready once its signal traps are set and the script's
  /// process exists, so a signal sent right after start reaches the script
  /// and is never lost to a wrapper still starting up.
  std::optional<int> ready_fd;
};

struct spawned_process {
  int64_t pid = 0;
  /// /proc/PID/stat field 22, read while the process is held before exec,
  /// so it is known even for a process that ends at once.
  uint64_t start_ticks = 0;
};

/// Starts `req` detached. Safe to call from any thread of a multi-threaded
/// process: between fork and exec the children only make async-signal-safe
/// calls. Errors name the step that failed (open the log, chdir, exec).
result<spawned_process> spawn_detached(const spawn_request& req);

} // namespace sky::providers::local_detail
