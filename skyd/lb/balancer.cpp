#include "skyd/lb/balancer.hpp"

#include <algorithm>

namespace sky::lb {

void balancer::set(policy p, std::vector<std::string> endpoints) {
  policy_ = p;
  endpoints_ = std::move(endpoints);
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    const bool routed
      = std::find(endpoints_.begin(), endpoints_.end(), it->first)
        != endpoints_.end();
    if (it->second == 0 && !routed)
      it = in_flight_.erase(it);
    else
      ++it;
  }
}

std::optional<std::string>
balancer::pick(const std::function<bool(const std::string&)>& usable) {
  const size_t n = endpoints_.size();
  if (n == 0)
    return std::nullopt;
  const size_t start = cursor_ % n;
  std::optional<size_t> best;
  uint64_t best_load = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (!usable(endpoints_[i]))
      continue;
    if (policy_ == policy::round_robin) {
      best = i;
      break;
    }
    const uint64_t load = in_flight(endpoints_[i]);
    if (!best || load < best_load) {
      best = i;
      best_load = load;
    }
  }
  if (!best)
    return std::nullopt;
  cursor_ = *best + 1;
  return endpoints_[*best];
}

void balancer::start(const std::string& endpoint) {
  ++in_flight_[endpoint];
  ++total_;
}

void balancer::finish(const std::string& endpoint) {
  auto it = in_flight_.find(endpoint);
  if (it == in_flight_.end() || it->second == 0)
    return; // never below zero, never recreated
  --it->second;
  --total_;
  if (it->second == 0
      && std::find(endpoints_.begin(), endpoints_.end(), endpoint)
           == endpoints_.end())
    in_flight_.erase(it);
}

uint64_t balancer::in_flight(const std::string& endpoint) const {
  auto it = in_flight_.find(endpoint);
  return it == in_flight_.end() ? 0 : it->second;
}

std::vector<endpoint_load> balancer::loads() const {
  std::vector<endpoint_load> out;
  for (const auto& e : endpoints_)
    out.push_back({e, in_flight(e)});
  for (const auto& [e, n] : in_flight_)
    if (std::find(endpoints_.begin(), endpoints_.end(), e) == endpoints_.end())
      out.push_back({e, n});
  return out;
}

void ejections::eject(const std::string& endpoint, std::string reason,
                      time_point now, uint64_t unix_ms) {
  const bool already = ejected(endpoint, now);
  until_[endpoint] = now + readmit_after_;
  if (!already)
    events_.push_back({endpoint, std::move(reason), unix_ms});
}

bool ejections::ejected(const std::string& endpoint, time_point now) const {
  auto it = until_.find(endpoint);
  return it != until_.end() && now < it->second;
}

void ejections::readmit() {
  until_.clear();
}

std::vector<ejection> ejections::drain_events() {
  return std::exchange(events_, {});
}

} // namespace sky::lb
