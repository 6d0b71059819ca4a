#pragma once

// Autostop: when an UP cluster has been idle (no job pending or running) for
// its idle time, it is stopped, or torn down with `--down`. Deadlines are
// absolute wall-clock times kept in the cluster's snapshot, so they survive
// a skyd restart. Pure: the caller passes the time.

#include <cstdint>
#include <optional>

#include "messages/cluster.hpp"

namespace sky::optimizer {

enum class autostop_action : uint8_t { none, stop, down };

struct autostop_decision {
  autostop_action action = autostop_action::none;
  /// When to look again (Unix ms), if a deadline lies ahead.
  std::optional<int64_t> check_at_ms;
};

/// `idle_since_ms` is 0 while the cluster is busy.
autostop_decision decide_autostop(cluster_status status,
                                  const autostop_info& autostop,
                                  int64_t idle_since_ms, int64_t now_ms);

} // namespace sky::optimizer
