// Placement on one catalog cloud: filter the cloud's offers by the request,
// keep the cheapest offer per region (on demand) or per zone (spot), as
// SkyPilot does, and explain what is left out.

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "messages/suggest.hpp"
#include "optimizer/placement/placement_internal.hpp"

namespace sky::optimizer::detail {

namespace {

constexpr double eps = 1e-6;

bool cpus_match(double vcpus, const task::cpus_spec& c) {
  return c.at_least ? vcpus >= c.value - eps : std::abs(vcpus - c.value) < eps;
}

bool memory_match(const offer& o, const task::memory_spec& m) {
  switch (m.mode) {
    case task::memory_spec::kind::exact:
      return std::abs(o.memory_gib - m.value) < eps;
    case task::memory_spec::kind::at_least:
      return o.memory_gib >= m.value - eps;
    case task::memory_spec::kind::per_cpu:
      return o.memory_gib >= o.vcpus * m.value - eps;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

/// A region filter matches the region's name, or for vast-style regions
/// ("Taiwan, TW, AS") any of its comma-separated parts ("TW", "AS").
bool region_matches(std::string_view region, std::string_view wanted) {
  if (iequals(region, wanted))
    return true;
  if (region.find(',') == std::string_view::npos)
    return false;
  while (!region.empty()) {
    auto comma = region.find(',');
    auto part = trim(region.substr(0, comma));
    if (!part.empty() && iequals(part, wanted))
      return true;
    if (comma == std::string_view::npos)
      break;
    region.remove_prefix(comma + 1);
  }
  return false;
}

std::string wildcard_free(const std::string& s) {
  return s == "*" ? std::string{} : s;
}

/// A blocklist entry resolved against one cloud's dense indices.
struct compiled_block {
  size_t entry = 0;
  block_scope scope = block_scope::cloud;
  uint32_t region = 0;
  uint32_t zone = 0;
  bool any_type = true;
  name_id type = 0;
};

std::vector<compiled_block> compile_blocks(const catalog& cat,
                                           const cloud_entry& cloud,
                                           const blocklist& blocked) {
  std::vector<compiled_block> out;
  const auto cloud_name = cat.name(cloud.name);
  for (size_t i = 0; i < blocked.entries.size(); ++i) {
    const auto& e = blocked.entries[i];
    if (!iequals(e.cloud, cloud_name))
      continue;
    compiled_block b;
    b.entry = i;
    b.scope = e.scope;
    if (e.instance_type) {
      auto id = cat.find_name(*e.instance_type);
      if (!id)
        continue; // blocks a type this catalog does not have
      b.any_type = false;
      b.type = *id;
    }
    // A zone entry without a zone (region-level clouds) blocks the region.
    if (b.scope == block_scope::zone && e.zone.empty())
      b.scope = block_scope::region;
    if (b.scope == block_scope::region) {
      bool found = false;
      for (uint32_t r = 0; r < cloud.regions.size(); ++r) {
        if (iequals(cat.name(cloud.regions[r]), e.region)) {
          b.region = r;
          found = true;
        }
      }
      if (!found)
        continue;
    } else if (b.scope == block_scope::zone) {
      bool found = false;
      for (uint32_t z = 0; z < cloud.zones.size(); ++z) {
        if (cloud.zones[z] != 0 && iequals(cat.name(cloud.zones[z]), e.zone)) {
          b.zone = z;
          found = true;
        }
      }
      if (!found)
        continue;
    }
    out.push_back(b);
  }
  return out;
}

class cloud_placer {
public:
  cloud_placer(const catalog& cat, const cloud_entry& cloud,
               const placement_request& req, const blocklist& blocked,
               placement_output& out)
    : cat_(cat), cloud_(cloud), req_(req), blocked_(blocked), out_(out),
      spec_(*req.spec), acc_(req.accelerator()),
      cloud_name_(cat.name(cloud.name)) {}

  void run() {
    if (!compile_location() || !compile_what())
      return;
    compile_shape();
    scan();
    emit();
  }

private:
  void exclude(std::string infra, exclusion_kind kind, std::string reason) {
    out_.exclude(std::move(infra), kind, std::move(reason), req_.alternative);
  }

  bool compile_location() {
    std::string region, zone;
    if (spec_.infra) {
      region = wildcard_free(spec_.infra->region);
      zone = wildcard_free(spec_.infra->zone);
    }
    location_ = cloud_name_;
    if (!region.empty()) {
      region_ok_.assign(cloud_.regions.size(), 0);
      bool any = false;
      for (size_t i = 0; i < cloud_.regions.size(); ++i) {
        if (region_matches(cat_.name(cloud_.regions[i]), region)) {
          region_ok_[i] = 1;
          any = true;
        }
      }
      if (!any) {
        std::vector<std::string> names;
        for (auto r : cloud_.regions)
          names.emplace_back(cat_.name(r));
        exclude(cloud_name_ + "/" + region, exclusion_kind::unknown_location,
                cloud_name_ + ": no region '" + region + "'"
                  + did_you_mean(region, names));
        return false;
      }
      region_filter_ = true;
      location_ += "/" + region;
    }
    if (!zone.empty()) {
      if (!cloud_.has_zones) {
        exclude(location_ + "/" + zone, exclusion_kind::unknown_location,
                cloud_name_
                  + ": prices per region and has no zones (asked "
                    "for zone '"
                  + zone + "')");
        return false;
      }
      zone_ok_.assign(cloud_.zones.size(), 0);
      bool any = false;
      std::vector<std::string> names;
      for (size_t i = 0; i < cloud_.zones.size(); ++i) {
        if (cloud_.zones[i] == 0)
          continue;
        if (region_filter_ && !region_ok_[cloud_.zone_region[i]])
          continue;
        names.emplace_back(cat_.name(cloud_.zones[i]));
        if (iequals(names.back(), zone)) {
          zone_ok_[i] = 1;
          any = true;
        }
      }
      if (!any) {
        exclude(location_ + "/" + zone, exclusion_kind::unknown_location,
                cloud_name_ + ": no zone '" + zone + "'"
                  + (region_filter_ ? " in region '" + region + "'" : "")
                  + did_you_mean(zone, names));
        return false;
      }
      zone_filter_ = true;
      location_ = cloud_name_ + "/" + zone;
    }
    return true;
  }

  bool compile_what() {
    if (spec_.instance_type) {
      auto id = cat_.find_name(*spec_.instance_type);
      if (!id) {
        diagnose_unknown_type();
        return false;
      }
      type_ = *id;
    }
    if (acc_ != nullptr && !acc_->name.empty()) {
      auto id = cat_.canonical_accelerator(acc_->name);
      if (!id) {
        std::vector<std::string> names;
        for (const auto& a : cat_.accelerators())
          names.emplace_back(cat_.name(a.name));
        exclude(cloud_name_, exclusion_kind::no_match,
                cloud_name_ + ": no accelerator '" + acc_->name + "'"
                  + did_you_mean(acc_->name, names));
        return false;
      }
      accelerator_ = *id;
    }
    if (acc_ != nullptr && acc_->min_memory_gib
        && !acc_->manufacturer.empty()) {
      // Manufacturer per accelerator name, looked up once, not per offer.
      maker_ok_.assign(cat_.interned_names(), 0);
      for (const auto& a : cat_.accelerators())
        maker_ok_[a.name] = iequals(a.manufacturer, acc_->manufacturer);
    }
    return true;
  }

  void compile_shape() {
    cpus_ = spec_.cpus;
    memory_ = spec_.memory;
    if (acc_ == nullptr && !spec_.instance_type) {
      if (!cpus_ && !memory_)
        cpus_ = task::cpus_spec{default_cloud_vcpus, true};
      if (!memory_)
        memory_ = task::memory_spec{default_memory_per_vcpu,
                                    task::memory_spec::kind::per_cpu};
    }
  }

  bool what_ok(const offer& o) const {
    if (type_ && o.instance_type != *type_)
      return false;
    if (acc_ != nullptr) {
      if (o.accelerator == 0
          || !accelerator_count_matches(o.accelerator_count, acc_->count))
        return false;
      if (accelerator_ != 0 && o.accelerator != accelerator_)
        return false;
      if (acc_->min_memory_gib) {
        if ((o.flags & tpu_vm) != 0)
          return false;
        if (!maker_ok_.empty() && !maker_ok_[o.accelerator])
          return false;
        return device_memory_matches(o.device_memory_gib, *acc_->min_memory_gib,
                                     acc_->memory_exact);
      }
      return true;
    }
    if (type_)
      return (o.flags & attached_accelerator) == 0;
    return o.accelerator == 0;
  }

  bool shape_ok(const offer& o) const {
    if (cpus_ && !cpus_match(o.vcpus, *cpus_))
      return false;
    if (memory_ && !memory_match(o, *memory_))
      return false;
    if (acc_ != nullptr && o.default_host_vcpus != 0) {
      // GCP GPUs on n1 hosts: SkyPilot's default host when the request
      // leaves the host open, 4 GiB per requested vCPU when only cpus is set.
      if (!spec_.cpus && !spec_.memory) {
        const double d = o.default_host_vcpus;
        if (!(o.vcpus >= d && o.memory_gib >= default_memory_per_vcpu * d))
          return false;
      } else if (spec_.cpus && !spec_.memory) {
        if (!(o.memory_gib
              >= default_memory_per_vcpu * spec_.cpus->value - eps))
          return false;
      }
    }
    return true;
  }

  std::optional<size_t> blocked_by(const offer& o) const {
    for (size_t k = 0; k < blocks_.size(); ++k) {
      const auto& b = blocks_[k];
      if (!b.any_type && o.instance_type != b.type)
        continue;
      switch (b.scope) {
        case block_scope::cloud:
          return k;
        case block_scope::region:
          if (o.region_index == b.region)
            return k;
          break;
        case block_scope::zone:
          if (o.zone != 0 && o.zone_index == b.zone)
            return k;
          break;
      }
    }
    return std::nullopt;
  }

  /// Deterministic order among equal prices.
  bool before(const offer& a, const offer& b) const {
    if (a.instance_type != b.instance_type)
      return cat_.name(a.instance_type) < cat_.name(b.instance_type);
    if (a.accelerator != b.accelerator)
      return cat_.name(a.accelerator) < cat_.name(b.accelerator);
    if (a.accelerator_count != b.accelerator_count)
      return a.accelerator_count < b.accelerator_count;
    return cat_.name(a.zone) < cat_.name(b.zone);
  }

  void scan() {
    blocks_ = compile_blocks(cat_, cloud_, blocked_);
    block_hits_.assign(blocks_.size(), 0);
    const auto offers = cat_.offers();
    best_.assign(req_.spot ? cloud_.zones.size() : cloud_.regions.size(), npos);
    for (size_t i = cloud_.begin; i < cloud_.end; ++i) {
      const offer& o = offers[i];
      if (!what_ok(o))
        continue;
      ++n_what_;
      if (region_filter_ && !region_ok_[o.region_index])
        continue;
      if (zone_filter_ && (o.zone == 0 || !zone_ok_[o.zone_index]))
        continue;
      ++n_location_;
      if (!shape_ok(o))
        continue;
      ++n_shape_;
      const double p = req_.spot ? o.spot_price : o.price;
      if (std::isnan(p))
        continue;
      ++n_price_;
      if (auto k = blocked_by(o)) {
        ++block_hits_[*k];
        continue;
      }
      const size_t g = req_.spot ? o.zone_index : o.region_index;
      size_t& b = best_[g];
      if (b == npos) {
        b = i;
      } else {
        const offer& cur = offers[b];
        const double cp = req_.spot ? cur.spot_price : cur.price;
        if (p < cp || (p == cp && before(o, cur)))
          b = i;
      }
      if (!req_.spot)
        matched_.push_back(i);
    }
  }

  candidate make_candidate(const offer& o, double per_node) const {
    candidate c;
    c.cloud = cloud_name_;
    c.region = std::string{cat_.name(o.region)};
    if (req_.spot && o.zone != 0) {
      c.zone = std::string{cat_.name(o.zone)};
      c.zones.push_back(c.zone);
    }
    c.instance_type = std::string{cat_.name(o.instance_type)};
    if (o.accelerator != 0) {
      c.accelerator = std::string{cat_.name(o.accelerator)};
      c.accelerator_count = o.accelerator_count;
    }
    c.vcpus = o.vcpus;
    c.memory_gib = o.memory_gib;
    c.use_spot = req_.spot;
    c.num_nodes = req_.num_nodes;
    c.price_per_node = per_node;
    c.hourly_price = per_node * req_.num_nodes;
    c.alternative = req_.alternative;
    c.tier = req_.tier;
    return c;
  }

  void emit() {
    const auto offers = cat_.offers();
    const auto max_cost = spec_.max_hourly_cost;
    size_t groups = 0, too_expensive = 0;
    double cheapest_excluded = std::numeric_limits<double>::infinity();
    const size_t first = out_.candidates.size();
    // Candidate index per region, to collect on-demand zones below.
    std::vector<size_t> candidate_of(best_.size(), npos);
    for (size_t g = 0; g < best_.size(); ++g) {
      if (best_[g] == npos)
        continue;
      ++groups;
      const offer& o = offers[best_[g]];
      const double per_node = req_.spot ? o.spot_price : o.price;
      const double total = per_node * req_.num_nodes;
      if (max_cost && total > *max_cost + 1e-9) {
        ++too_expensive;
        cheapest_excluded = std::min(cheapest_excluded, total);
        continue;
      }
      candidate_of[g] = out_.candidates.size();
      out_.candidates.push_back(make_candidate(o, per_node));
    }
    if (!req_.spot && cloud_.has_zones) {
      for (size_t i : matched_) {
        const offer& o = offers[i];
        const size_t c = candidate_of[o.region_index];
        if (c == npos || o.zone == 0)
          continue;
        const offer& w = offers[best_[o.region_index]];
        if (o.instance_type != w.instance_type || o.accelerator != w.accelerator
            || o.accelerator_count != w.accelerator_count)
          continue;
        out_.candidates[c].zones.emplace_back(cat_.name(o.zone));
      }
      for (size_t c = first; c < out_.candidates.size(); ++c) {
        auto& z = out_.candidates[c].zones;
        std::sort(z.begin(), z.end());
        z.erase(std::unique(z.begin(), z.end()), z.end());
      }
    }
    for (size_t k = 0; k < blocks_.size(); ++k) {
      if (block_hits_[k] == 0)
        continue;
      const auto& e = blocked_.entries[blocks_[k].entry];
      exclude(scope_text(e), exclusion_kind::blocked, block_reason(e));
    }
    if (too_expensive > 0) {
      const std::string prices
        = format_price(cheapest_excluded) + " > " + format_price(*max_cost);
      if (too_expensive == groups)
        exclude(location_, exclusion_kind::too_expensive,
                cloud_name_ + ": exceeds max_hourly_cost (" + prices + ")");
      else
        exclude(location_, exclusion_kind::too_expensive,
                cloud_name_ + ": " + std::to_string(too_expensive) + " of "
                  + std::to_string(groups) + (req_.spot ? " zones" : " regions")
                  + " exceed max_hourly_cost (cheapest " + prices + ")");
    }
    if (groups > 0)
      return;
    if (n_what_ == 0)
      return diagnose_what();
    if (n_location_ == 0)
      return exclude(location_, exclusion_kind::no_match,
                     "no " + describe_what(req_) + " in " + location_);
    const std::string where
      = location_ == cloud_name_ ? std::string{} : " in " + location_;
    if (n_shape_ == 0)
      return exclude(location_, exclusion_kind::no_match,
                     cloud_name_ + ": no instance type with "
                       + describe_shape(req_, cpus_, memory_) + where);
    if (n_price_ == 0)
      return exclude(location_, exclusion_kind::no_price,
                     cloud_name_ + ": no " + (req_.spot ? "spot" : "on-demand")
                       + " offer for " + describe_shape(req_, cpus_, memory_)
                       + where);
    // Otherwise everything left was blocked, reported above.
  }

  void diagnose_unknown_type() {
    std::vector<std::string> names;
    std::set<name_id> seen;
    for (const auto& o : cat_.offers_of(cloud_))
      if (seen.insert(o.instance_type).second)
        names.emplace_back(cat_.name(o.instance_type));
    exclude(cloud_name_, exclusion_kind::no_match,
            cloud_name_ + ": no instance type '" + *spec_.instance_type + "'"
              + did_you_mean(*spec_.instance_type, names));
  }

  void diagnose_what() {
    const auto offers = cat_.offers_of(cloud_);
    if (type_) {
      bool has_type
        = std::any_of(offers.begin(), offers.end(), [&](const offer& o) {
            return o.instance_type == *type_;
          });
      if (!has_type)
        return diagnose_unknown_type();
      return exclude(cloud_name_, exclusion_kind::no_match,
                     cloud_name_ + ": " + *spec_.instance_type
                       + (acc_ ? " does not come with " + to_string(*acc_)
                               : std::string{" needs an accelerator"}));
    }
    if (acc_ == nullptr)
      return exclude(cloud_name_, exclusion_kind::no_match,
                     cloud_name_
                       + ": offers no instance type without accelerators");
    if (accelerator_ != 0) {
      const auto& offered = cloud_.accelerators;
      if (std::find(offered.begin(), offered.end(), accelerator_)
          == offered.end())
        return exclude(cloud_name_, exclusion_kind::no_match,
                       cloud_name_ + ": does not offer "
                         + std::string{cat_.name(accelerator_)});
      std::set<double> counts;
      for (const auto& o : offers)
        if (o.accelerator == accelerator_)
          counts.insert(o.accelerator_count);
      std::string list;
      for (double c : counts)
        list += (list.empty() ? "" : ", ") + format_number(c);
      return exclude(cloud_name_, exclusion_kind::no_match,
                     cloud_name_ + ": no " + to_string(*acc_)
                       + " (counts offered: " + list + ")");
    }
    exclude(cloud_name_, exclusion_kind::no_match,
            cloud_name_ + ": no " + to_string(*acc_) + " (no "
              + format_number(acc_->count) + "x "
              + (acc_->manufacturer.empty() ? "" : acc_->manufacturer + " ")
              + "GPU with " + (acc_->memory_exact ? "" : "at least ")
              + format_number(acc_->min_memory_gib.value_or(0)) + " GB each)");
  }

  static constexpr size_t npos = static_cast<size_t>(-1);

  const catalog& cat_;
  const cloud_entry& cloud_;
  const placement_request& req_;
  const blocklist& blocked_;
  placement_output& out_;
  const task::resources_spec& spec_;
  const task::accelerator_spec* acc_;
  std::string cloud_name_;
  std::string location_;

  std::vector<char> region_ok_, zone_ok_, maker_ok_;
  bool region_filter_ = false;
  bool zone_filter_ = false;
  std::optional<name_id> type_;
  name_id accelerator_ = 0;
  std::optional<task::cpus_spec> cpus_;
  std::optional<task::memory_spec> memory_;
  std::vector<compiled_block> blocks_;
  std::vector<size_t> block_hits_;
  std::vector<size_t> best_;
  std::vector<size_t> matched_;
  size_t n_what_ = 0, n_location_ = 0, n_shape_ = 0, n_price_ = 0;
};

} // namespace

void place_on_cloud(const catalog& cat, const cloud_entry& cloud,
                    const placement_request& req, const blocklist& blocked,
                    placement_output& out) {
  cloud_placer{cat, cloud, req, blocked, out}.run();
}

} // namespace sky::optimizer::detail
