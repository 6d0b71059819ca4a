#pragma once

// What the simulated clouds know of the price catalog: which clouds,
// regions, zones, instance types and accelerators exist and where, indexed
// by name for scenario validation, admin verbs and run_instances. Built
// once from an immutable optimizer::catalog.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/result.hpp"
#include "optimizer/placement/catalog.hpp"

namespace sky::providers::sim {

/// One purchasable shape in one place, as the simulator needs it.
struct shape {
  std::string instance_type;
  /// Canonical accelerator name; empty when none.
  std::string accelerator;
  double accelerator_count = 0;
  /// 0 when the catalog does not say (GCP TPU VMs).
  double vcpus = 0;
  bool on_demand = false;
  bool spot = false;
  /// GCP: a GPU attached to a flexible n1 host (the same instance type is
  /// also offered bare).
  bool attached = false;
};

/// Regions, zones and names of one cloud.
struct cloud_places {
  std::string name;
  /// False for clouds priced per region (azure, lambda): they have no zones.
  bool has_zones = false;
  /// Catalog order.
  std::vector<std::string> regions;
  /// Region -> its zones, catalog order.
  std::map<std::string, std::vector<std::string>> zones;
  /// Zone -> its region.
  std::map<std::string, std::string> zone_region;
  /// Sorted.
  std::vector<std::string> instance_types;
  /// Canonical names, sorted.
  std::vector<std::string> accelerators;
  /// "<region>/<zone>" ("<region>/" for clouds without zones) -> instance
  /// type -> shapes.
  std::unordered_map<std::string, std::map<std::string, std::vector<shape>>>
    offers;
  /// Instance types and accelerators offered per "<region>" and per
  /// "<region>/<zone>".
  std::unordered_map<std::string, std::set<std::string>> names_at;
};

/// A name in a scenario or admin verb: an instance type or an accelerator.
struct resolved_name {
  /// Exact instance type, or the canonical accelerator name.
  std::string name;
  bool accelerator = false;
};

class catalog_index {
public:
  explicit catalog_index(const optimizer::catalog& cat);

  /// nullptr when the catalog has no such cloud.
  const cloud_places* cloud(std::string_view name) const;
  std::vector<std::string> cloud_names() const;

  /// The cloud, or errc::invalid_argument "unknown cloud 'x' (did you mean
  /// 'y'?)" with the known ones in the hint.
  result<const cloud_places*> find_cloud(std::string_view name) const;
  /// Errors name the region and the nearest known one.
  result<void> check_region(const cloud_places& c,
                            std::string_view region) const;
  /// The zone must exist in `region`; clouds without zones have none.
  result<void> check_zone(const cloud_places& c, std::string_view region,
                          std::string_view zone) const;
  /// An instance type (exact) or an accelerator the cloud offers (any
  /// case).
  result<resolved_name> resolve_name(const cloud_places& c,
                                     std::string_view text) const;
  /// Whether `name` is offered in the place: `region` empty = anywhere in
  /// the cloud, `zone` empty = anywhere in the region.
  bool offered(const cloud_places& c, const std::string& region,
               const std::string& zone, const std::string& name) const;
  /// "offered in: a, b, c" (at most a few places) for refusals.
  std::string where_offered(const cloud_places& c,
                            const std::string& name) const;

  /// What a request for `instance_type` in region/zone gets. `gpus` (the
  /// request's per-node accelerators, when it states them) picks among
  /// GCP's host+GPU shapes; otherwise the bare instance type is meant.
  /// errc::invalid_argument when the type is not offered there.
  result<shape> shape_for(const cloud_places& c, const std::string& region,
                          const std::string& zone,
                          const std::string& instance_type,
                          const std::map<std::string, double>& gpus) const;

private:
  std::vector<cloud_places> clouds_;
};

/// "<cloud>/<region>/<zone>", "<cloud>/<region>" or "<cloud>".
std::string place_text(std::string_view cloud, std::string_view region = {},
                       std::string_view zone = {});

} // namespace sky::providers::sim
