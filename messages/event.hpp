#pragma once

// Events: every state change in skyd is one, persisted before it takes effect
// and then published to subscribers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

namespace sky {

/// A committed event. On the wire and in storage it is the msgpack map
/// {seq, time, kind, entity, fields}.
struct event {
  /// Position in the log: consecutive from 1, no gaps, never reused.
  uint64_t seq = 0;
  /// Unix time in milliseconds at which the event was appended.
  int64_t time_ms = 0;
  /// What changed, dotted, e.g. "cluster.foo" or "job.foo.3". It is also the
  /// topic subscribers filter on (by prefix).
  std::string entity;
  /// What happened, e.g. "daemon.started", "cluster.state_changed".
  std::string kind;
  /// msgpack-encoded map with the event's details; empty means {}.
  std::string fields;

  friend bool operator==(const event&, const event&) = default;
};

/// What to do with an entity's latest snapshot when its event commits.
enum class snapshot_op : uint8_t { keep, put, erase };

/// An event to append, with the snapshot change committed atomically with it.
struct event_draft {
  std::string entity;
  std::string kind;
  std::string fields;
  /// 0 means "stamp with the wall clock at append time".
  int64_t time_ms = 0;
  snapshot_op snapshot = snapshot_op::keep;
  /// The entity's new snapshot when `snapshot == put`.
  std::string snapshot_value;
};

std::string encode_event(const event& ev);
result<event> decode_event(std::string_view bytes);

/// True when `entity` matches a subscriber's topic prefix ("" matches all).
inline bool topic_matches(std::string_view entity, std::string_view prefix) {
  return entity.substr(0, prefix.size()) == prefix;
}

/// Checks an entity name: non-empty, printable ASCII, at most 256 bytes.
result<void> validate_entity(std::string_view entity);

} // namespace sky
