#pragma once

// A node channel: how skyd runs things on one node of a cluster, whatever
// the node is (a sandbox on this host, a machine over SSH, a Slurm step).
// Processes it starts are detached (own session, output to a log file on the
// node) so that they survive skyd; a small wrapper on the node records the
// exit code and end time in a file beside the log, so that a skyd that
// restarts can learn how a process it no longer parents ended.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::providers {

struct process_spec {
  /// Short name used in file names ("setup", "job-3").
  std::string name;
  /// Bash script to run.
  std::string script;
  /// Environment added to a minimal base (PATH, HOME, USER, LANG).
  std::map<std::string, std::string> env;
  /// Working directory; relative paths are under the node's home.
  std::string cwd;
  /// Log file on the node (absolute, or relative to the node's home). Output
  /// of stdout and stderr is appended to it.
  std::string log_file;
};

/// Enough to find a process again after skyd restarts; persisted in the
/// job's snapshot.
struct process_handle {
  int64_t pid = 0;
  /// Process start time (clock ticks since boot, /proc/PID/stat field 22)
  /// so that a reused pid is never mistaken for the process.
  uint64_t start_ticks = 0;
  std::string log_file;
  /// Written by the wrapper when the process ends: "<exit code> <unix ms>".
  std::string exit_file;

  friend bool operator==(const process_handle&, const process_handle&)
    = default;
};

enum class process_state : uint8_t {
  running,
  exited,
  /// Gone without an exit record (the node was lost or the wrapper killed).
  lost
};

struct process_status {
  process_state state = process_state::running;
  /// For exited: the exit code (128+N when killed by signal N).
  int exit_code = 0;
  int64_t ended_at_ms = 0;
};

struct log_chunk {
  std::string data;
  uint64_t next_offset = 0;
};

struct upload_stats {
  uint64_t files_copied = 0;
  uint64_t files_unchanged = 0;
  uint64_t files_deleted = 0;
  uint64_t bytes_copied = 0;
};

class node_channel {
public:
  virtual ~node_channel() = default;

  /// The node's home directory (its sandbox on local).
  virtual std::string home() const = 0;

  /// IP address other nodes and the job use for this node.
  virtual std::string ip() const = 0;

  /// Starts a detached process.
  virtual result<process_handle> start(const process_spec& spec) = 0;

  virtual result<process_status> poll(const process_handle& handle) = 0;

  /// Asks to be told when the process ends (exits, is signalled, or is
  /// lost with its node), so that the caller need not poll often. Returns
  /// true when the channel will call `notify` once: when it sees the end,
  /// from whichever thread sees it (never with the channel's locks held),
  /// or at once from this call when the process has already ended. False
  /// (the default) when this channel cannot tell: poll. `notify` must not
  /// block (skyd's notice sends the job actor a message). A notice can come
  /// late or, across a restart of skyd, never: polling stays the fallback.
  virtual bool watch_exit(const process_handle& handle,
                          std::function<void()> notify) {
    (void) handle;
    (void) notify;
    return false;
  }

  /// Recovery after skyd died between starting a process and recording its
  /// handle: the process started with `log_file`, or nullopt when none was
  /// ever started (so starting it now cannot run it twice). errc::conflict
  /// when a process was started but can no longer be traced.
  virtual result<std::optional<process_handle>>
  find_process(const std::string& log_file) = 0;

  /// Up to `max_bytes` of a log file from `offset` (empty at the end).
  virtual result<log_chunk> read_log(const std::string& log_file,
                                     uint64_t offset, size_t max_bytes)
    = 0;

  /// Sends `sig` to the process's whole process group.
  virtual result<void> signal(const process_handle& handle, int sig) = 0;

  /// Makes `remote_dir` (relative to home, or absolute) hold exactly the
  /// files of `local_dir`, copying only files whose size or mtime differ.
  virtual result<upload_stats> upload(const std::filesystem::path& local_dir,
                                      const std::string& remote_dir)
    = 0;
};

} // namespace sky::providers
