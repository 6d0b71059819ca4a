#pragma once

// Ports skyd hands out: one listening port per service on the load
// balancer (serve.lb_ports) and one serving port per replica
// (serve.replica_ports, exported as SKYD_REPLICA_PORT). Several replicas
// share a host on local infra and on simulated nodes, so they cannot all
// listen on the service's port; each gets its own. A port is taken only
// when no other holder of this pool has it and a test bind on this host
// succeeds (a port some other program holds is skipped). Thread-safe: the
// service actors of all services share one pool.

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace sky::actors {

struct port_range {
  uint16_t first = 0;
  uint16_t last = 0;
};

/// "30001-30999" or "8080" -> a range; nullopt when malformed.
std::optional<port_range> parse_port_range(const std::string& text);

class port_pool {
public:
  explicit port_pool(port_range range) : range_(range) {}

  /// A free port of the range (the lowest past the last one handed out, so
  /// that a port just released is not reused at once); nullopt when every
  /// port is held or in use.
  std::optional<uint16_t> take();
  /// Marks `port` held (a restored service or replica keeps its port).
  void hold(uint16_t port);
  void release(uint16_t port);
  port_range range() const { return range_; }

private:
  port_range range_;
  std::mutex mutex_;
  std::set<uint16_t> held_;
  uint16_t next_ = 0;
};

/// Whether a TCP listener could bind `port` on this host now.
bool port_free_here(uint16_t port);

} // namespace sky::actors
