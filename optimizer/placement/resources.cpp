#include "optimizer/placement/resources.hpp"

#include <cmath>
#include <cstdio>

namespace sky::optimizer {

namespace {

using task::choice_order;
using task::resources_spec;

caf::error invalid(std::string message, std::string hint = {}) {
  return sky::make_error(errc::invalid_argument, std::move(message),
                         std::move(hint));
}

/// Checks the values of one concrete alternative.
caf::error validate(const resources_spec& r, const std::string& where) {
  if (r.cpus && !(r.cpus->value > 0))
    return invalid(where + "cpus must be positive, got "
                   + format_number(r.cpus->value));
  if (r.memory && !(r.memory->value > 0))
    return invalid(where + "memory must be positive, got "
                   + format_number(r.memory->value));
  for (const auto& a : r.accelerators) {
    if (!(a.count > 0))
      return invalid(where + "accelerator count must be positive in '"
                     + to_string(a) + "'");
    if (a.count > 1 && a.count != std::floor(a.count))
      return invalid(where + "accelerator count " + format_number(a.count)
                       + " in '" + to_string(a) + "' is not a whole number",
                     "only counts below 1 may be fractional (e.g. A10:0.5)");
    if (a.name.empty() && !a.min_memory_gib)
      return invalid(where + "accelerator without a name or memory size");
    if (a.min_memory_gib && !(*a.min_memory_gib > 0))
      return invalid(where + "accelerator memory must be positive");
  }
  if (r.max_hourly_cost && !(*r.max_hourly_cost > 0))
    return invalid(where + "max_hourly_cost must be positive, got "
                   + format_number(*r.max_hourly_cost));
  return caf::error{};
}

/// Splits an alternative by its accelerator choices: returns the concrete
/// alternatives and whether the accelerator list was ordered.
std::vector<resources_spec> split_accelerators(const resources_spec& r) {
  std::vector<resources_spec> out;
  if (r.accelerators.size() <= 1) {
    out.push_back(r);
    out.back().accelerator_order = choice_order::single;
    return out;
  }
  for (const auto& a : r.accelerators) {
    resources_spec one = r;
    one.accelerators = {a};
    one.accelerator_order = choice_order::single;
    out.push_back(std::move(one));
  }
  return out;
}

bool is_ordered_list(const resources_spec& r) {
  return r.accelerators.size() > 1
         && r.accelerator_order == choice_order::ordered;
}

} // namespace

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string to_string(const task::accelerator_spec& acc) {
  std::string name = acc.name;
  if (name.empty() && acc.min_memory_gib) {
    name = format_number(*acc.min_memory_gib) + "GB"
           + (acc.memory_exact ? "" : "+");
    if (!acc.manufacturer.empty())
      name = acc.manufacturer + ":" + name;
  }
  if (acc.count == 1)
    return name;
  return name + ":" + format_number(acc.count);
}

resources_spec inherit(const resources_spec& parent,
                       const resources_spec& child) {
  resources_spec r = child;
  auto take = [](auto& field, const auto& from) {
    if (!field)
      field = from;
  };
  take(r.infra, parent.infra);
  take(r.cpus, parent.cpus);
  take(r.memory, parent.memory);
  if (r.accelerators.empty()) {
    r.accelerators = parent.accelerators;
    r.accelerator_order = parent.accelerator_order;
    if (r.accelerator_args.empty())
      r.accelerator_args = parent.accelerator_args;
  }
  take(r.instance_type, parent.instance_type);
  take(r.use_spot, parent.use_spot);
  take(r.disk_size_gb, parent.disk_size_gb);
  take(r.disk_tier, parent.disk_tier);
  take(r.network_tier, parent.network_tier);
  if (r.ports.empty())
    r.ports = parent.ports;
  if (!r.image_id && r.image_id_by_region.empty()) {
    r.image_id = parent.image_id;
    r.image_id_by_region = parent.image_id_by_region;
  }
  take(r.max_hourly_cost, parent.max_hourly_cost);
  take(r.job_recovery, parent.job_recovery);
  take(r.autostop, parent.autostop);
  take(r.priority, parent.priority);
  // Labels merge: the alternative's own keys win.
  for (const auto& [k, v] : parent.labels)
    r.labels.emplace(k, v);
  return r;
}

result<expanded_resources> expand_resources(const resources_spec& spec) {
  if (!spec.any_of.empty() && !spec.ordered.empty())
    return invalid("resources: 'any_of' and 'ordered' cannot be used together",
                   "keep one of them");
  expanded_resources out;
  const bool top_ordered = !spec.ordered.empty();
  const auto& listed = top_ordered ? spec.ordered : spec.any_of;
  const char* key = top_ordered ? "ordered" : "any_of";

  std::vector<resources_spec> entries;
  if (listed.empty()) {
    resources_spec self = spec;
    entries.push_back(std::move(self));
  } else {
    for (size_t i = 0; i < listed.size(); ++i) {
      const auto& child = listed[i];
      if (!child.any_of.empty() || !child.ordered.empty())
        return invalid("resources." + std::string{key} + "[" + std::to_string(i)
                         + "]: nested 'any_of'/'ordered' is not supported",
                       "flatten the alternatives into one list");
      entries.push_back(inherit(spec, child));
      entries.back().any_of.clear();
      entries.back().ordered.clear();
    }
  }

  size_t tier = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    std::string where = listed.empty() ? "resources: "
                                       : "resources." + std::string{key} + "["
                                           + std::to_string(i) + "]: ";
    if (auto err = validate(e, where))
      return err;
    if (!listed.empty() && !top_ordered && is_ordered_list(e))
      return invalid(where
                       + "an ordered accelerator list inside 'any_of' is "
                         "ambiguous",
                     "use a set ({A100: 8, H100: 8}) inside any_of, or move "
                     "the preference into 'ordered'");
    auto parts = split_accelerators(e);
    const bool list_ordered = is_ordered_list(e);
    for (auto& p : parts) {
      p.any_of.clear();
      p.ordered.clear();
      out.alternatives.push_back(std::move(p));
      out.tiers.push_back(tier);
      if (list_ordered)
        ++tier;
    }
    if (top_ordered && !list_ordered)
      ++tier;
  }
  // Tiers come out consecutive from 0; more than one means a preference.
  out.ordered = !out.tiers.empty() && out.tiers.back() > 0;
  return out;
}

} // namespace sky::optimizer
