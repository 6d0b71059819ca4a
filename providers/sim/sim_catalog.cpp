#include "providers/sim/sim_catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "messages/suggest.hpp"

namespace sky::providers::sim {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& ch : out)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

/// "a, b, c" with at most `limit` names, then ", ..." (hints stay short
/// even for a cloud with hundreds of instance types).
std::string list_some(const std::vector<std::string>& names,
                      size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i > 0)
      out += ", ";
    out += names[i];
  }
  if (names.size() > limit)
    out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end())
    v.push_back(s);
}

} // namespace

std::string place_text(std::string_view cloud, std::string_view region,
                       std::string_view zone) {
  std::string out{cloud};
  if (!region.empty()) {
    out += '/';
    out += region;
    if (!zone.empty()) {
      out += '/';
      out += zone;
    }
  }
  return out;
}

catalog_index::catalog_index(const optimizer::catalog& cat) {
  for (const auto& entry : cat.clouds()) {
    cloud_places c;
    c.name = std::string{cat.name(entry.name)};
    c.has_zones = entry.has_zones;
    for (auto id : entry.regions)
      c.regions.emplace_back(cat.name(id));
    if (c.has_zones) {
      for (size_t z = 0; z < entry.zones.size(); ++z) {
        std::string zone{cat.name(entry.zones[z])};
        const auto& region = c.regions.at(entry.zone_region.at(z));
        add_unique(c.zones[region], zone);
        c.zone_region[zone] = region;
      }
    }
    std::set<std::string> types;
    std::set<std::string> accelerators;
    for (const auto& o : cat.offers_of(entry)) {
      shape s;
      s.instance_type = std::string{cat.name(o.instance_type)};
      if (s.instance_type.empty())
        continue;
      s.accelerator = std::string{cat.name(o.accelerator)};
      s.accelerator_count = o.accelerator_count;
      s.vcpus = std::isnan(o.vcpus) ? 0 : o.vcpus;
      s.on_demand = o.has_price();
      s.spot = o.has_spot();
      s.attached = (o.flags & optimizer::attached_accelerator) != 0;
      std::string region{cat.name(o.region)};
      std::string zone = c.has_zones ? std::string{cat.name(o.zone)} : "";
      types.insert(s.instance_type);
      auto& at_region = c.names_at[region];
      auto& at_zone = c.names_at[region + "/" + zone];
      at_region.insert(s.instance_type);
      at_zone.insert(s.instance_type);
      if (!s.accelerator.empty()) {
        accelerators.insert(s.accelerator);
        at_region.insert(s.accelerator);
        at_zone.insert(s.accelerator);
      }
      c.offers[region + "/" + zone][s.instance_type].push_back(std::move(s));
    }
    c.instance_types.assign(types.begin(), types.end());
    c.accelerators.assign(accelerators.begin(), accelerators.end());
    clouds_.push_back(std::move(c));
  }
}

const cloud_places* catalog_index::cloud(std::string_view name) const {
  for (const auto& c : clouds_)
    if (c.name == name)
      return &c;
  return nullptr;
}

std::vector<std::string> catalog_index::cloud_names() const {
  std::vector<std::string> out;
  for (const auto& c : clouds_)
    out.push_back(c.name);
  return out;
}

result<const cloud_places*>
catalog_index::find_cloud(std::string_view name) const {
  if (const auto* c = cloud(name))
    return c;
  auto known = cloud_names();
  return make_error(
    errc::invalid_argument,
    "unknown cloud '" + std::string{name} + "'" + did_you_mean(name, known),
    known.empty() ? "the price catalog holds no cloud: check "
                    "catalogs.dir"
                  : "clouds in the catalog: " + list_some(known));
}

result<void> catalog_index::check_region(const cloud_places& c,
                                         std::string_view region) const {
  if (std::find(c.regions.begin(), c.regions.end(), region) != c.regions.end())
    return {};
  std::string hint = "regions of " + c.name + ": " + list_some(c.regions);
  if (c.zone_region.count(std::string{region}) > 0)
    hint = "'" + std::string{region} + "' is a zone of region "
           + c.zone_region.at(std::string{region}) + "; put it under that "
           + "region's zones";
  return make_error(errc::invalid_argument,
                    "unknown region '" + std::string{region} + "' of " + c.name
                      + did_you_mean(region, c.regions),
                    std::move(hint));
}

result<void> catalog_index::check_zone(const cloud_places& c,
                                       std::string_view region,
                                       std::string_view zone) const {
  if (!c.has_zones)
    return make_error(errc::invalid_argument,
                      c.name + " has no zones (it is priced per region), so "
                        + "zone '" + std::string{zone} + "' does not exist",
                      "state the settings on region " + std::string{region}
                        + " itself");
  auto it = c.zones.find(std::string{region});
  static const std::vector<std::string> none;
  const auto& zones = it == c.zones.end() ? none : it->second;
  if (std::find(zones.begin(), zones.end(), zone) != zones.end())
    return {};
  std::string hint
    = "zones of " + place_text(c.name, region) + ": " + list_some(zones);
  if (auto other = c.zone_region.find(std::string{zone});
      other != c.zone_region.end())
    hint = "zone " + std::string{zone} + " is in region " + other->second
           + ", not " + std::string{region};
  return make_error(errc::invalid_argument,
                    "unknown zone '" + std::string{zone} + "' in "
                      + place_text(c.name, region) + did_you_mean(zone, zones),
                    std::move(hint));
}

result<resolved_name> catalog_index::resolve_name(const cloud_places& c,
                                                  std::string_view text) const {
  std::string s{text};
  if (std::binary_search(c.instance_types.begin(), c.instance_types.end(), s))
    return resolved_name{s, false};
  auto key = lower(text);
  for (const auto& a : c.accelerators)
    if (lower(a) == key)
      return resolved_name{a, true};
  std::vector<std::string> known = c.instance_types;
  known.insert(known.end(), c.accelerators.begin(), c.accelerators.end());
  return make_error(errc::invalid_argument,
                    "unknown instance type or accelerator '" + s + "' of "
                      + c.name + did_you_mean(text, known),
                    "accelerators of " + c.name + ": "
                      + list_some(c.accelerators)
                      + "; instance types are spelled as in the catalog "
                        "(e.g. "
                      + list_some(c.instance_types, 3) + ")");
}

bool catalog_index::offered(const cloud_places& c, const std::string& region,
                            const std::string& zone,
                            const std::string& name) const {
  if (region.empty())
    return std::binary_search(c.instance_types.begin(), c.instance_types.end(),
                              name)
           || std::binary_search(c.accelerators.begin(), c.accelerators.end(),
                                 name);
  auto it = c.names_at.find(zone.empty() ? region : region + "/" + zone);
  return it != c.names_at.end() && it->second.count(name) > 0;
}

std::string catalog_index::where_offered(const cloud_places& c,
                                         const std::string& name) const {
  std::vector<std::string> places;
  for (const auto& region : c.regions) {
    if (!offered(c, region, "", name))
      continue;
    if (!c.has_zones) {
      places.push_back(region);
      continue;
    }
    for (const auto& zone : c.zones.at(region))
      if (offered(c, region, zone, name))
        places.push_back(region + "/" + zone);
  }
  if (places.empty())
    return name + " is offered nowhere in " + c.name;
  return name + " is offered in " + list_some(places, 6);
}

result<shape>
catalog_index::shape_for(const cloud_places& c, const std::string& region,
                         const std::string& zone,
                         const std::string& instance_type,
                         const std::map<std::string, double>& gpus) const {
  auto at = c.offers.find(region + "/" + (c.has_zones ? zone : ""));
  if (at != c.offers.end()) {
    auto it = at->second.find(instance_type);
    if (it != at->second.end() && !it->second.empty()) {
      const auto& shapes = it->second;
      // The request names its accelerator only when it reserves one; GCP
      // offers one instance type bare and with several attached GPUs.
      for (const auto& [gpu, count] : gpus)
        for (const auto& s : shapes)
          if (lower(s.accelerator) == lower(gpu)
              && std::abs(s.accelerator_count - count) < 1e-9)
            return s;
      for (const auto& s : shapes)
        if (!s.attached)
          return s;
      return shapes.front();
    }
  }
  return make_error(errc::invalid_argument,
                    "instance type '" + instance_type + "' is not offered in "
                      + place_text(c.name, region, zone),
                    where_offered(c, instance_type));
}

} // namespace sky::providers::sim
