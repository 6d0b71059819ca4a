#pragma once

// Pieces of optimize() shared by its translation units (cloud placement,
// fixed-capacity placement, message texts). Not a public interface.

#include <optional>
#include <string>
#include <vector>

#include "optimizer/placement/optimizer.hpp"

namespace sky::optimizer::detail {

/// One concrete alternative being placed.
struct placement_request {
  const task::resources_spec* spec = nullptr;
  size_t alternative = 0;
  size_t tier = 0;
  int num_nodes = 1;
  bool spot = false;

  const task::accelerator_spec* accelerator() const {
    return spec->accelerators.empty() ? nullptr : &spec->accelerators.front();
  }
};

/// Where the results of one placement go.
struct placement_output {
  std::vector<candidate>& candidates;
  std::vector<exclusion>& exclusions;

  void exclude(std::string infra, exclusion_kind kind, std::string reason,
               size_t alternative) {
    exclusions.push_back(
      exclusion{std::move(infra), kind, std::move(reason), alternative});
  }
};

/// Defaults for CPU-only requests on clouds (SkyPilot's
/// get_default_instance_type for AWS, GCP and Azure): with neither cpus nor
/// memory given, at least 8 vCPUs; with memory not given, at least 4 GiB
/// per vCPU.
inline constexpr double default_cloud_vcpus = 8;
inline constexpr double default_memory_per_vcpu = 4;
/// Fixed-capacity infra has no default shape: a node reserves what the task
/// states and nothing more (fixed_placement.cpp).

/// Accelerator counts are compared with SkyPilot's tolerance; a fractional
/// request (< 1 device) is served by a whole device.
bool accelerator_count_matches(double offered, double requested);

/// Device memory is compared in whole GiB: vendors report a little less
/// than the nominal size (an "80 GB" H100 reports 79.6 GiB). `exact` is
/// `80GB:8`, otherwise `80GB+:8`.
bool device_memory_matches(double device_gib, double wanted_gib, bool exact);

/// "8+ vCPUs", "8 vCPUs".
std::string describe_cpus(const task::cpus_spec& c);
/// "32+ GiB memory", "32 GiB memory", "4 GiB memory per vCPU".
std::string describe_memory(const task::memory_spec& m);
/// What the request asks for, e.g. "64+ vCPUs and A100:8", with the
/// effective cpus/memory (`cpus`, `memory` may carry defaults).
std::string describe_shape(const placement_request& req,
                           const std::optional<task::cpus_spec>& cpus,
                           const std::optional<task::memory_spec>& memory);
/// The accelerator or, without one, the instance type or "CPU instance".
std::string describe_what(const placement_request& req);

/// "$2.65/h".
std::string format_price(double per_hour);

/// Places `req` on one cloud of the catalog.
void place_on_cloud(const catalog& cat, const cloud_entry& cloud,
                    const placement_request& req, const blocklist& blocked,
                    placement_output& out);

/// Places `req` on one fixed-capacity infra.
void place_on_fixed(const catalog& cat, const fixed_capacity_infra& infra,
                    const placement_request& req, const blocklist& blocked,
                    placement_output& out);

} // namespace sky::optimizer::detail
