#include "optimizer/placement/infra.hpp"

namespace sky::optimizer {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z')
      x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

std::optional<size_t> blocklist::find(std::string_view cloud,
                                      std::string_view region,
                                      std::string_view zone,
                                      std::string_view instance_type) const {
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!iequals(e.cloud, cloud))
      continue;
    if (e.instance_type && *e.instance_type != instance_type)
      continue;
    switch (e.scope) {
      case block_scope::cloud:
        return i;
      case block_scope::region:
        if (iequals(e.region, region))
          return i;
        break;
      case block_scope::zone:
        // A zone entry for a region-level cloud (no zones) names the region
        // with an empty zone.
        if (iequals(e.region, region) && iequals(e.zone, zone))
          return i;
        if (e.region.empty() && !zone.empty() && iequals(e.zone, zone))
          return i;
        break;
    }
  }
  return std::nullopt;
}

std::string scope_text(const block_entry& e) {
  switch (e.scope) {
    case block_scope::cloud:
      return e.cloud;
    case block_scope::region:
      return e.region.empty() ? e.cloud : e.cloud + "/" + e.region;
    case block_scope::zone:
      if (e.zone.empty())
        return e.region.empty() ? e.cloud : e.cloud + "/" + e.region;
      // Zone names already carry their region (us-central1-a).
      return e.cloud + "/" + e.zone;
  }
  return e.cloud;
}

std::string block_reason(const block_entry& e) {
  std::string out = "blocked: " + e.reason;
  if (e.instance_type)
    out += " for " + *e.instance_type;
  out += " in " + scope_text(e);
  if (!e.source.empty())
    out += " (" + e.source + ")";
  return out;
}

} // namespace sky::optimizer
