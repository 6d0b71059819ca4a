#pragma once

// The durable event log: an append-only sequence of events plus the latest
// snapshot of each entity, updated atomically with the event that changed it.
//
// Implementations are synchronous and single-threaded by contract: skyd calls
// them from one detached actor (actors/core/event_log_actor), which batches
// concurrent appends into one call (group commit).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/event.hpp"
#include "messages/result.hpp"

namespace sky::storage {

class event_log {
public:
  virtual ~event_log() = default;

  /// Appends `drafts` in order as one atomic, durable unit: on success every
  /// event and snapshot change is on disk (WAL synced) and the returned events
  /// carry their sequence numbers, consecutive after `last_seq()`. On failure
  /// nothing of the batch is visible.
  virtual result<std::vector<event>> append(std::vector<event_draft> drafts)
    = 0;

  /// Up to `max_count` events with seq >= `from_seq`, in order.
  virtual result<std::vector<event>> read(uint64_t from_seq,
                                          size_t max_count) const = 0;

  /// Sequence number of the last committed event, 0 when the log is empty.
  virtual uint64_t last_seq() const = 0;

  /// Sequence number of the oldest event still kept (retention may trim the
  /// head); `last_seq() + 1` when the log holds no event.
  virtual uint64_t first_seq() const = 0;

  /// The latest snapshot of one entity.
  virtual result<std::optional<std::string>>
  load_snapshot(std::string_view entity) const = 0;

  /// All snapshots whose entity starts with `prefix`, ordered by entity.
  virtual result<std::vector<std::pair<std::string, std::string>>>
  load_snapshots(std::string_view prefix) const = 0;

  /// How many snapshots have an entity starting with `prefix`, without
  /// copying them (`daemon status` counts 10,000 managed jobs).
  virtual result<uint64_t> count_snapshots(std::string_view prefix) const = 0;

  /// Deletes events with seq < `seq` (retention). Snapshots are kept.
  /// Returns the number of events removed.
  virtual result<uint64_t> trim_before(uint64_t seq) = 0;
};

/// Wall-clock milliseconds, used to stamp drafts that carry no time.
int64_t now_unix_ms();

/// Turns drafts into events numbered from `next_seq`, stamping missing times
/// with `now_ms`. Shared by the implementations so they number alike.
std::vector<event> number_drafts(std::vector<event_draft>& drafts,
                                 uint64_t next_seq, int64_t now_ms);

} // namespace sky::storage
