#pragma once

// Records of the processes started on a node, kept on the node under
// <home>/.sky/procs/<pid>-<start ticks>.json, so that stopping the node can
// find and kill them even after skyd restarted.

#include <filesystem>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/node_channel.hpp"

namespace sky::providers::local_detail {

/// Every process started on a node inherits this variable, set to the
/// node's home: stopping the node also finds processes that left the
/// wrapper's process group (setsid, double fork) through it.
inline constexpr const char* node_marker_env = "SKYD_NODE_HOME";

struct process_record {
  process_handle handle;
  std::string name;
  int64_t started_at_ms = 0;
};

std::filesystem::path procs_dir(const std::filesystem::path& home);

result<void> save_process_record(const std::filesystem::path& home,
                                 const process_record& rec);

/// Records that parse; unreadable or foreign files are skipped (a record is
/// only a hint for stop: the marker scan backs it up).
std::vector<process_record>
load_process_records(const std::filesystem::path& home);

void remove_process_record(const std::filesystem::path& home,
                           const process_handle& h);

/// Removes the records of processes that no longer run (ended, or pid
/// reused), so the folder does not grow without bound.
void prune_process_records(const std::filesystem::path& home);

} // namespace sky::providers::local_detail
