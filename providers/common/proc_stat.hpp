#pragma once

// Reading /proc/PID/stat: the fields the node channel needs to tell a live
// process from a dead one and from a different process that reused its pid.

#include <cstdint>
#include <optional>
#include <string_view>
#include <sys/types.h>

namespace sky::providers::local_detail {

struct proc_stat {
  int64_t pid = 0;
  /// R, S, D, Z (zombie), X (dead), T, ...
  char state = '?';
  int64_t ppid = 0;
  int64_t pgrp = 0;
  int64_t session = 0;
  /// Field 22: start time in clock ticks after boot. Together with the pid
  /// it identifies a process for the life of the machine.
  uint64_t start_ticks = 0;

  /// Exited but not yet reaped by its parent: no longer runs anything.
  bool is_dead() const { return state == 'Z' || state == 'X'; }
};

/// Parses the text of /proc/PID/stat. Field 2 (the command name) is in
/// parentheses and may itself contain spaces and parentheses, so the
/// fields after it are found from the LAST ')'.
std::optional<proc_stat> parse_proc_stat(std::string_view text);

/// /proc/PID/stat of a process, nullopt when there is no such process.
std::optional<proc_stat> read_proc_stat(int64_t pid);

} // namespace sky::providers::local_detail
