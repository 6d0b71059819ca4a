#pragma once

// The sim world on disk, like a cloud keeps its instances: one JSON file per
// cluster under <root>/.sim/clusters/<cloud>/<cluster>.json and the world's
// counters in <root>/.sim/world.json, each written atomically (temporary
// file + rename). A restarted skyd finds its simulated instances there. An
// flock on <root>/.sim/lock keeps a second world (another skyd) off the
// same root. In real mode node sandboxes live beside it, at
// <root>/<cloud>/<cluster>/<rank>.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"
#include "providers/sim/world_types.hpp"

namespace sky::providers::sim {

class world_store {
public:
  /// `sync`: fsync each file before renaming it into place.
  world_store(std::filesystem::path root, bool sync);
  ~world_store();
  world_store(const world_store&) = delete;
  world_store& operator=(const world_store&) = delete;

  /// Creates the directories and takes the root's lock for the lifetime
  /// of this object; errc::conflict when another world holds it.
  result<void> open();

  const std::filesystem::path& root() const { return root_; }

  /// Every stored cluster. A file that does not parse is an error naming
  /// it: its instances would otherwise be forgotten while they hold
  /// capacity.
  result<std::vector<sim_cluster>> load_clusters() const;
  result<void> save(const sim_cluster& c) const;
  result<void> remove(const std::string& cloud,
                      const std::string& cluster) const;

  /// nullopt when there is no world file yet.
  result<std::optional<world_file>> load_world() const;
  result<void> save_world(const world_file& w) const;

  std::filesystem::path cluster_dir(const std::string& cloud,
                                    const std::string& cluster) const;
  std::filesystem::path node_home(const std::string& cloud,
                                  const std::string& cluster,
                                  uint32_t rank) const;

  /// Moves a directory into <root>/.sim/trash with one rename and returns
  /// where it went (nullopt when it did not exist); the caller deletes it
  /// without holding any lock.
  std::optional<std::filesystem::path>
  move_to_trash(const std::filesystem::path& dir) const;
  void empty_trash() const;

private:
  std::filesystem::path cluster_file(const std::string& cloud,
                                     const std::string& cluster) const;
  result<void> write(const std::filesystem::path& path,
                     const std::string& text) const;

  std::filesystem::path root_;
  bool sync_;
  int lock_fd_ = -1;
};

} // namespace sky::providers::sim
