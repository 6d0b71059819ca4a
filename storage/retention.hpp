#pragma once

// Retention of the event log (config `events.keep_events`,
// `events.keep_days`): which old events to delete. Snapshots are never
// trimmed, so current state survives any retention; what goes is history
// (`skyctl events` from before the cut, cost-report of clusters torn down
// before it). A pure function of the log's bounds and its events' times.

#include <cstdint>
#include <functional>
#include <optional>

namespace sky::storage {

struct retention_policy {
  /// Keep at most this many of the newest events; 0 = no count limit.
  uint64_t max_events = 0;
  /// Keep events younger than this; 0 = no age limit.
  int64_t max_age_ms = 0;

  bool enabled() const { return max_events > 0 || max_age_ms > 0; }
};

/// The oldest seq to keep in a log holding [first_seq, last_seq] (empty
/// when first_seq > last_seq): events before it may be trimmed. `time_of`
/// gives an event's append time (nullopt when it cannot be read: then
/// nothing is trimmed by age). Appends are in time order, so the age cut is
/// found by bisection, reading O(log n) events.
uint64_t
first_to_keep(const retention_policy& policy, uint64_t first_seq,
              uint64_t last_seq, int64_t now_ms,
              const std::function<std::optional<int64_t>(uint64_t)>& time_of);

} // namespace sky::storage
