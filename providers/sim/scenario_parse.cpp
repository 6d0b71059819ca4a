// Scenario YAML -> sim::scenario, every name checked against the catalog.
// Located reading (file:line:col, duplicate keys, "did you mean" for keys)
// comes from the task parser's YAML reader, so scenario and task files
// report mistakes the same way.

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "messages/task/yaml_reader.hpp"
#include "providers/sim/scenario.hpp"
#include "providers/sim/sim_duration.hpp"

namespace sky::providers::sim {

namespace {

using task::detail::child_path;
using task::detail::fail;
using task::detail::located;
using task::detail::map_view;
using task::detail::parse_context;

/// Largest scenario accepted (a generated one for 100 zones is ~20 KiB).
constexpr size_t max_scenario_bytes = 4 << 20;

/// Capacities and counts above this are typos, not clouds.
constexpr long long max_count = 1'000'000'000;

/// Where a place's settings are read: the cloud, and region/zone when the
/// place is one.
struct place_ref {
  const cloud_places* cloud = nullptr;
  std::string region;
  std::string zone;

  level lvl() const {
    return !zone.empty() ? level::zone
                         : (!region.empty() ? level::region : level::cloud);
  }
  std::string text() const { return place_text(cloud->name, region, zone); }
};

class parser {
public:
  parser(parse_context& ctx, const catalog_index& index, scenario& out)
    : ctx_(ctx), index_(index), out_(out) {}

  caf::error top(const located& doc) {
    auto m = map_view::open(ctx_, doc);
    if (!m)
      return m.error();
    if (auto err
        = m->check_keys(ctx_, {"seed", "provisioning_delay", "clouds"}))
      return err;
    if (auto v = m->get("seed")) {
      auto seed = task::detail::read_int(ctx_, *v, 0,
                                         std::numeric_limits<long long>::max());
      if (!seed)
        return seed.error();
      out_.seed = static_cast<uint64_t>(*seed);
    }
    if (auto v = m->get("provisioning_delay")) {
      auto ms = duration(*v);
      if (!ms)
        return ms.error();
      out_.provisioning_delay_ms = *ms;
    }
    if (auto v = m->get("clouds")) {
      auto clouds = map_view::open(ctx_, *v);
      if (!clouds)
        return clouds.error();
      for (const auto& e : clouds->entries()) {
        auto key_at = key_location(*clouds, e);
        auto c = index_.find_cloud(e.key);
        if (!c)
          return task::detail::relocate(ctx_, key_at, c.error());
        if (auto err = place(place_ref{*c, "", ""}, clouds->locate(e)))
          return err;
      }
    }
    return {};
  }

private:
  static located key_location(const map_view& m, const map_view::entry& e) {
    auto value = m.locate(e);
    auto mark = e.key_node.Mark();
    if (mark.line >= 0)
      value.mark = mark;
    return value;
  }

  result<int64_t> duration(const located& at) {
    auto text = task::detail::read_string(ctx_, at);
    if (!text)
      return text.error();
    auto ms = parse_duration_ms(*text);
    if (!ms)
      return task::detail::relocate(ctx_, at, ms.error());
    return *ms;
  }

  /// Reads the settings of one place, then its children.
  caf::error place(const place_ref& p, const located& at) {
    auto& settings = out_.places[p.text()];
    if (at.is_null())
      return {};
    auto m = map_view::open(ctx_, at);
    if (!m)
      return m.error();
    std::vector<std::string_view> keys{"capacity", "provisioning_delay",
                                       "failures", "preemption"};
    if (p.lvl() != level::zone)
      keys.push_back("quota");
    if (p.lvl() == level::cloud)
      keys.push_back("regions");
    if (p.lvl() == level::region)
      keys.push_back("zones");
    std::vector<task::detail::unsupported_field> misplaced;
    if (p.lvl() == level::zone)
      misplaced.push_back({"quota", "state quotas on the region or the cloud",
                           "quotas are per region or per cloud, not per "
                           "zone"});
    if (p.lvl() == level::cloud)
      misplaced.push_back({"zones", "put zones under regions.<region>.zones",
                           "zones belong to a region"});
    if (p.lvl() == level::zone)
      misplaced.push_back(
        {"zones", "a zone has no zones", "zones belong to a region"});
    if (auto err = m->check_keys(ctx_, keys, misplaced))
      return err;
    if (auto v = m->get("capacity"))
      if (auto err = capacity(p, *v, settings))
        return err;
    if (auto v = m->get("quota"))
      if (auto err = quota(*v, settings))
        return err;
    if (auto v = m->get("provisioning_delay")) {
      auto ms = duration(*v);
      if (!ms)
        return ms.error();
      settings.provisioning_delay_ms = *ms;
    }
    if (auto v = m->get("failures"))
      if (auto err = failures(p, *v, settings))
        return err;
    if (auto v = m->get("preemption"))
      if (auto err = preemption(p, *v, settings))
        return err;
    if (auto v = m->get("regions")) {
      auto regions = map_view::open(ctx_, *v);
      if (!regions)
        return regions.error();
      for (const auto& e : regions->entries()) {
        if (auto ok = index_.check_region(*p.cloud, e.key); !ok)
          return task::detail::relocate(ctx_, key_location(*regions, e),
                                        ok.error());
        if (auto err = place(place_ref{p.cloud, e.key, ""}, regions->locate(e)))
          return err;
      }
    }
    if (auto v = m->get("zones")) {
      auto zones = map_view::open(ctx_, *v);
      if (!zones)
        return zones.error();
      for (const auto& e : zones->entries()) {
        if (auto ok = index_.check_zone(*p.cloud, p.region, e.key); !ok)
          return task::detail::relocate(ctx_, key_location(*zones, e),
                                        ok.error());
        if (auto err
            = place(place_ref{p.cloud, p.region, e.key}, zones->locate(e)))
          return err;
      }
    }
    return {};
  }

  /// An instance type or accelerator that exists in the cloud and is
  /// offered in the place.
  result<resolved_name> name_at(const place_ref& p, const std::string& text,
                                const located& at) {
    auto name = index_.resolve_name(*p.cloud, text);
    if (!name)
      return task::detail::relocate(ctx_, at, name.error());
    if (!index_.offered(*p.cloud, p.region, p.zone, name->name))
      return fail(ctx_, at,
                  name->name + " is not offered in " + p.text()
                    + " (the catalog has no such offer there)",
                  index_.where_offered(*p.cloud, name->name));
    return name;
  }

  /// One pool's section: `on_demand: {TYPE: N}` or `spot: {TYPE: N}`.
  caf::error capacity_map(const place_ref& p, const map_view& m, bool spot,
                          place_settings& out) {
    for (const auto& e : m.entries()) {
      auto name = name_at(p, e.key, key_location(m, e));
      if (!name)
        return name.error();
      auto n = task::detail::read_int(ctx_, m.locate(e), 0, max_count);
      if (!n)
        return n.error();
      out.capacity[capacity_key{spot, name->name}] = *n;
    }
    return {};
  }

  caf::error capacity(const place_ref& p, const located& at,
                      place_settings& out) {
    auto m = map_view::open(ctx_, at);
    if (!m)
      return m.error();
    // Pool sections first, so that their entries win over those stated
    // for both pools, whatever the order they are written in.
    for (const char* pool : {"on_demand", "spot"}) {
      if (auto v = m->get(pool)) {
        auto inner = map_view::open(ctx_, *v);
        if (!inner)
          return inner.error();
        if (auto err
            = capacity_map(p, *inner, std::string_view{pool} == "spot", out))
          return err;
      }
    }
    for (const auto& e : m->entries()) {
      if (e.key == "on_demand" || e.key == "spot")
        continue;
      auto key_at = key_location(*m, e);
      auto name = name_at(p, e.key, key_at);
      if (!name)
        return name.error();
      auto n = task::detail::read_int(ctx_, m->locate(e), 0, max_count);
      if (!n)
        return n.error();
      for (bool spot : {false, true})
        out.capacity.try_emplace(capacity_key{spot, name->name}, *n);
    }
    return {};
  }

  caf::error quota(const located& at, place_settings& out) {
    auto m = map_view::open(ctx_, at);
    if (!m)
      return m.error();
    if (auto err = m->check_keys(ctx_, {"vcpus", "instances", "gpus"}))
      return err;
    if (auto v = m->get("vcpus")) {
      auto n = task::detail::read_number(ctx_, *v, false, true);
      if (!n)
        return n.error();
      out.quota.vcpus = *n;
    }
    if (auto v = m->get("instances")) {
      auto n = task::detail::read_int(ctx_, *v, 0, max_count);
      if (!n)
        return n.error();
      out.quota.instances = *n;
    }
    if (auto v = m->get("gpus")) {
      auto n = task::detail::read_number(ctx_, *v, false, true);
      if (!n)
        return n.error();
      out.quota.gpus = *n;
    }
    return {};
  }

  std::string where(const located& at) const {
    return ctx_.file + ":" + std::to_string(at.mark.line + 1) + ":"
           + std::to_string(at.mark.column + 1);
  }

  caf::error failures(const place_ref& p, const located& at,
                      place_settings& out) {
    auto items = task::detail::read_list(ctx_, at);
    if (!items)
      return items.error();
    for (const auto& item : *items) {
      auto m = map_view::open(ctx_, item);
      if (!m)
        return m.error();
      if (auto err = m->check_keys(
            ctx_, {"error", "times", "type", "spot", "scope", "message"}))
        return err;
      fault_rule rule;
      rule.id = p.text() + "#" + std::to_string(out.faults.size());
      rule.where = where(item);
      auto error_at = m->get("error");
      if (!error_at)
        return fail(ctx_, item, "a failure needs 'error'",
                    "error: no_capacity, quota, auth or never_ready");
      auto kind = task::detail::read_choice(
        ctx_, *error_at, {"no_capacity", "quota", "auth", "never_ready"});
      if (!kind)
        return kind.error();
      rule.kind = *kind == "no_capacity" ? fault_kind::no_capacity
                  : *kind == "quota"     ? fault_kind::quota
                  : *kind == "auth"      ? fault_kind::auth
                                         : fault_kind::never_ready;
      // Credentials are per cloud: failover blocks the whole cloud, as it
      // would for a real auth error. Other kinds block where they are
      // stated.
      rule.scope = rule.kind == fault_kind::auth ? level::cloud : p.lvl();
      if (auto v = m->get("scope")) {
        auto s
          = task::detail::read_choice(ctx_, *v, {"zone", "region", "cloud"});
        if (!s)
          return s.error();
        rule.scope = *s == "zone"     ? level::zone
                     : *s == "region" ? level::region
                                      : level::cloud;
      }
      if (auto v = m->get("times")) {
        auto n = task::detail::read_int(ctx_, *v, 1, max_count);
        if (!n)
          return n.error();
        rule.times = *n;
      }
      if (auto v = m->get("type")) {
        auto text = task::detail::read_string(ctx_, *v);
        if (!text)
          return text.error();
        auto name = name_at(p, *text, *v);
        if (!name)
          return name.error();
        rule.only = *name;
      }
      if (auto v = m->get("spot")) {
        auto b = task::detail::read_bool(ctx_, *v);
        if (!b)
          return b.error();
        rule.spot = *b;
      }
      if (auto v = m->get("message")) {
        auto text = task::detail::read_string(ctx_, *v);
        if (!text)
          return text.error();
        rule.message = *text;
      }
      out.faults.push_back(std::move(rule));
    }
    return {};
  }

  caf::error preemption(const place_ref& p, const located& at,
                        place_settings& out) {
    auto m = map_view::open(ctx_, at);
    if (!m)
      return m.error();
    if (auto err
        = m->check_keys(ctx_, {"after", "rate_per_hour", "type", "on_demand"}))
      return err;
    preemption_rule rule;
    rule.where = where(at);
    if (auto v = m->get("after")) {
      auto ms = duration(*v);
      if (!ms)
        return ms.error();
      rule.after_ms = *ms;
    }
    if (auto v = m->get("rate_per_hour")) {
      auto r = task::detail::read_number(ctx_, *v, true, true);
      if (!r)
        return r.error();
      rule.rate_per_hour = *r;
    }
    if (rule.after_ms.has_value() == rule.rate_per_hour.has_value())
      return fail(ctx_, at,
                  rule.after_ms ? "states both 'after' and 'rate_per_hour'"
                                : "needs 'after' or 'rate_per_hour'",
                  "give one: after: 10m (a fixed time after start) or "
                  "rate_per_hour: 0.5 (random, from the seed)");
    if (auto v = m->get("type")) {
      auto text = task::detail::read_string(ctx_, *v);
      if (!text)
        return text.error();
      auto name = name_at(p, *text, *v);
      if (!name)
        return name.error();
      rule.only = *name;
    }
    if (auto v = m->get("on_demand")) {
      auto b = task::detail::read_bool(ctx_, *v);
      if (!b)
        return b.error();
      rule.on_demand = *b;
    }
    out.preemption = std::move(rule);
    return {};
  }

  parse_context& ctx_;
  const catalog_index& index_;
  scenario& out_;
};

std::string fingerprint_of(const std::string& text) {
  // FNV-1a: only needs to tell two scenario texts apart.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return buf;
}

} // namespace

std::string_view to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::no_capacity:
      return "no_capacity";
    case fault_kind::quota:
      return "quota";
    case fault_kind::auth:
      return "auth";
    case fault_kind::never_ready:
      return "never_ready";
  }
  return "no_capacity";
}

const place_settings* scenario::at(const std::string& place) const {
  auto it = places.find(place);
  return it == places.end() ? nullptr : &it->second;
}

result<scenario> parse_scenario(const std::string& text,
                                const std::string& file,
                                const catalog_index& index) {
  parse_context ctx;
  ctx.file = file.empty() ? "<scenario>" : file;
  ctx.budget = 100'000 + 4 * static_cast<long long>(text.size());
  if (text.size() > max_scenario_bytes)
    return fail(ctx, YAML::Mark{}, "",
                "the scenario is too large (" + std::to_string(text.size())
                  + " bytes)",
                "a scenario states only what differs from plenty of "
                "capacity; keep it under 4 MiB");
  scenario out;
  out.source = ctx.file;
  out.fingerprint = fingerprint_of(text);
  auto loaded = task::detail::load_single_document(
    ctx, text, "a scenario is one document: remove the '---'");
  if (!loaded)
    return loaded.error();
  auto doc = std::move(*loaded);
  // An empty file is the empty scenario.
  if (!doc.IsDefined() || doc.IsNull())
    return out;
  try {
    parser p{ctx, index, out};
    if (auto err = p.top(located{doc, "", doc.Mark()}))
      return err;
  } catch (const std::exception& e) {
    return make_error(errc::internal,
                      ctx.file
                        + ": internal error while reading the "
                          "scenario: "
                        + e.what(),
                      "please report this with the file that caused it");
  }
  return out;
}

result<scenario> load_scenario(const std::filesystem::path& path,
                               const catalog_index& index) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::invalid_argument,
                      "sim: cannot read the scenario file " + path.string(),
                      "check sim.scenario in the configuration: the file "
                      "must exist and be readable");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), path.string(), index);
}

} // namespace sky::providers::sim
