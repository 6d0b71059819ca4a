#pragma once

// Node channels of simulated nodes.
// - real mode: the node is a sandbox on this host, reached with the local
//   provider's local_channel; this wrapper refuses to start processes on a
//   node whose instance is gone and reports the processes a preemption
//   killed as lost (a vanished machine records no exit code).
// - virtual mode: nothing runs. start() records a virtual process in the
//   sim world whose duration and exit code come from a directive in its
//   script; poll() computes its state from the sim clock, and the world
//   tells a watcher when the process ends (watch_exit), so a job actor
//   needs to poll only as a fallback.

#include <memory>
#include <optional>
#include <string>

#include "providers/local/local_channel.hpp"
#include "providers/node_channel.hpp"
#include "providers/sim/sim_world.hpp"

namespace sky::providers {

/// The directive of a virtual process's script: every line of the form
/// `# sim: duration=30s exit=3` (keys: duration = a duration or "forever",
/// exit = 0..255; later lines win). No directive: ends at once with 0.
result<sim_directive> parse_sim_directive(const std::string& script);

class sim_real_channel final : public node_channel {
public:
  sim_real_channel(std::shared_ptr<sim_world> world, sim_node_ref node);

  std::string home() const override;
  std::string ip() const override;
  result<process_handle> start(const process_spec& spec) override;
  result<process_status> poll(const process_handle& handle) override;
  result<std::optional<process_handle>>
  find_process(const std::string& log_file) override;
  result<log_chunk> read_log(const std::string& log_file, uint64_t offset,
                             size_t max_bytes) override;
  result<void> signal(const process_handle& handle, int sig) override;
  result<upload_stats> upload(const std::filesystem::path& local_dir,
                              const std::string& remote_dir) override;

private:
  std::shared_ptr<sim_world> world_;
  sim_node_ref node_;
  local_channel inner_;
};

class sim_virtual_channel final : public node_channel {
public:
  sim_virtual_channel(std::shared_ptr<sim_world> world, sim_node_ref node);

  /// The path the node's sandbox would have; nothing is created there.
  std::string home() const override;
  std::string ip() const override;
  result<process_handle> start(const process_spec& spec) override;
  result<process_status> poll(const process_handle& handle) override;
  /// The world knows every virtual process's end: always true
  /// (sim_world::watch_virtual).
  bool watch_exit(const process_handle& handle,
                  std::function<void()> notify) override;
  result<std::optional<process_handle>>
  find_process(const std::string& log_file) override;
  /// One line saying that the process ran in virtual mode.
  result<log_chunk> read_log(const std::string& log_file, uint64_t offset,
                             size_t max_bytes) override;
  /// Ends a running virtual process at once with 128+sig.
  result<void> signal(const process_handle& handle, int sig) override;
  /// Copies nothing; the stats count what a real upload would copy.
  result<upload_stats> upload(const std::filesystem::path& local_dir,
                              const std::string& remote_dir) override;

private:
  std::shared_ptr<sim_world> world_;
  sim_node_ref node_;
};

} // namespace sky::providers
