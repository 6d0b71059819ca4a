#include "providers/sim/admission.hpp"

#include <cmath>
#include <cstdio>

namespace sky::providers::sim {

namespace {

/// The places that contain `want`, most specific first, with their level.
std::vector<std::pair<std::string, level>> enclosing(const admission& want) {
  std::vector<std::pair<std::string, level>> out;
  if (!want.zone.empty())
    out.emplace_back(place_text(want.cloud, want.region, want.zone),
                     level::zone);
  out.emplace_back(place_text(want.cloud, want.region), level::region);
  out.emplace_back(place_text(want.cloud), level::cloud);
  return out;
}

bool inside(const held_instance& h, const admission& want, level lvl) {
  switch (lvl) {
    case level::zone:
      return h.region == want.region && h.zone == want.zone;
    case level::region:
      return h.region == want.region;
    case level::cloud:
      return true;
  }
  return false;
}

std::string_view pool_text(bool spot) {
  return spot ? "spot" : "on-demand";
}

/// A limit stated exactly at `place` for `key`: the admin's change first,
/// then the scenario. Outer nullopt: nothing stated there; inner nullopt:
/// stated unlimited.
std::optional<std::optional<int64_t>>
stated_limit(const scenario& sc, const capacity_overrides& overrides,
             const std::string& place, const capacity_key& key) {
  if (auto o = overrides.find(place); o != overrides.end())
    if (auto it = o->second.find(key); it != o->second.end())
      return it->second;
  if (const auto* s = sc.at(place))
    if (auto it = s->capacity.find(key); it != s->capacity.end())
      return std::optional<int64_t>{it->second};
  return std::nullopt;
}

/// Whether a place strictly inside `within` (a place text) states its own
/// limit for `key`, in the scenario or by an admin change.
bool stated_below(const scenario& sc, const capacity_overrides& overrides,
                  const std::string& within, const capacity_key& key) {
  auto prefix = within + "/";
  auto check = [&](const std::string& place, bool has) {
    return has && place.size() > prefix.size()
           && place.compare(0, prefix.size(), prefix) == 0;
  };
  for (const auto& [place, limits] : sc.places)
    if (check(place, limits.capacity.count(key) > 0))
      return true;
  for (const auto& [place, limits] : overrides)
    if (check(place, limits.count(key) > 0))
      return true;
  return false;
}

/// Capacity for one key (the instance type, or the accelerator).
std::optional<refusal>
check_capacity(const scenario& sc, const capacity_overrides& overrides,
               const admission& want, const std::vector<held_instance>& held,
               const std::string& name, bool accelerator) {
  capacity_key key{want.spot, name};
  for (const auto& [place, lvl] : enclosing(want)) {
    auto limit = stated_limit(sc, overrides, place, key);
    if (!limit)
      continue;
    // The most specific statement governs; unlimited ends the search.
    if (!*limit)
      return std::nullopt;
    double used = 0;
    for (const auto& h : held) {
      if (h.spot != want.spot || !inside(h, want, lvl))
        continue;
      if (!accelerator && h.instance_type == name)
        used += 1;
      if (accelerator && h.accelerator == name)
        used += h.accelerator_count;
    }
    double need = accelerator ? want.what.accelerator_count : 1;
    if (used + need <= static_cast<double>(**limit) + 1e-9)
      return std::nullopt;
    // A limit stated on a region or cloud is shared by everything below
    // it, so the whole place is out, unless a narrower place states its
    // own limit: then only the request's own part of it is.
    level scope = lvl;
    if (scope == level::cloud
        && stated_below(sc, overrides, place_text(want.cloud), key))
      scope = level::region;
    if (scope == level::region && !want.zone.empty()
        && stated_below(sc, overrides, place_text(want.cloud, want.region),
                        key))
      scope = level::zone;
    refusal r;
    r.code = errc::no_capacity;
    r.scope = scope;
    std::string what = accelerator ? number_text(need) + " " + name + " ("
                                       + want.what.instance_type + ")"
                                   : name;
    std::string unit = accelerator ? " " + name : " instances";
    r.message = want.place() + " (simulated): no "
                + std::string{pool_text(want.spot)} + " capacity for " + what
                + ": " + number_text(used) + " of " + std::to_string(**limit)
                + unit + " in use in " + place;
    r.hint = "failover tries elsewhere; to add capacity, raise it in the "
             "scenario or run: skyctl sim capacity "
             + place + " " + name + " N";
    return r;
  }
  return std::nullopt;
}

std::optional<refusal> check_quota(const scenario& sc, const admission& want,
                                   const std::vector<held_instance>& held) {
  for (const auto& [place, lvl] : enclosing(want)) {
    if (lvl == level::zone)
      continue;
    const auto* s = sc.at(place);
    if (s == nullptr || s->quota.empty())
      continue;
    double vcpus = 0, gpus = 0, instances = 0;
    for (const auto& h : held) {
      if (!inside(h, want, lvl))
        continue;
      vcpus += h.vcpus;
      gpus += h.accelerator_count;
      instances += 1;
    }
    struct item {
      const char* name;
      std::optional<double> limit;
      double used;
      double need;
      const char* key;
    };
    const item items[] = {
      {"instances",
       s->quota.instances
         ? std::optional<double>(static_cast<double>(*s->quota.instances))
         : std::nullopt,
       instances, 1, "instances"},
      {"vCPUs", s->quota.vcpus, vcpus, want.what.vcpus, "vcpus"},
      {"GPUs", s->quota.gpus, gpus, want.what.accelerator_count, "gpus"},
    };
    for (const auto& i : items) {
      if (!i.limit || i.need <= 0 || i.used + i.need <= *i.limit + 1e-9)
        continue;
      refusal r;
      r.code = errc::quota;
      r.scope = lvl;
      r.message
        = place + " (simulated): quota exceeded: " + want.what.instance_type
          + " needs " + number_text(i.need) + " " + i.name + ", "
          + number_text(i.used) + " of " + number_text(*i.limit) + " in use";
      r.hint = "raise quota." + std::string{i.key} + " of " + place
               + " in the scenario, or free some instances there";
      return r;
    }
  }
  return std::nullopt;
}

bool fault_applies(const fault_rule& rule, const admission& want,
                   const std::map<std::string, int64_t>& fired) {
  if (rule.spot && *rule.spot != want.spot)
    return false;
  if (!matches(rule.only, want.what))
    return false;
  if (rule.times) {
    auto it = fired.find(rule.id);
    if (it != fired.end() && it->second >= *rule.times)
      return false;
  }
  return true;
}

} // namespace

std::string number_text(double v) {
  if (std::abs(v - std::round(v)) < 1e-9)
    return std::to_string(static_cast<long long>(std::llround(v)));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

bool matches(const std::optional<resolved_name>& only, const shape& s) {
  if (!only)
    return true;
  return only->accelerator ? s.accelerator == only->name
                           : s.instance_type == only->name;
}

std::optional<refusal> check_limits(const scenario& sc,
                                    const capacity_overrides& overrides,
                                    const admission& want,
                                    const std::vector<held_instance>& held) {
  if (auto r = check_quota(sc, want, held))
    return r;
  if (auto r = check_capacity(sc, overrides, want, held,
                              want.what.instance_type, false))
    return r;
  if (!want.what.accelerator.empty())
    if (auto r = check_capacity(sc, overrides, want, held,
                                want.what.accelerator, true))
      return r;
  return std::nullopt;
}

const fault_rule* matching_fault(const scenario& sc, const admission& want,
                                 const std::map<std::string, int64_t>& fired) {
  auto places = enclosing(want);
  // Widest first: a cloud's credentials fail before any zone is looked at.
  for (auto it = places.rbegin(); it != places.rend(); ++it)
    if (const auto* s = sc.at(it->first))
      for (const auto& rule : s->faults)
        if (fault_applies(rule, want, fired))
          return &rule;
  return nullptr;
}

refusal fault_refusal(const fault_rule& rule, const admission& want) {
  refusal r;
  r.scope = rule.scope;
  std::string what;
  switch (rule.kind) {
    case fault_kind::no_capacity:
      r.code = errc::no_capacity;
      what = "no " + std::string{pool_text(want.spot)} + " capacity for "
             + want.what.instance_type;
      r.hint = "failover tries elsewhere";
      break;
    case fault_kind::quota:
      r.code = errc::quota;
      what = "quota exceeded for " + want.what.instance_type;
      r.hint = "failover tries elsewhere";
      break;
    case fault_kind::auth:
      r.code = errc::auth;
      what = "authentication failed (the credentials were refused)";
      r.hint = "failover skips this cloud";
      break;
    case fault_kind::never_ready:
      r.code = errc::transient;
      what = "instances will never become ready";
      break;
  }
  r.message = want.place()
              + " (simulated): " + (rule.message.empty() ? what : rule.message)
              + " [injected by the scenario at " + rule.where + "]";
  return r;
}

int64_t provisioning_delay_ms(const scenario& sc, const admission& want) {
  for (const auto& [place, lvl] : enclosing(want))
    if (const auto* s = sc.at(place); s && s->provisioning_delay_ms)
      return *s->provisioning_delay_ms;
  return sc.provisioning_delay_ms.value_or(0);
}

const preemption_rule* preemption_for(const scenario& sc,
                                      const admission& want) {
  for (const auto& [place, lvl] : enclosing(want)) {
    const auto* s = sc.at(place);
    if (s == nullptr || !s->preemption)
      continue;
    const auto& rule = *s->preemption;
    // The most specific rule that applies: a zone's rule for one type
    // leaves the region's rule in force for the other types.
    if ((want.spot || rule.on_demand) && matches(rule.only, want.what))
      return &rule;
  }
  return nullptr;
}

} // namespace sky::providers::sim
