#pragma once

// Shared between the catalog loader's translation units; not part of the
// optimizer's public interface.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "optimizer/placement/catalog.hpp"

namespace sky::optimizer::detail {

/// Offers of one cloud, in file order, before indexing.
struct cloud_rows {
  name_id cloud = 0;
  std::vector<offer> offers;
};

/// A GCP accelerator row (empty InstanceType): priced apart from the host.
struct gcp_accelerator_row {
  name_id region = 0;
  name_id zone = 0;
  name_id accelerator = 0;
  double count = 0;
  double device_memory_gib = 0;
  double price = 0;
  double spot_price = 0;
};

struct builder_state {
  string_pool names;
  std::vector<cloud_rows> clouds;
  std::vector<catalog_diagnostic> diagnostics;
  size_t unlisted_diagnostics = 0;
  std::vector<catalog_file_stats> files;
  /// Lower-cased accelerator name -> canonical interned name.
  std::unordered_map<std::string, name_id> accelerator_by_lower;
  /// Accelerator name -> device memory (MiB, rounded) -> rows saying so.
  std::map<name_id, std::map<int64_t, size_t>> memory_votes;
  /// Accelerator name -> GpuInfo Manufacturer -> rows saying so.
  std::map<name_id, std::map<std::string, size_t>> manufacturer_votes;

  cloud_rows& rows_of(name_id cloud);
  /// Interns an accelerator name under its canonical spelling: the first
  /// spelling seen for a case-insensitive name wins.
  name_id canonical_accelerator(std::string_view name);
};

/// Lower-cases ASCII letters.
std::string to_lower(std::string_view s);

/// Parses a vms.csv text into `st`. GCP accelerator rows are returned in
/// `gcp_accelerators` instead of becoming offers.
void parse_vms_csv(builder_state& st, std::string_view cloud, std::string text,
                   std::string_view file, catalog_file_stats& stats,
                   std::vector<gcp_accelerator_row>& gcp_accelerators);

/// Combines GCP accelerator rows with the host VM rows of the same zone the
/// way SkyPilot does, appending the combined offers to `rows` and dropping
/// host rows that only exist to carry accelerators.
void pair_gcp_accelerators(builder_state& st, cloud_rows& rows,
                           const std::vector<gcp_accelerator_row>& accels);

/// GpuInfo -> memory of one device in GiB. `count` is the row's accelerator
/// count; `total_memory` says the cloud writes the memory of all devices
/// together. Returns NaN when GpuInfo carries no size (e.g. Azure writes
/// just the GPU's name), and sets `error` when a size is present but
/// unreadable.
double parse_gpu_info_memory(std::string_view gpu_info, double count,
                             bool total_memory, std::string& error);

/// GpuInfo's 'Manufacturer' value ("NVIDIA"); empty when absent.
std::string_view parse_gpu_info_manufacturer(std::string_view gpu_info);

/// Manufacturer of an accelerator no catalog row names one for.
std::string infer_manufacturer(std::string_view accelerator);

} // namespace sky::optimizer::detail
