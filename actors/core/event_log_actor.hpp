#pragma once

// The event log actor: the only owner of the storage::event_log. Appends from
// every actor are group-committed: appends queue up while a flush is pending,
// then one WriteBatch and one WAL sync cover all of them, and only then are
// the appenders answered. Committed events are pushed to subscribers in
// sequence order.
//
// In skyd it runs detached (its own thread) because RocksDB calls block;
// tests run it on CAF's deterministic scheduler over the in-memory log.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/caf/type_ids.hpp"
#include "storage/event_log.hpp"
#include "storage/retention.hpp"

namespace sky::actors {

using event_log_actor = caf::typed_actor<
  // Appends drafts durably; answers with the seq of the last one.
  caf::replies_to<append_atom, std::vector<event_draft>>::with<uint64_t>,
  // Reads up to `max` events with seq >= `from`.
  caf::replies_to<read_atom, uint64_t, uint32_t>::with<event_page>,
  // Like read; when the page reaches the head, the subscriber is registered
  // and receives (committed_atom, event_batch) for every later commit.
  // `from == 0` registers at once for live events only.
  caf::replies_to<subscribe_atom, caf::actor, uint64_t,
                  uint32_t>::with<event_page>,
  caf::reacts_to<unsubscribe_atom, caf::actor>,
  // Snapshots whose entity starts with the prefix.
  caf::replies_to<snapshots_atom, std::string>::with<snapshot_list>,
  // One entity's snapshot (none when it has no snapshot).
  caf::replies_to<snapshots_atom, std::string,
                  caf::get_atom>::with<snapshot_list>,
  // How many snapshots start with the prefix (none is copied).
  caf::replies_to<snapshots_atom, std::string, count_atom>::with<uint64_t>,
  // Commits everything queued now; answers with the last seq.
  caf::replies_to<drain_atom>::with<uint64_t>,
  // Internal: commit the queued appends.
  caf::reacts_to<flush_atom>,
  // Applies the retention policy now (also runs on its own timer).
  caf::reacts_to<tick_atom>>;

/// Retention of old events (config events.keep_events, events.keep_days).
struct event_log_settings {
  storage::retention_policy retention;
  /// How often retention is applied.
  std::chrono::milliseconds retention_interval = std::chrono::minutes(10);
  /// The clock event ages are measured against (Unix ms).
  std::function<int64_t()> now_ms;
};

struct event_log_state {
  static inline const char* name = "event_log";

  struct pending_append {
    size_t count = 0;
    caf::typed_response_promise<uint64_t> promise;
  };

  std::shared_ptr<storage::event_log> log;
  std::vector<event_draft> queued;
  std::vector<pending_append> waiting;
  bool flush_scheduled = false;
  std::vector<caf::actor> subscribers;
  /// Counters for `daemon status` and benchmarks.
  uint64_t groups_committed = 0;
  uint64_t events_committed = 0;
  event_log_settings settings;
  uint64_t events_trimmed = 0;
};

/// Upper bound of drafts in one group commit, so one flush never stalls the
/// log for long.
constexpr size_t max_group_events = 8192;

/// Keeps every event (no retention).
event_log_actor::behavior_type
event_log(event_log_actor::stateful_pointer<event_log_state> self,
          std::shared_ptr<storage::event_log> log);

/// Trims events the retention policy lets go, at start and then every
/// retention_interval.
event_log_actor::behavior_type
retaining_event_log(event_log_actor::stateful_pointer<event_log_state> self,
                    std::shared_ptr<storage::event_log> log,
                    event_log_settings settings);

} // namespace sky::actors
