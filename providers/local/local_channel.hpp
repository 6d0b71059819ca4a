#pragma once

// The node channel of a local node: a sandbox directory on this host.
// Processes are started detached under the node wrapper (wrapper.hpp) with
// a double fork (detached_spawn.hpp); how they end is read from the exit
// file the wrapper writes, so any channel object, in any skyd process,
// re-attaches by handle.

#include <filesystem>
#include <string>

#include "providers/node_channel.hpp"

namespace sky::providers {

class local_channel final : public node_channel {
public:
  /// `home` is the node's sandbox (start() creates what it needs in it);
  /// `ip` what other nodes use to reach it. Also usable by providers whose
  /// nodes are sandboxes on this host (sim).
  explicit local_channel(std::filesystem::path home,
                         std::string ip = "127.0.0.1");

  std::string home() const override;
  std::string ip() const override;

  /// Runs `spec.script` with bash in a new session: stdin /dev/null, stdout
  /// and stderr appended to the log, cwd under home (created), environment
  /// = PATH, HOME (the sandbox), USER, LANG, TERM=dumb, then `spec.env`,
  /// and SKYD_NODE_HOME (how stop finds the node's processes). A stale exit
  /// file beside the log is removed first. Returns once the script's own
  /// process exists, so a signal sent right after reaches it.
  result<process_handle> start(const process_spec& spec) override;

  /// exited when the exit file exists; running while the pid lives with the
  /// handle's start time; lost otherwise.
  result<process_status> poll(const process_handle& handle) override;

  /// The exit file, else the node's process records, else the log file's
  /// existence tell whether a process was started with `log_file`.
  result<std::optional<process_handle>>
  find_process(const std::string& log_file) override;

  result<log_chunk> read_log(const std::string& log_file, uint64_t offset,
                             size_t max_bytes) override;

  /// To the whole process group, only while the leader's start time still
  /// matches the handle (errc::not_found otherwise: never a reused pid).
  result<void> signal(const process_handle& handle, int sig) override;

  /// See sync_directory (sync_dir.hpp): rsync -a --delete, .git skipped.
  result<upload_stats> upload(const std::filesystem::path& local_dir,
                              const std::string& remote_dir) override;

private:
  std::filesystem::path home_;
  std::string ip_;
};

} // namespace sky::providers
