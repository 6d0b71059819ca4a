#pragma once

// The ssh provider's state on this machine: which hosts each cluster holds
// (so that a restarted skyd neither forgets nor double-books them), one
// <root>/clusters/<cluster>.json per cluster, written atomically; plus
// <root>/cleanup.json, node directories that terminate could not remove
// because their host was down (removed before the host is given out
// again). Read-modify-write sections hold an flock on <root>/clusters/.lock.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/common/cluster_store.hpp"
#include "providers/provider.hpp"
#include "providers/ssh/pool_config.hpp"

namespace sky::providers::ssh {

struct stored_node {
  uint32_t rank = 0;
  pool_host host;
  /// The node's directory on the host (absolute).
  std::string home;
};

struct stored_cluster {
  std::string cluster;
  std::string pool;
  std::string idempotency_key;
  /// pending (hosts reserved, directories being made) or running.
  instance_state state = instance_state::pending;
  node_resources per_node;
  std::string instance_type;
  std::map<std::string, std::string> labels;
  std::vector<stored_node> nodes;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

/// A node directory to remove from a host that was down at terminate.
struct pending_cleanup {
  pool_host host;
  std::string home;
};

/// The provider-neutral view: instances "ssh:<pool>:<cluster>:<rank>".
cluster_record to_record(const stored_cluster& c);

class ssh_store {
public:
  explicit ssh_store(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }

  result<local_detail::file_lock> lock() const;
  result<std::optional<stored_cluster>> load(const std::string& cluster) const;
  /// A record that does not parse is an error naming the file: its hosts
  /// would otherwise be given to another cluster.
  result<std::vector<stored_cluster>> load_all() const;
  result<void> save(const stored_cluster& c) const;
  result<void> remove(const std::string& cluster) const;

  result<std::vector<pending_cleanup>> load_cleanups() const;
  result<void> save_cleanups(const std::vector<pending_cleanup>& all) const;

private:
  std::filesystem::path clusters_dir() const { return root_ / "clusters"; }

  std::filesystem::path root_;
};

} // namespace sky::providers::ssh
