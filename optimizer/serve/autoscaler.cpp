#include "optimizer/serve/autoscaler.hpp"

#include <algorithm>
#include <cmath>

namespace sky::optimizer {

void request_rate::add(int64_t at_ms, uint64_t count) {
  if (count == 0)
    return;
  auto second = at_ms / 1000;
  if (!seconds_.empty()
      && (seconds_.back().first - second) * 1000 >= window_ms_)
    return; // older than anything the window can still hold
  // Reports arrive nearly in order: look from the back.
  auto it = seconds_.end();
  while (it != seconds_.begin() && std::prev(it)->first > second)
    --it;
  if (it != seconds_.begin() && std::prev(it)->first == second)
    std::prev(it)->second += count;
  else
    seconds_.insert(it, {second, count});
}

void request_rate::expire(int64_t now_ms) {
  // A second [s, s+1) is inside the window while s*1000 > now - window.
  while (!seconds_.empty()
         && seconds_.front().first * 1000 <= now_ms - window_ms_)
    seconds_.pop_front();
}

double request_rate::qps(int64_t now_ms) {
  expire(now_ms);
  uint64_t total = 0;
  for (const auto& [second, count] : seconds_)
    if (second * 1000 <= now_ms)
      total += count;
  return window_ms_ > 0 ? static_cast<double>(total) * 1000.0
                            / static_cast<double>(window_ms_)
                        : 0.0;
}

autoscale_policy policy_of(const task::replica_policy_spec& spec, bool spot) {
  autoscale_policy p;
  p.min_replicas = spec.min_replicas;
  p.max_replicas = spec.max_replicas.value_or(spec.min_replicas);
  p.target_qps_per_replica = spec.target_qps_per_replica;
  p.upscale_delay_ms = int64_t{spec.upscale_delay_seconds} * 1000;
  p.downscale_delay_ms = int64_t{spec.downscale_delay_seconds} * 1000;
  p.num_overprovision = spec.num_overprovision;
  p.spot = spot;
  p.base_ondemand = spec.base_ondemand_fallback_replicas.value_or(0);
  p.dynamic_ondemand_fallback = spec.dynamic_ondemand_fallback.value_or(false);
  return p;
}

int raw_target(const autoscale_policy& p, double qps) {
  if (!p.target_qps_per_replica || *p.target_qps_per_replica <= 0)
    return p.min_replicas;
  // A tiny epsilon keeps 10.0000001 requests at a target of 5 at 2, not 3
  // (the rate is a ratio of integers and may not be exact).
  auto wanted = std::ceil(qps / *p.target_qps_per_replica - 1e-9);
  auto clipped = std::clamp(wanted, static_cast<double>(p.min_replicas),
                            static_cast<double>(p.max_replicas));
  return static_cast<int>(clipped);
}

autoscaler_state initial_autoscaler(const autoscale_policy& p, double qps) {
  autoscaler_state s;
  s.target = raw_target(p, qps);
  return s;
}

autoscaler_state autoscale(const autoscale_policy& p, const autoscaler_state& s,
                           double qps, int64_t now_ms) {
  auto next = s;
  // A policy changed by an update clips the target at once.
  next.target = std::clamp(next.target, p.min_replicas, p.max_replicas);
  auto raw = raw_target(p, qps);
  if (next.target == 0 && raw > 0) {
    // Scale from zero: requests are waiting, no delay.
    next.target = raw;
    next.above_since_ms.reset();
    next.below_since_ms.reset();
    return next;
  }
  if (raw > next.target) {
    next.below_since_ms.reset();
    if (!next.above_since_ms)
      next.above_since_ms = now_ms;
    if (now_ms - *next.above_since_ms >= p.upscale_delay_ms) {
      next.target = raw;
      next.above_since_ms.reset();
    }
  } else if (raw < next.target) {
    next.above_since_ms.reset();
    if (!next.below_since_ms)
      next.below_since_ms = now_ms;
    if (now_ms - *next.below_since_ms >= p.downscale_delay_ms) {
      next.target = raw;
      next.below_since_ms.reset();
    }
  } else {
    next.above_since_ms.reset();
    next.below_since_ms.reset();
  }
  return next;
}

replica_counts wanted_by_kind(const autoscale_policy& p,
                              const autoscaler_state& s, int ready_spot) {
  auto total = final_target(p, s);
  if (!p.spot)
    return {0, total};
  auto base = std::min(p.base_ondemand, total);
  replica_counts c;
  c.spot = total - base;
  auto cover
    = p.dynamic_ondemand_fallback ? std::max(0, c.spot - ready_spot) : 0;
  c.on_demand = std::min(base + cover, s.target);
  return c;
}

std::vector<uint64_t> pick_scale_down(std::vector<replica> candidates,
                                      size_t n) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const replica& a, const replica& b) {
                     auto ra = scale_down_rank(a.status);
                     auto rb = scale_down_rank(b.status);
                     if (ra != rb)
                       return ra < rb;
                     if (a.version != b.version)
                       return a.version < b.version;
                     return a.id > b.id;
                   });
  std::vector<uint64_t> out;
  for (const auto& r : candidates) {
    if (out.size() == n)
      break;
    if (!is_terminal(r.status))
      out.push_back(r.id);
  }
  return out;
}

} // namespace sky::optimizer
