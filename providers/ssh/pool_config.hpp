#pragma once

// SSH node pools: `$SKYD_HOME/ssh_node_pools.yaml`, SkyPilot's shape.
//
//   my-pool:
//     user: ubuntu                   # pool defaults (optional)
//     identity_file: ~/.ssh/id_ed25519
//     port: 22
//     hosts:
//       - 10.0.0.1                   # a host: ip or host name
//       - ip: 10.0.0.2               # or a map that overrides the defaults
//         user: admin
//         port: 2222
//
// Pure: text in, pools out; every error is `file:line:col: field: what`
// with a fix (the task parser's YAML reader).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace sky::providers::ssh {

/// One machine of a pool, with the pool defaults applied.
struct pool_host {
  /// As written: an IP address or a host name.
  std::string ip;
  uint16_t port = 22;
  /// Empty: the user skyd runs as.
  std::string user;
  /// Private key file, `~` expanded; empty: libssh's defaults and the agent.
  std::string identity_file;

  /// "ip:port": what a host is known by (two pools naming the same
  /// machine share it; it is never given to two clusters).
  std::string key() const { return ip + ":" + std::to_string(port); }

  friend bool operator==(const pool_host&, const pool_host&) = default;
};

struct node_pool {
  std::string name;
  std::vector<pool_host> hosts;
};

struct pool_file {
  /// In file order.
  std::vector<node_pool> pools;

  const node_pool* find(const std::string& name) const;
};

/// Parses the pool file text. `file` names it in messages; `home` expands
/// `~` in identity files (empty: $HOME).
result<pool_file> parse_pool_file(const std::string& text,
                                  const std::string& file,
                                  const std::string& home = {});

/// Reads and parses `path`; a missing file is an empty pool file (no SSH
/// pools configured).
result<pool_file> load_pool_file(const std::filesystem::path& path);

} // namespace sky::providers::ssh
