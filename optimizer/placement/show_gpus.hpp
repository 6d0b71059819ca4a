#pragma once

// Data behind `skyctl show-gpus` (alias `gpus list`): which accelerators
// exist, in which counts, with how much memory, and the cheapest offer per
// cloud and region.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "optimizer/placement/catalog.hpp"
#include "optimizer/placement/infra.hpp"

namespace sky::optimizer {

/// `show-gpus [NAME[:COUNT]] [--infra cloud[/region]]`.
struct gpu_filter {
  /// Case-insensitive part of the accelerator name ("a100" lists A100 and
  /// A100-80GB, as SkyPilot's does); empty = all.
  std::string name;
  std::optional<double> count;
  /// Cloud or fixed-capacity provider; empty = all enabled.
  std::string infra;
  /// Region (or pool) within `infra`; empty = all.
  std::string region;
};

/// Parses "NAME[:COUNT]" (COUNT a positive number) into name and count.
result<gpu_filter> parse_gpu_filter(std::string_view text);

/// The cheapest way to get `count` of an accelerator in one region.
struct gpu_offer {
  std::string cloud;
  std::string region;
  double count = 0;
  /// Cheapest on-demand instance type and its hourly price.
  std::string instance_type;
  double vcpus = 0;
  double memory_gib = 0;
  std::optional<double> price;
  /// Cheapest spot price in the region (any zone) and its instance type.
  std::optional<double> spot_price;
  std::string spot_instance_type;
};

struct gpu_listing {
  std::string name;
  /// Counts offered anywhere (sorted).
  std::vector<double> counts;
  /// Memory of one device in GiB, when known.
  std::optional<double> device_memory_gib;
  /// By count, then on-demand price (missing last), cloud, region.
  std::vector<gpu_offer> offers;
};

/// Accelerators of the enabled clouds (and free GPUs of fixed-capacity
/// infra, at price 0), by name.
std::vector<gpu_listing> show_gpus(const catalog& cat,
                                   const enabled_infra& infra,
                                   const gpu_filter& filter = {});

} // namespace sky::optimizer
