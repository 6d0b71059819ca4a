#pragma once

// The local provider's state, on disk like a cloud's: one
// <root>/<cluster>/cluster.json per cluster beside the node sandboxes
// <root>/<cluster>/<rank>/. Any provider object over the same root sees the
// same clusters; writes are atomic; read-modify-write sections take an
// flock on <root>/.lock so that several objects (or processes) never
// over-reserve the host.

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/provider.hpp"

namespace sky::providers::local_detail {

/// What cluster.json holds.
struct stored_cluster {
  std::string cluster;
  /// Key of the provisioning attempt that created or last restarted the
  /// cluster ("name#attempt").
  std::string idempotency_key;
  /// Of every instance: local instances change state together.
  instance_state state = instance_state::pending;
  uint32_t num_nodes = 1;
  /// What each node reserves while the cluster is not stopped.
  node_resources per_node;
  std::string region;
  std::string zone;
  std::string instance_type;
  std::vector<task::port_range> ports;
  std::map<std::string, std::string> labels;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  /// Pending and running clusters hold their reservation; stopped ones
  /// keep only their disks.
  bool reserves() const {
    return state == instance_state::pending || state == instance_state::running;
  }
};

/// The provider-neutral view (instances "local:<cluster>:<rank>" on
/// 127.0.0.1).
cluster_record to_record(const stored_cluster& c);

/// Holds an exclusive flock until destroyed.
class file_lock {
public:
  explicit file_lock(int fd) : fd_(fd) {}
  file_lock(file_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;
  file_lock& operator=(file_lock&&) = delete;
  ~file_lock();

private:
  int fd_;
};

class cluster_store {
public:
  explicit cluster_store(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path cluster_dir(const std::string& cluster) const;
  std::filesystem::path node_home(const std::string& cluster,
                                  uint32_t rank) const;

  /// Takes the store's exclusive lock (blocks).
  result<file_lock> lock() const;

  /// nullopt when the cluster has no record.
  result<std::optional<stored_cluster>> load(const std::string& cluster) const;

  /// Every cluster with a record. A record that does not parse is an error
  /// naming the file: its reservation would otherwise be forgotten.
  result<std::vector<stored_cluster>> load_all() const;

  result<void> save(const stored_cluster& c) const;

  /// Node sandboxes that exist for `cluster` (numeric subdirectories),
  /// with or without a record.
  std::vector<std::filesystem::path>
  existing_node_homes(const std::string& cluster) const;

  /// Moves the cluster's directory into <root>/.trash with one rename (the
  /// cluster is gone for every reader at once); returns where it went, or
  /// nullopt when there was no directory. The caller deletes it.
  result<std::optional<std::filesystem::path>>
  move_to_trash(const std::string& cluster) const;

  /// Deletes what a crash left in the trash.
  void empty_trash() const;

private:
  /// Reads every record from disk (no cache).
  result<std::vector<stored_cluster>> read_all() const;
  /// <root>/.generation: bumped by every change, so that a store object
  /// re-reads the records only when some object (or process) changed one.
  uint64_t read_generation() const;
  /// Caller holds cache_mu_. Keeps the cache valid when only we wrote.
  uint64_t bump_generation() const;

  std::filesystem::path root_;
  /// Records as of `cached_generation_`; valid while the generation file
  /// says nothing changed. Capacity checks read every record, so without
  /// it a launch costs one file read per existing cluster.
  mutable std::mutex cache_mu_;
  mutable std::optional<uint64_t> cached_generation_;
  mutable std::map<std::string, stored_cluster> cache_;
};

} // namespace sky::providers::local_detail
