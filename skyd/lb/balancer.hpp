#pragma once

// Endpoint choice and in-flight accounting for one service (pure; the proxy
// calls it on its one Asio thread).
//
// SkyServe's least_load lost count on proxy errors and recreated counters of
// departed replicas at -1 (skypilot#10444). Here a request holds a
// `flight` guard from pick to its last byte, whatever way it ends, and a
// departed endpoint keeps its counter until its last request finishes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "messages/lb_protocol.hpp"

namespace sky::lb {

class balancer {
public:
  explicit balancer(policy p = policy::least_load) : policy_(p) {}

  /// Replaces the endpoint list (a `routes` message).
  void set(policy p, std::vector<std::string> endpoints);

  /// The endpoint the policy picks among those `usable` accepts, or nullopt.
  std::optional<std::string>
  pick(const std::function<bool(const std::string&)>& usable);

  void start(const std::string& endpoint);
  void finish(const std::string& endpoint);

  uint64_t in_flight(const std::string& endpoint) const;
  uint64_t total_in_flight() const { return total_; }
  /// Every endpoint routed to or still finishing requests, with its count.
  std::vector<endpoint_load> loads() const;
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  policy current_policy() const { return policy_; }

private:
  policy policy_;
  std::vector<std::string> endpoints_;
  std::unordered_map<std::string, uint64_t> in_flight_;
  uint64_t total_ = 0;
  // Where the next scan starts: round_robin's position, and least_load's tie
  // breaker (ties by list order would send every idle-time request to the
  // first replica).
  size_t cursor_ = 0;
};

/// Holds one request's place in its endpoint's in-flight count.
class flight {
public:
  flight() = default;
  flight(balancer& b, std::string endpoint)
    : balancer_(&b), endpoint_(std::move(endpoint)) {
    balancer_->start(endpoint_);
  }
  ~flight() { release(); }
  flight(flight&& o) noexcept
    : balancer_(std::exchange(o.balancer_, nullptr)),
      endpoint_(std::move(o.endpoint_)) {}
  flight& operator=(flight&& o) noexcept {
    if (this != &o) {
      release();
      balancer_ = std::exchange(o.balancer_, nullptr);
      endpoint_ = std::move(o.endpoint_);
    }
    return *this;
  }
  void release() {
    if (balancer_ != nullptr)
      std::exchange(balancer_, nullptr)->finish(endpoint_);
  }

private:
  balancer* balancer_ = nullptr;
  std::string endpoint_;
};

/// Passive ejection: an endpoint that refused a connection is out of
/// rotation until `readmit_after` passes or a `routes` lists it again.
class ejections {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit ejections(std::chrono::milliseconds readmit_after)
    : readmit_after_(readmit_after) {}

  void eject(const std::string& endpoint, std::string reason, time_point now,
             uint64_t unix_ms);
  bool ejected(const std::string& endpoint, time_point now) const;
  /// A `routes` message re-admits every endpoint it lists (and the others
  /// are no longer routed): skyd's probes have the last word.
  void readmit();
  /// Ejections since the last call, for `report`.
  std::vector<ejection> drain_events();
  std::chrono::milliseconds readmit_after() const { return readmit_after_; }

private:
  std::chrono::milliseconds readmit_after_;
  std::unordered_map<std::string, time_point> until_;
  std::vector<ejection> events_;
};

} // namespace sky::lb
