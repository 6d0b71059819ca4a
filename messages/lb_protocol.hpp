#pragma once

// The control protocol between skyd and its load balancer process skyd-lb
// (ZeroMQ REQ/REP, one msgpack map a frame). Every map carries `v` (protocol
// version) and `verb`; decoders ignore keys they do not know, so either side
// may add fields without breaking the other. A key that is present with the
// wrong type is an error naming that key.
//
// This library links msgpack only (no CAF): skyd-lb does not link the actor
// runtime.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sky::lb {

inline constexpr uint32_t protocol_version = 1;

enum class policy { least_load, round_robin };

std::string_view to_string(policy p);
std::optional<policy> parse_policy(std::string_view text);

// ---- requests (skyd -> skyd-lb) ----

struct hello_request {};

/// The whole routing state of one service; each `routes` replaces the last.
/// An empty endpoint list keeps the port open: requests wait up to
/// queue_timeout_ms for endpoints, then get 503.
struct routes_request {
  std::string service;
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0; // 0: any free port (the ack says which)
  policy balancing = policy::least_load;
  std::vector<std::string> endpoints; // "host:port"
  uint64_t queue_timeout_ms = 30'000;
  uint64_t generation = 0;
};

/// Closes the service's port; requests in flight finish.
struct remove_request {
  std::string service;
};

/// Asks for what happened since the last report (counts are drained).
struct report_request {};

using request
  = std::variant<hello_request, routes_request, remove_request, report_request>;

// ---- replies (skyd-lb -> skyd) ----

struct service_brief {
  std::string service;
  uint64_t generation = 0;
  uint16_t port = 0;
  bool listening = false;
};

/// Also lists the services the process serves, so that a restarted skyd can
/// tell whether its load balancer already has the routes it would push.
struct hello_reply {
  uint32_t lb_version = protocol_version;
  int64_t pid = 0;
  uint64_t started_at_ms = 0;
  std::vector<service_brief> services;
};

struct routes_ack {
  std::string service;
  uint64_t generation = 0;
  bool listening = false;
  uint16_t port = 0;
  std::string error; // empty when listening
};

struct remove_ack {
  std::string service;
  bool removed = false; // false: no such service
};

struct endpoint_load {
  std::string endpoint;
  uint64_t in_flight = 0;
};

struct ejection {
  std::string endpoint;
  std::string reason;
  uint64_t at_ms = 0; // unix milliseconds
};

struct service_report {
  std::string service;
  uint64_t generation = 0;
  /// [unix_second, requests that arrived in it], oldest first.
  std::vector<std::pair<int64_t, uint64_t>> requests;
  uint64_t in_flight = 0;
  uint64_t queued = 0;
  std::vector<endpoint_load> endpoints;
  std::vector<ejection> ejected; // ejections since the last report
  /// Responses sent to clients since the last report by status class
  /// ("2xx" .. "5xx"; the load balancer's own 503/502/504/4xx included).
  std::map<std::string, uint64_t> responses;
};

struct report_reply {
  std::vector<service_report> services;
};

/// Answer to a request skyd-lb could not decode.
struct error_reply {
  std::string message;
};

using reply = std::variant<hello_reply, routes_ack, remove_ack, report_reply,
                           error_reply>;

// ---- codec ----

/// A decoded value or a message naming the field that was wrong.
template <class T>
struct decoded {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const { return value.has_value(); }
};

std::string encode(const request& r);
std::string encode(const reply& r);
decoded<request> decode_request(std::string_view bytes);
decoded<reply> decode_reply(std::string_view bytes);

} // namespace sky::lb
