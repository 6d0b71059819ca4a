#pragma once

// Bodies of the control verbs that skyd and skyctl both encode or decode.
// Each verb's request and reply fields are listed in docs/PROTOCOL.md.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/event.hpp"
#include "messages/result.hpp"

namespace sky::protocol {

/// `events` request.
struct events_request {
  /// Only events with seq > since (0 = from the oldest kept).
  uint64_t since = 0;
  /// Entity prefix filter ("" = all).
  std::string topic;
  /// Keep streaming live events after the history.
  bool follow = false;
  /// Frames the client can take before it grants more credit.
  uint32_t window = 64;
};

std::string encode(const events_request& req);
result<events_request> decode_events_request(std::string_view body);

/// One `more` frame of an `events` stream (and the body of its final `ok`):
/// a batch of events and the seq the stream has reached.
struct events_frame {
  std::vector<event> events;
  uint64_t cursor = 0;
};

std::string encode(const events_frame& frame);
result<events_frame> decode_events_frame(std::string_view body);

/// Every stream may send heartbeat frames: status `more` with a nil body.
/// They tell the client that skyd is alive while nothing happens, and they
/// do not use credit. Clients skip them.
inline bool is_heartbeat(std::string_view body) {
  return body.size() == 1 && body[0] == '\xc0';
}

/// Notification granting a stream `n` more frames.
struct credit_notice {
  uint64_t stream = 0;
  uint32_t n = 0;
};

std::string encode(const credit_notice& notice);
result<credit_notice> decode_credit_notice(std::string_view body);

/// Notification cancelling a stream.
std::string encode_cancel_notice(uint64_t stream);
result<uint64_t> decode_cancel_notice(std::string_view body);

/// `daemon.status` reply.
struct daemon_status {
  std::string version;
  int64_t pid = 0;
  std::string home;
  int64_t started_at_ms = 0;
  int64_t uptime_ms = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t rss_bytes = 0;
  /// Entities with a durable snapshot: what a restart brings back.
  uint64_t clusters = 0;
  uint64_t jobs = 0;
  uint64_t managed_jobs = 0;
  /// The start-up reconciliation with the providers: when it finished (0:
  /// still running), the clusters the providers hold, the orphans it
  /// terminated ("provider/cluster; ...") and its problems.
  int64_t reconciled_at_ms = 0;
  uint64_t provider_clusters = 0;
  std::string orphans;
  std::string reconcile_problems;
};

std::string encode(const daemon_status& st);
result<daemon_status> decode_daemon_status(std::string_view body);

} // namespace sky::protocol
