#include "optimizer/serve/service_plan.hpp"

#include <algorithm>

namespace sky::optimizer {

namespace {

using replica_list = std::vector<replica>;

size_t count_ready(const replica_list& rs, uint64_t version) {
  return static_cast<size_t>(
    std::count_if(rs.begin(), rs.end(), [&](const replica& r) {
      return r.version == version && r.status == replica_status::ready;
    }));
}

/// Rolling: every version with a READY replica (traffic is mixed while the
/// new one comes up). Blue-green: the newest version with its own
/// min_replicas READY (at least one), else the oldest version with any.
std::vector<uint64_t> routed_versions(const service_state& s,
                                      const replica_list& rs) {
  std::vector<uint64_t> with_ready;
  for (const auto& v : s.versions)
    if (count_ready(rs, v.version) > 0)
      with_ready.push_back(v.version);
  std::sort(with_ready.begin(), with_ready.end());
  if (s.mode == update_mode::rolling || with_ready.empty())
    return with_ready;
  for (auto it = s.versions.rbegin(); it != s.versions.rend(); ++it) {
    auto need = static_cast<size_t>(std::max(1, it->min_replicas));
    if (it->version <= s.latest && count_ready(rs, it->version) >= need)
      return {it->version};
  }
  return {with_ready.front()};
}

const service_version* find_version(const service_state& s, uint64_t v) {
  for (const auto& sv : s.versions)
    if (sv.version == v)
      return &sv;
  return nullptr;
}

/// The newest version before the latest that was ever ready.
std::optional<uint64_t> last_good_version(const service_state& s) {
  std::optional<uint64_t> best;
  for (const auto& v : s.versions)
    if (v.version < s.latest && v.ever_ready && (!best || v.version > *best))
      best = v.version;
  return best;
}

int64_t backoff_ms(const plan_limits& l, uint32_t failures) {
  auto delay = l.provision_retry_ms;
  for (uint32_t i = 1; i < failures && delay < l.provision_retry_max_ms; ++i)
    delay *= 2;
  return std::min(delay, l.provision_retry_max_ms);
}

/// Launches and removals that bring the latest version's live replicas of
/// one kind to `want`.
void converge_kind(const replica_list& latest_live, bool spot, int want,
                   uint64_t version, service_plan& plan) {
  replica_list have;
  for (const auto& r : latest_live)
    if (r.spot == spot)
      have.push_back(r);
  auto count = static_cast<int>(have.size());
  for (int i = count; i < want; ++i)
    plan.launches.push_back({version, spot});
  if (count > want)
    for (auto id :
         pick_scale_down(have, static_cast<size_t>(count - std::max(want, 0))))
      plan.removals.push_back({id, teardown_cause::scale_down});
}

/// Replicas of other versions that the update no longer needs.
void retire_outdated(const service_state& s, const replica_list& rs,
                     const autoscale_policy& policy,
                     const autoscaler_state& scaler, service_plan& plan) {
  replica_list old;
  for (const auto& r : rs) {
    if (!is_live(r) || r.version == s.latest)
      continue;
    if (r.version > s.latest) // a version rolled back from
      plan.removals.push_back({r.id, teardown_cause::outdated});
    else
      old.push_back(r);
  }
  if (old.empty())
    return;
  if (s.mode == update_mode::rolling) {
    // Keep as many old replicas as the new version still lacks ready ones.
    auto ready_new = count_ready(rs, s.latest);
    auto wanted
      = static_cast<size_t>(std::max(0, final_target(policy, scaler)));
    auto keep = wanted > ready_new ? wanted - ready_new : 0;
    auto remove = old.size() > keep ? old.size() - keep : 0;
    for (auto id : pick_scale_down(old, remove))
      plan.removals.push_back({id, teardown_cause::outdated});
    return;
  }
  // Blue-green: everything older than the oldest routed version goes, once
  // some version is routed at all.
  if (plan.routed_versions.empty())
    return;
  auto oldest_routed = plan.routed_versions.front();
  for (const auto& r : old)
    if (r.version < oldest_routed)
      plan.removals.push_back({r.id, teardown_cause::outdated});
}

/// Failed records beyond the newest `kept` ones are forgotten.
std::vector<uint64_t> forgotten(const replica_list& rs, size_t kept) {
  std::vector<uint64_t> failed;
  for (const auto& r : rs)
    if (is_failed(r.status) && !r.cluster_left)
      failed.push_back(r.id);
  std::sort(failed.begin(), failed.end());
  if (failed.size() <= kept)
    return {};
  failed.resize(failed.size() - kept);
  return failed;
}

service_status status_of(const service_state& s, const replica_list& rs,
                         const service_plan& plan) {
  if (s.shutting_down)
    return service_status::shutting_down;
  if (plan.frozen)
    return service_status::failed;
  for (auto v : plan.routed_versions)
    if (count_ready(rs, v) > 0)
      return service_status::ready;
  bool ever
    = std::any_of(s.versions.begin(), s.versions.end(),
                  [](const service_version& v) { return v.ever_ready; });
  bool coming = std::any_of(rs.begin(), rs.end(), is_live);
  return !ever && coming ? service_status::replica_init
                         : service_status::no_replica;
}

} // namespace

bool failed_for_good(const replica& r) {
  if (r.first_ready_ms != 0)
    return false;
  return r.status == replica_status::failed_initial_delay
         || r.status == replica_status::failed;
}

service_plan plan_service(const service_state& s, const replica_list& rs,
                          const autoscale_policy& policy,
                          const autoscaler_state& scaler,
                          const plan_limits& limits, int64_t now_ms) {
  service_plan plan;
  plan.forget = forgotten(rs, limits.failed_kept);
  if (s.shutting_down) {
    for (const auto& r : rs)
      if (is_live(r))
        plan.removals.push_back({r.id, teardown_cause::user});
    plan.status = service_status::shutting_down;
    return plan;
  }
  plan.routed_versions = routed_versions(s, rs);

  const auto* latest = find_version(s, s.latest);
  bool latest_failed
    = latest && !latest->ever_ready
      && std::any_of(rs.begin(), rs.end(), [&](const replica& r) {
           return r.version == s.latest && failed_for_good(r);
         });
  if (latest_failed) {
    if (auto good = last_good_version(s)) {
      plan.roll_back_to = *good;
      plan.why = "no replica of version " + std::to_string(s.latest)
                 + " became ready and one failed for good; rolling back to "
                   "version "
                 + std::to_string(*good);
    } else {
      plan.frozen = true;
      plan.why = "no replica of version " + std::to_string(s.latest)
                 + " became ready and one failed for good; fix the service "
                   "and run skyctl serve update, or skyctl serve down";
    }
    plan.status = status_of(s, rs, plan);
    return plan;
  }

  replica_list latest_live;
  int ready_spot = 0;
  for (const auto& r : rs)
    if (r.version == s.latest && is_live(r)) {
      latest_live.push_back(r);
      ready_spot += r.spot && r.status == replica_status::ready;
    }
  auto want = wanted_by_kind(policy, scaler, ready_spot);
  converge_kind(latest_live, true, want.spot, s.latest, plan);
  converge_kind(latest_live, false, want.on_demand, s.latest, plan);
  if (!plan.launches.empty() && s.launch_failures > 0) {
    auto not_before
      = s.last_launch_failure_ms + backoff_ms(limits, s.launch_failures);
    if (now_ms < not_before) {
      plan.launches.clear();
      plan.launch_not_before_ms = not_before;
    }
  }
  retire_outdated(s, rs, policy, scaler, plan);
  plan.status = status_of(s, rs, plan);
  return plan;
}

std::vector<std::string> routed_endpoints(const replica_list& rs,
                                          const service_plan& plan) {
  replica_list ready;
  for (const auto& r : rs)
    if (routable(r) && !r.endpoint.empty()
        && std::find(plan.routed_versions.begin(), plan.routed_versions.end(),
                     r.version)
             != plan.routed_versions.end())
      ready.push_back(r);
  std::sort(ready.begin(), ready.end(),
            [](const replica& a, const replica& b) { return a.id < b.id; });
  std::vector<std::string> out;
  for (const auto& r : ready)
    out.push_back(r.endpoint);
  return out;
}

} // namespace sky::optimizer
