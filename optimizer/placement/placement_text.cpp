// Texts of the optimizer's messages, and small matching rules shared by
// cloud and fixed-capacity placement.

#include <cmath>
#include <cstdio>

#include "optimizer/placement/placement_internal.hpp"

namespace sky::optimizer {

std::string_view to_string(exclusion_kind k) {
  switch (k) {
    case exclusion_kind::not_enabled:
      return "not_enabled";
    case exclusion_kind::unknown_location:
      return "unknown_location";
    case exclusion_kind::no_match:
      return "no_match";
    case exclusion_kind::no_price:
      return "no_price";
    case exclusion_kind::too_expensive:
      return "too_expensive";
    case exclusion_kind::blocked:
      return "blocked";
    case exclusion_kind::no_free_capacity:
      return "no_free_capacity";
    case exclusion_kind::unsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string candidate::infra() const {
  std::string out = cloud;
  if (!region.empty())
    out += "/" + region;
  if (!zone.empty())
    out += "/" + zone;
  return out;
}

namespace detail {

bool accelerator_count_matches(double offered, double requested) {
  if (std::abs(offered - requested) <= 0.01)
    return true;
  return requested < 1 && std::abs(offered - 1) <= 0.01;
}

bool device_memory_matches(double device_gib, double wanted_gib, bool exact) {
  if (std::isnan(device_gib))
    return false;
  const double rounded = std::round(device_gib);
  return exact ? std::abs(rounded - wanted_gib) < 1e-9
               : rounded >= wanted_gib - 1e-9;
}

std::string describe_cpus(const task::cpus_spec& c) {
  return format_number(c.value) + (c.at_least ? "+" : "") + " vCPUs";
}

std::string describe_memory(const task::memory_spec& m) {
  switch (m.mode) {
    case task::memory_spec::kind::exact:
      return format_number(m.value) + " GiB memory";
    case task::memory_spec::kind::at_least:
      return format_number(m.value) + "+ GiB memory";
    case task::memory_spec::kind::per_cpu:
      return format_number(m.value) + " GiB memory per vCPU";
  }
  return {};
}

std::string describe_shape(const placement_request& req,
                           const std::optional<task::cpus_spec>& cpus,
                           const std::optional<task::memory_spec>& memory) {
  std::vector<std::string> parts;
  if (cpus)
    parts.push_back(describe_cpus(*cpus));
  if (memory)
    parts.push_back(describe_memory(*memory));
  if (const auto* a = req.accelerator())
    parts.push_back(to_string(*a));
  if (req.spec->instance_type)
    parts.push_back("type " + *req.spec->instance_type);
  if (parts.empty())
    return "any shape";
  std::string out = parts.front();
  for (size_t i = 1; i < parts.size(); ++i)
    out += (i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

std::string describe_what(const placement_request& req) {
  if (const auto* a = req.accelerator())
    return to_string(*a);
  if (req.spec->instance_type)
    return *req.spec->instance_type;
  return "CPU instance";
}

std::string format_price(double per_hour) {
  char buf[48];
  if (per_hour >= 0.1 || per_hour == 0)
    std::snprintf(buf, sizeof buf, "$%.2f/h", per_hour);
  else
    std::snprintf(buf, sizeof buf, "$%.4f/h", per_hour);
  return buf;
}

} // namespace detail

} // namespace sky::optimizer
