#pragma once

// Price catalogs in SkyPilot's format (`<dir>/<cloud>/vms.csv`, schema v8),
// loaded into one flat, interned table of offers. See docs/OPTIMIZER.md for
// the format and how defects in real catalogs are handled.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"
#include "optimizer/placement/string_pool.hpp"

namespace sky::optimizer {

/// One purchasable shape in one place: a catalog row, or for GCP a host VM
/// row combined with an accelerator row (GCP prices GPUs apart from VMs).
struct offer {
  name_id cloud = 0;
  name_id region = 0;
  /// 0 (empty) for clouds priced per region (azure, lambda, vast).
  name_id zone = 0;
  name_id instance_type = 0;
  /// 0 when the offer has no accelerator.
  name_id accelerator = 0;
  /// Dense indices of region and zone within the offer's cloud, so the
  /// optimizer can keep "cheapest per region/zone" in plain arrays. For
  /// region-level clouds zone_index == region_index.
  uint32_t region_index = 0;
  uint32_t zone_index = 0;
  uint16_t flags = 0;
  /// GCP GPUs attached to a general-purpose n1 host: the host vCPUs SkyPilot
  /// picks when the request names no cpus/memory (0 = not such an offer).
  uint16_t default_host_vcpus = 0;
  double accelerator_count = 0;
  /// NaN when the catalog does not say (e.g. GCP TPU VMs).
  double vcpus = std::nan("");
  double memory_gib = std::nan("");
  /// Memory of one accelerator device in GiB; NaN when unknown.
  double device_memory_gib = std::nan("");
  /// Hourly on-demand price of one node; NaN when not offered on demand.
  double price = std::nan("");
  /// Hourly spot price of one node; NaN when there is no spot offer.
  double spot_price = std::nan("");

  bool has_price() const { return !std::isnan(price); }
  bool has_spot() const { return !std::isnan(spot_price); }
};

/// offer::flags bits.
enum offer_flag : uint16_t {
  /// GCP: a GPU attached to a flexible n1 host. Matches only requests that
  /// ask for the accelerator (a bare `instance_type: n1-standard-8` is the
  /// plain VM, not the VM with every GPU that could be attached).
  attached_accelerator = 1,
  /// GCP: a TPU VM (the host costs nothing extra; vCPUs/memory unknown).
  tpu_vm = 2,
};

/// A row that could not be used, as `file:line: reason`.
struct catalog_diagnostic {
  std::string file;
  size_t line = 0;
  std::string reason;

  std::string to_string() const;
};

/// What loading one file produced.
struct catalog_file_stats {
  std::string cloud;
  std::string file;
  /// Data rows read (header excluded).
  size_t rows = 0;
  /// Offers the file contributed (for GCP, after pairing accelerators).
  size_t offers = 0;
  /// Malformed rows, listed or not.
  size_t malformed = 0;
};

/// Per-cloud view of the catalog.
struct cloud_entry {
  name_id name = 0;
  /// Range of the cloud's offers in catalog::offers().
  size_t begin = 0;
  size_t end = 0;
  /// Region and zone names by dense index (offer::region_index/zone_index).
  std::vector<name_id> regions;
  std::vector<name_id> zones;
  /// Region of each zone (by dense index).
  std::vector<uint32_t> zone_region;
  /// False when the cloud prices per region only.
  bool has_zones = false;
  /// Accelerator names the cloud offers.
  std::vector<name_id> accelerators;
};

/// Everything known about one accelerator name across loaded catalogs.
struct accelerator_entry {
  name_id name = 0;
  /// Device memory in GiB (most common value across rows); NaN if unknown.
  double device_memory_gib = std::nan("");
  /// "NVIDIA", "AMD", "Intel", "Google", ...: GpuInfo's Manufacturer where a
  /// catalog gives one for this name, else inferred from the name (see
  /// docs/OPTIMIZER.md).
  std::string manufacturer;
};

/// Immutable after loading. Move-only (offers refer to interned names);
/// share it as `std::shared_ptr<const catalog>`.
class catalog {
public:
  catalog() = default;
  catalog(catalog&&) = default;
  catalog& operator=(catalog&&) = default;

  std::span<const offer> offers() const { return offers_; }
  std::span<const offer> offers_of(const cloud_entry& c) const {
    return std::span<const offer>{offers_}.subspan(c.begin, c.end - c.begin);
  }
  const std::vector<cloud_entry>& clouds() const { return clouds_; }
  /// The cloud called `name` (lower case, e.g. "gcp").
  const cloud_entry* cloud(std::string_view name) const;

  std::string_view name(name_id id) const { return names_.view(id); }
  std::optional<name_id> find_name(std::string_view s) const {
    return names_.find(s);
  }

  /// Canonical spelling of an accelerator name, matched case-insensitively
  /// (`a100` -> `A100`); nullopt when no loaded catalog knows it.
  std::optional<name_id> canonical_accelerator(std::string_view name) const;
  /// Every accelerator name known (catalog rows and common/accelerators.csv).
  const std::vector<accelerator_entry>& accelerators() const {
    return accelerators_;
  }
  /// Device memory of accelerator `name` in GiB, when any catalog says.
  std::optional<double> device_memory_gib(name_id name) const;
  /// Manufacturer of accelerator `name` ("" when not an accelerator).
  std::string_view manufacturer(name_id name) const;

  /// Number of distinct interned names (for memory figures).
  size_t interned_names() const { return names_.size(); }

private:
  friend class catalog_builder;

  string_pool names_;
  std::vector<offer> offers_;
  std::vector<cloud_entry> clouds_;
  std::vector<accelerator_entry> accelerators_;
  /// Lower-cased name -> index in accelerators_, sorted by key.
  std::vector<std::pair<std::string, uint32_t>> accelerator_index_;
};

/// A loaded catalog plus what went wrong on the way.
struct catalog_load_result {
  catalog cat;
  /// Malformed rows, at most `max_listed_diagnostics` per file.
  std::vector<catalog_diagnostic> diagnostics;
  /// Malformed rows that were counted but not listed.
  size_t unlisted_diagnostics = 0;
  std::vector<catalog_file_stats> files;
};

/// Per file, how many malformed rows are listed one by one.
inline constexpr size_t max_listed_diagnostics = 20;

/// Collects catalog texts, then builds the catalog. Use it directly for
/// catalogs that are not laid out as `<dir>/<cloud>/vms.csv`.
class catalog_builder {
public:
  catalog_builder();
  ~catalog_builder();
  catalog_builder(catalog_builder&&) noexcept;
  catalog_builder& operator=(catalog_builder&&) noexcept;

  /// Parses one `vms.csv` text for `cloud`; `file` names it in diagnostics.
  void add_vms_csv(std::string_view cloud, std::string text,
                   std::string_view file);

  /// Parses `common/accelerators.csv` (canonical accelerator names).
  void add_accelerators_csv(std::string text, std::string_view file);

  /// Pairs GCP accelerators with hosts, indexes, and hands the catalog over.
  catalog_load_result finish() &&;

private:
  struct state;
  std::unique_ptr<state> state_;
};

/// Loads `<dir>/<cloud>/vms.csv` for each of `clouds` (lower case), or for
/// every subfolder holding a vms.csv when `clouds` is empty, plus
/// `<dir>/common/accelerators.csv` when present. A named cloud without a
/// catalog, or a missing `dir`, is an error; malformed rows are diagnostics.
result<catalog_load_result> load_catalogs(const std::filesystem::path& dir,
                                          const std::vector<std::string>& clouds
                                          = {});

/// Reads a whole file; an error value when it cannot be read.
result<std::string> read_text_file(const std::filesystem::path& path);

} // namespace sky::optimizer
